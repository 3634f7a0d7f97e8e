// CPU kernels of slowbench::roi_align_3d (RoIAlign on every temporal slice) and its backward.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "../checks.h"
#include "../op_setup.h"
#include "roi_taps.h"

namespace slowbench {
namespace cpu {
namespace {

constexpr const char* kOp = "roi_align_3d";
constexpr const char* kBackwardOp = "roi_align_3d_backward";

at::Tensor roi_align_3d_forward_cpu(
    const at::Tensor& input,
    const at::Tensor& rois,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale,
    int64_t sampling_ratio,
    bool aligned) {
  const RoiAlignGeometry geo = checked_roi_geometry(
      kOp, input, rois, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned);
  const int64_t K = rois.size(0), C = geo.channels, T = geo.time, W = geo.width;
  at::Tensor output = at::empty({K, C, T, pooled_h, pooled_w}, input.options());
  if (output.numel() == 0) {
    return output;
  }
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const auto taps = build_roi_taps<acc_t>(rois, geo);
    const scalar_t* in = input.const_data_ptr<scalar_t>();
    const int64_t sN = input.stride(0), sC = input.stride(1), sT = input.stride(2);
    const int64_t sH = input.stride(3), sW = input.stride(4);
    scalar_t* out = output.mutable_data_ptr<scalar_t>();
    const int64_t P = pooled_h * pooled_w;
    // One task = one (roi, channel) pair: all T slices and all bins, taps shared.
    at::parallel_for(0, C * K, grain_for(T * P * 4), [&](int64_t begin, int64_t end) {
      std::vector<acc_t> mix(W), vals(P);
      for (int64_t ck = begin; ck < end; ++ck) {
        // Channel-major: the RoIs of one channel run back to back and reuse its planes in cache.
        const int64_t c = ck / K, k = ck % K;
        const int64_t kc = k * C + c;
        const RoiTaps<acc_t>& tk = taps[k];
        scalar_t* o = out + kc * T * P;
        if (tk.batch < 0) {
          std::fill(o, o + T * P, scalar_t(0));
          continue;
        }
        for (int64_t t = 0; t < T; ++t) {
          const scalar_t* plane = in + tk.batch * sN + c * sC + t * sT;
          eval_plane<scalar_t, acc_t>(
              plane, sH, sW, 0, 0, tk, pooled_h, pooled_w, mix.data(), vals.data());
          for (int64_t p = 0; p < P; ++p) {
            o[t * P + p] = static_cast<scalar_t>(vals[p]);
          }
        }
      }
    });
  });
  return output;
}

at::Tensor roi_align_3d_backward_cpu(
    const at::Tensor& grad,
    const at::Tensor& rois,
    int64_t batch_size,
    int64_t channels,
    int64_t time,
    int64_t height,
    int64_t width,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale,
    int64_t sampling_ratio,
    bool aligned) {
  const RoiAlignGeometry geo{batch_size, channels, time,          height,         width,
                             pooled_h,   pooled_w, spatial_scale, sampling_ratio, aligned};
  const RoiBackward prepared = prepare_roi_backward(
      kBackwardOp, grad, rois, nullptr, geo, time, grad.scalar_type(), /*zeroed=*/false);
  at::Tensor grad_input = prepared.grad_input;
  if (!prepared.has_work) {
    return grad_input;
  }
  const int64_t K = rois.size(0), N = batch_size, C = channels, T = time, H = height, W = width;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), kBackwardOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const auto taps = build_roi_taps<acc_t>(rois, geo);
    const scalar_t* g = grad.const_data_ptr<scalar_t>();
    const int64_t gK = grad.stride(0), gC = grad.stride(1), gT = grad.stride(2);
    const int64_t gH = grad.stride(3), gW = grad.stride(4);
    scalar_t* gi = grad_input.mutable_data_ptr<scalar_t>();
    const int64_t HW = H * W;
    // One task = one (channel, time) pair, i.e. the N planes grad_input[:, c, t]: it walks
    // the RoIs in order, so the result is deterministic and needs no atomics.
    at::parallel_for(
        0, C * T, grain_for(K * pooled_h * pooled_w * 4 + N * HW), [&](int64_t begin, int64_t end) {
          std::vector<acc_t> acc(N * HW), mix(W);
          for (int64_t ct = begin; ct < end; ++ct) {
            const int64_t c = ct / T, t = ct % T;
            std::fill(acc.begin(), acc.end(), acc_t(0));
            for (int64_t k = 0; k < K; ++k) {
              const RoiTaps<acc_t>& tk = taps[k];
              if (tk.batch < 0) {
                continue;
              }
              acc_t* plane = acc.data() + tk.batch * HW;
              const scalar_t* gk = g + k * gK + c * gC + t * gT;
              scatter_plane(
                  plane, W, tk, pooled_h, pooled_w,
                  [&](int64_t ph, int64_t pw) { return static_cast<acc_t>(gk[ph * gH + pw * gW]); },
                  mix.data());
            }
            for (int64_t n = 0; n < N; ++n) {
              scalar_t* dst = gi + ((n * C + c) * T + t) * HW;
              const acc_t* src = acc.data() + n * HW;
              for (int64_t i = 0; i < HW; ++i) {
                dst[i] = static_cast<scalar_t>(src[i]);
              }
            }
          }
        });
  });
  return grad_input;
}

}  // namespace

TORCH_LIBRARY_IMPL(slowbench, CPU, m) {
  m.impl("roi_align_3d", &roi_align_3d_forward_cpu);
  m.impl("roi_align_3d_backward", &roi_align_3d_backward_cpu);
}

}  // namespace cpu
}  // namespace slowbench
