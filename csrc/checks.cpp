#include "checks.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace slowbench {

void check_floating(const char* op, const char* name, const at::Tensor& t) {
  const auto dt = t.scalar_type();
  TORCH_CHECK(
      dt == at::kFloat || dt == at::kDouble || dt == at::kHalf || dt == at::kBFloat16, op, ": ",
      name, " must be float32, float64, float16 or bfloat16, got ", dt);
}

void check_roi_align_args(
    const char* op,
    const at::Tensor& input,
    const at::Tensor& rois,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale) {
  TORCH_CHECK(input.defined() && rois.defined(), op, ": input and rois must be defined tensors");
  TORCH_CHECK(input.dim() == 5, op, ": input must have shape [N, C, T, H, W], got ", input.sizes());
  TORCH_CHECK(
      rois.dim() == 2 && rois.size(1) == 5, op,
      ": rois must have shape [K, 5] (batch index, x1, y1, x2, y2), got ", rois.sizes());
  check_floating(op, "input", input);
  check_floating(op, "rois", rois);
  TORCH_CHECK(
      rois.device() == input.device(), op,
      ": rois must be on the same device as input, got rois on ", rois.device(), " and input on ",
      input.device());
  TORCH_CHECK(
      pooled_h > 0 && pooled_w > 0, op, ": output_size must be positive, got (", pooled_h, ", ",
      pooled_w, ")");
  TORCH_CHECK(
      std::isfinite(spatial_scale) && spatial_scale > 0, op,
      ": spatial_scale must be a finite positive number, got ", spatial_scale);
  TORCH_CHECK(
      input.size(3) > 0 && input.size(4) > 0, op,
      ": input must have a non-empty spatial extent, got shape ", input.sizes());
}

void check_roi_values(const char* op, const at::Tensor& rois, int64_t batch_size) {
  if (rois.size(0) == 0) {
    return;
  }
  const at::Tensor r = rois.to(at::kCPU, at::kDouble).contiguous();
  const double* p = r.const_data_ptr<double>();
  const int64_t K = r.size(0);
  for (int64_t k = 0; k < K; ++k) {
    const double* roi = p + 5 * k;
    const double b = roi[0];
    TORCH_CHECK(
        std::isfinite(b) && b == std::floor(b) && b >= 0 && b < static_cast<double>(batch_size), op,
        ": rois[", k, ", 0] (batch index) is ", b, ", expected an integer in [0, ", batch_size,
        ") (input has batch size ", batch_size, ")");
    for (int j = 1; j < 5; ++j) {
      TORCH_CHECK(
          std::isfinite(roi[j]), op, ": rois[", k, ", ", j, "] (box coordinate) is ", roi[j],
          "; coordinates must be finite");
    }
  }
}

void check_backward_sizes(
    const char* op,
    const at::Tensor& grad,
    const at::Tensor& rois,
    int64_t batch_size,
    int64_t channels,
    int64_t time,
    int64_t height,
    int64_t width) {
  TORCH_CHECK(
      batch_size >= 0 && channels >= 0 && time >= 0 && height >= 0 && width >= 0, op,
      ": input sizes must be non-negative, got [", batch_size, ", ", channels, ", ", time, ", ",
      height, ", ", width, "]");
  TORCH_CHECK(
      rois.dim() == 2 && rois.size(1) == 5, op, ": rois must have shape [K, 5], got ",
      rois.sizes());
  check_floating(op, "rois", rois);
  check_floating(op, "grad", grad);
  TORCH_CHECK(grad.dim() == 5, op, ": grad must have 5 dimensions, got ", grad.sizes());
  TORCH_CHECK(
      grad.size(0) == rois.size(0) && grad.size(1) == channels, op, ": grad has shape ",
      grad.sizes(), ", expected [K=", rois.size(0), ", C=", channels, ", ...]");
  TORCH_CHECK(
      rois.device() == grad.device(), op, ": rois must be on the same device as grad, got ",
      rois.device(), " and ", grad.device());
}

void check_time_steps(const char* op, const at::Tensor& input, bool is_max) {
  const int64_t T = input.size(2);
  TORCH_CHECK(T >= 1, op, ": input must have at least one time step, got shape ", input.sizes());
  TORCH_CHECK(
      !is_max || T <= std::numeric_limits<int16_t>::max(), op,
      ": max pooling supports at most 32767 time steps, got ", T);
}

void check_pool_input(const char* op, const at::Tensor& input, bool is_max) {
  TORCH_CHECK(
      input.defined() && input.dim() == 5, op, ": input must have shape [N, C, T, H, W], got ",
      input.defined() ? input.sizes() : at::IntArrayRef{});
  check_floating(op, "input", input);
  check_time_steps(op, input, is_max);
}

void check_pool_backward_args(const char* op, const at::Tensor& grad, int64_t time) {
  check_floating(op, "grad", grad);
  TORCH_CHECK(
      grad.dim() == 5 && grad.size(2) == 1, op, ": grad must have shape [N, C, 1, H, W], got ",
      grad.sizes());
  TORCH_CHECK(time >= 1, op, ": time must be >= 1, got ", time);
}

void check_argmax(const char* op, const at::Tensor& argmax, const at::Tensor& grad, int64_t time) {
  TORCH_CHECK(
      argmax.scalar_type() == at::kShort && argmax.sizes() == grad.sizes(), op,
      ": argmax must be an int16 tensor of shape ", grad.sizes(), ", got ", argmax.scalar_type(),
      " ", argmax.sizes());
  TORCH_CHECK(
      argmax.device() == grad.device(), op, ": argmax must be on the device of grad, got ",
      argmax.device(), " and ", grad.device());
  if (argmax.numel() == 0) {
    return;
  }
  const auto [lo, hi] = at::aminmax(argmax);
  const at::Tensor range = at::stack({lo, hi}).cpu();  // one device-to-host copy
  const int16_t* r = range.const_data_ptr<int16_t>();
  if (r[0] >= 0 && r[1] < time) {
    return;
  }
  // Only on the error path: find the first bad entry (in row-major order) to name it.
  const at::Tensor flat = argmax.reshape({-1}).to(at::kInt);  // int32: `time` may exceed int16
  int64_t rest = ((flat < 0) | (flat >= time)).nonzero().select(0, 0).select(0, 0).item<int64_t>();
  const int value = flat.select(0, rest).item<int>();
  std::vector<int64_t> index(argmax.dim());
  for (int64_t d = argmax.dim() - 1; d >= 0; --d) {
    index[d] = rest % argmax.size(d);
    rest /= argmax.size(d);
  }
  TORCH_CHECK(
      false, op, ": argmax", at::IntArrayRef(index), " is ", value,
      ", expected a time index in [0, ", time, ")");
}

void check_grad_shape(const char* op, const at::Tensor& grad, at::IntArrayRef expected) {
  TORCH_CHECK(
      grad.sizes() == expected, op, ": grad has shape ", grad.sizes(), ", expected ", expected);
}

bool parse_temporal_mode(const char* op, c10::string_view mode, const char* arg_name) {
  if (mode == "max") {
    return true;
  }
  TORCH_CHECK(mode == "avg", op, ": ", arg_name, " must be \"avg\" or \"max\", got \"", mode, "\"");
  return false;
}

}  // namespace slowbench
