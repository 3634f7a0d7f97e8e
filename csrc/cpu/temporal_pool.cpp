// CPU kernels of slowbench::temporal_pool ([N, C, T, H, W] -> [N, C, 1, H, W]) and its backward.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../checks.h"
#include "../op_setup.h"
#include "../roi_align_common.h"
#include "roi_taps.h"

namespace slowbench {
namespace cpu {
namespace {

constexpr const char* kOp = "temporal_pool";
constexpr const char* kBackwardOp = "temporal_pool_backward";

std::tuple<at::Tensor, at::Tensor> temporal_pool_cpu(
    const at::Tensor& input, c10::string_view mode) {
  const bool is_max = parse_temporal_mode(kOp, mode, "mode");
  check_pool_input(kOp, input, is_max);
  const int64_t N = input.size(0), C = input.size(1), T = input.size(2);
  const int64_t H = input.size(3), W = input.size(4);
  at::Tensor output, argmax;
  std::tie(output, argmax) = empty_pooled_outputs(input, {N, C, 1, H, W}, is_max);
  if (output.numel() == 0) {
    return {output, argmax};
  }
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const scalar_t* in = input.const_data_ptr<scalar_t>();
    const int64_t sN = input.stride(0), sC = input.stride(1), sT = input.stride(2);
    const int64_t sH = input.stride(3), sW = input.stride(4);
    scalar_t* out = output.mutable_data_ptr<scalar_t>();
    int16_t* arg = is_max ? argmax.mutable_data_ptr<int16_t>() : nullptr;
    const int64_t HW = H * W;
    at::parallel_for(0, N * C, grain_for(T * HW), [&](int64_t begin, int64_t end) {
      std::vector<acc_t> best(HW);
      std::vector<int16_t> best_t(HW);
      for (int64_t nc = begin; nc < end; ++nc) {
        const scalar_t* base = in + (nc / C) * sN + (nc % C) * sC;
        // t = 0 initialises, then one pass per slice; rows are contiguous when sW == 1.
        for (int64_t h = 0; h < H; ++h) {
          const scalar_t* row = base + h * sH;
          for (int64_t w = 0; w < W; ++w) {
            best[h * W + w] = static_cast<acc_t>(row[w * sW]);
          }
        }
        std::fill(best_t.begin(), best_t.end(), int16_t(0));
        for (int64_t t = 1; t < T; ++t) {
          for (int64_t h = 0; h < H; ++h) {
            const scalar_t* row = base + t * sT + h * sH;
            acc_t* b = best.data() + h * W;
            if (is_max) {
              int16_t* bt = best_t.data() + h * W;
              for (int64_t w = 0; w < W; ++w) {  // branch-free select: vectorisable
                const acc_t v = static_cast<acc_t>(row[w * sW]);
                const bool take = replaces_max(v, b[w]);
                b[w] = take ? v : b[w];
                bt[w] = take ? static_cast<int16_t>(t) : bt[w];
              }
            } else if (sW == 1) {
              for (int64_t w = 0; w < W; ++w) {
                b[w] += static_cast<acc_t>(row[w]);
              }
            } else {
              for (int64_t w = 0; w < W; ++w) {
                b[w] += static_cast<acc_t>(row[w * sW]);
              }
            }
          }
        }
        scalar_t* o = out + nc * HW;
        if (is_max) {
          std::copy(best_t.begin(), best_t.end(), arg + nc * HW);
          for (int64_t i = 0; i < HW; ++i) {
            o[i] = static_cast<scalar_t>(best[i]);
          }
        } else {
          for (int64_t i = 0; i < HW; ++i) {
            o[i] = static_cast<scalar_t>(best[i] / static_cast<acc_t>(T));
          }
        }
      }
    });
  });
  return {output, argmax};
}

at::Tensor temporal_pool_backward_cpu(
    const at::Tensor& grad, const at::Tensor& argmax, int64_t time, c10::string_view mode) {
  const bool is_max = parse_temporal_mode(kBackwardOp, mode, "mode");
  check_pool_backward_args(kBackwardOp, grad, time);
  if (is_max) {
    check_argmax(kBackwardOp, argmax, grad, time);
  }
  const int64_t N = grad.size(0), C = grad.size(1), H = grad.size(3), W = grad.size(4), T = time;
  at::Tensor grad_input = at::empty({N, C, T, H, W}, grad.options());
  if (grad_input.numel() == 0) {
    return grad_input;
  }
  const at::Tensor arg_c = is_max ? argmax.contiguous() : argmax;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), kBackwardOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const scalar_t* g = grad.const_data_ptr<scalar_t>();
    const int64_t gN = grad.stride(0), gC = grad.stride(1), gH = grad.stride(3),
                  gW = grad.stride(4);
    const int16_t* arg = is_max ? arg_c.const_data_ptr<int16_t>() : nullptr;
    scalar_t* gi = grad_input.mutable_data_ptr<scalar_t>();
    const int64_t HW = H * W;
    at::parallel_for(0, N * C, grain_for(T * HW), [&](int64_t begin, int64_t end) {
      for (int64_t nc = begin; nc < end; ++nc) {
        const scalar_t* gp = g + (nc / C) * gN + (nc % C) * gC;
        scalar_t* dst = gi + nc * T * HW;
        const int16_t* a = is_max ? arg + nc * HW : nullptr;
        for (int64_t t = 0; t < T; ++t) {  // contiguous writes, one slice at a time
          scalar_t* d = dst + t * HW;
          for (int64_t h = 0; h < H; ++h) {
            const scalar_t* grow = gp + h * gH;
            for (int64_t w = 0; w < W; ++w) {
              const acc_t v = static_cast<acc_t>(grow[w * gW]);
              const int64_t i = h * W + w;
              d[i] = static_cast<scalar_t>(
                  is_max ? (a[i] == t ? v : acc_t(0)) : v / static_cast<acc_t>(T));
            }
          }
        }
      }
    });
  });
  return grad_input;
}

}  // namespace

TORCH_LIBRARY_IMPL(slowbench, CPU, m) {
  m.impl("temporal_pool", &temporal_pool_cpu);
  m.impl("temporal_pool_backward", &temporal_pool_backward_cpu);
}

}  // namespace cpu
}  // namespace slowbench
