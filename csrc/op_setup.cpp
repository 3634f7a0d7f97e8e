#include "op_setup.h"

#include <ATen/ATen.h>

#include <array>

#include "checks.h"

namespace slowbench {

RoiAlignGeometry checked_roi_geometry(
    const char* op,
    const at::Tensor& input,
    const at::Tensor& rois,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale,
    int64_t sampling_ratio,
    bool aligned) {
  check_roi_align_args(op, input, rois, pooled_h, pooled_w, spatial_scale);
  check_roi_values(op, rois, input.size(0));
  return {input.size(0), input.size(1), input.size(2), input.size(3),  input.size(4),
          pooled_h,      pooled_w,      spatial_scale, sampling_ratio, aligned};
}

std::tuple<at::Tensor, at::Tensor> empty_pooled_outputs(
    const at::Tensor& input, at::IntArrayRef sizes, bool is_max) {
  return {
      at::empty(sizes, input.options()),
      at::empty(is_max ? sizes : at::IntArrayRef({0}), input.options().dtype(at::kShort))};
}

RoiBackward prepare_roi_backward(
    const char* op,
    const at::Tensor& grad,
    const at::Tensor& rois,
    const at::Tensor* argmax,
    const RoiAlignGeometry& g,
    int64_t grad_time,
    at::ScalarType dtype,
    bool zeroed) {
  check_backward_sizes(op, grad, rois, g.batch, g.channels, g.time, g.height, g.width);
  check_grad_shape(op, grad, {rois.size(0), g.channels, grad_time, g.pooled_h, g.pooled_w});
  if (argmax != nullptr) {
    check_argmax(op, *argmax, grad, g.time);
  }
  const auto options = grad.options().dtype(dtype);
  const std::array<int64_t, 5> sizes{g.batch, g.channels, g.time, g.height, g.width};
  RoiBackward out{zeroed ? at::zeros(sizes, options) : at::empty(sizes, options), false};
  out.has_work = out.grad_input.numel() > 0 && grad.numel() > 0;
  if (!out.has_work && !zeroed) {
    out.grad_input.zero_();
  }
  return out;
}

}  // namespace slowbench
