// CPU kernels of slowbench::roi_align_3d_pool (RoIAlign on every slice + pooling over T,
// fused: [K, C, T, ph, pw] is never materialised) and its backward.
//
// avg: RoIAlign is linear in the feature map and its taps do not depend on t, so
//   mean_t RoIAlign(x_t) = RoIAlign(sum_t x_t) / T. Each (roi, channel) task first sums the
//   T slices over the RoI's footprint (the bounding box of its taps), then evaluates the bins
//   once; the backward scatters once per (roi, channel) and writes the result / T to every t.
// max: bins are evaluated per slice with a running max (NaN propagates, first index on
//   ties); the int16 argmax over T routes the gradient back to one slice.
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

constexpr const char* kOp = "roi_align_3d_pool";
constexpr const char* kBackwardOp = "roi_align_3d_pool_backward";

std::tuple<at::Tensor, at::Tensor> roi_align_3d_pool_forward_cpu(
    const at::Tensor& input,
    const at::Tensor& rois,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale,
    int64_t sampling_ratio,
    bool aligned,
    c10::string_view temporal_mode) {
  const bool is_max = parse_temporal_mode(kOp, temporal_mode, "temporal_mode");
  const RoiAlignGeometry geo = checked_roi_geometry(
      kOp, input, rois, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned);
  check_time_steps(kOp, input, is_max);
  const int64_t K = rois.size(0), C = geo.channels, T = geo.time, W = geo.width;
  at::Tensor output, argmax;
  std::tie(output, argmax) = empty_pooled_outputs(input, {K, C, 1, pooled_h, pooled_w}, is_max);
  if (output.numel() == 0) {
    return {output, argmax};
  }
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const auto taps = build_roi_taps<acc_t>(rois, geo);
    const scalar_t* in = input.const_data_ptr<scalar_t>();
    const int64_t sN = input.stride(0), sC = input.stride(1), sT = input.stride(2);
    const int64_t sH = input.stride(3), sW = input.stride(4);
    scalar_t* out = output.mutable_data_ptr<scalar_t>();
    int16_t* arg = is_max ? argmax.mutable_data_ptr<int16_t>() : nullptr;
    const int64_t P = pooled_h * pooled_w;
    const acc_t inv_T = acc_t(1) / static_cast<acc_t>(T);
    at::parallel_for(0, C * K, grain_for(T * P * 4), [&](int64_t begin, int64_t end) {
      std::vector<acc_t> buf;  // avg: footprint sums over T; max: running max per bin
      std::vector<acc_t> mix(W), vals(P);
      for (int64_t ck = begin; ck < end; ++ck) {
        // Channel-major: the RoIs of one channel run back to back and reuse its planes in cache.
        const int64_t c = ck / K, k = ck % K;
        const int64_t kc = k * C + c;
        const RoiTaps<acc_t>& tk = taps[k];
        scalar_t* o = out + kc * P;
        int16_t* a = is_max ? arg + kc * P : nullptr;
        if (tk.batch < 0 || tk.ymax < tk.ymin || tk.xmax < tk.xmin) {
          // Reads nothing: every slice's bins are 0.
          std::fill(o, o + P, scalar_t(0));
          if (is_max) {
            std::fill(a, a + P, int16_t(0));
          }
          continue;
        }
        const scalar_t* base = in + tk.batch * sN + c * sC;
        if (!is_max) {
          const int64_t fh = tk.ymax - tk.ymin + 1, fw = tk.xmax - tk.xmin + 1;
          buf.assign(fh * fw, acc_t(0));
          for (int64_t t = 0; t < T; ++t) {
            const scalar_t* slice = base + t * sT + tk.ymin * sH + tk.xmin * sW;
            for (int64_t y = 0; y < fh; ++y) {
              const scalar_t* row = slice + y * sH;
              acc_t* b = buf.data() + y * fw;
              for (int64_t x = 0; x < fw; ++x) {
                b[x] += static_cast<acc_t>(row[x * sW]);
              }
            }
          }
          eval_plane<acc_t, acc_t>(
              buf.data(), fw, 1, tk.ymin, tk.xmin, tk, pooled_h, pooled_w, mix.data(), vals.data());
          for (int64_t p = 0; p < P; ++p) {
            o[p] = static_cast<scalar_t>(vals[p] * inv_T);
          }
        } else {
          buf.resize(P);
          for (int64_t t = 0; t < T; ++t) {
            eval_plane<scalar_t, acc_t>(
                base + t * sT, sH, sW, 0, 0, tk, pooled_h, pooled_w, mix.data(), vals.data());
            for (int64_t p = 0; p < P; ++p) {
              const acc_t v = vals[p];
              if (t == 0) {
                buf[p] = v;
                a[p] = 0;
              } else if (replaces_max(v, buf[p])) {
                buf[p] = v;
                a[p] = static_cast<int16_t>(t);
              }
            }
          }
          for (int64_t p = 0; p < P; ++p) {
            o[p] = static_cast<scalar_t>(buf[p]);
          }
        }
      }
    });
  });
  return {output, argmax};
}

at::Tensor roi_align_3d_pool_backward_cpu(
    const at::Tensor& grad,
    const at::Tensor& rois,
    const at::Tensor& argmax,
    int64_t batch_size,
    int64_t channels,
    int64_t time,
    int64_t height,
    int64_t width,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale,
    int64_t sampling_ratio,
    bool aligned,
    c10::string_view temporal_mode) {
  const bool is_max = parse_temporal_mode(kBackwardOp, temporal_mode, "temporal_mode");
  const RoiAlignGeometry geo{batch_size, channels, time,          height,         width,
                             pooled_h,   pooled_w, spatial_scale, sampling_ratio, aligned};
  const RoiBackward prepared = prepare_roi_backward(
      kBackwardOp, grad, rois, is_max ? &argmax : nullptr, geo, 1, grad.scalar_type(),
      /*zeroed=*/false);
  at::Tensor grad_input = prepared.grad_input;
  if (!prepared.has_work) {
    return grad_input;
  }
  const int64_t K = rois.size(0), N = batch_size, C = channels, T = time, H = height, W = width;
  const at::Tensor arg_c = is_max ? argmax.contiguous() : argmax;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), kBackwardOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const auto taps = build_roi_taps<acc_t>(rois, geo);
    const scalar_t* g = grad.const_data_ptr<scalar_t>();
    const int64_t gK = grad.stride(0), gC = grad.stride(1);
    const int64_t gH = grad.stride(3), gW = grad.stride(4);
    const int16_t* arg = is_max ? arg_c.const_data_ptr<int16_t>() : nullptr;
    scalar_t* gi = grad_input.mutable_data_ptr<scalar_t>();
    const int64_t HW = H * W, P = pooled_h * pooled_w;
    // One task per channel: it owns the planes grad_input[:, c] and walks the RoIs in
    // order, so the result is deterministic and needs no atomics. avg: one scatter per
    // (roi, channel), shared by the T slices; max: each bin scatters into its argmax slice.
    const int64_t planes = is_max ? N * T : N;
    at::parallel_for(0, C, grain_for(K * P * 4 + N * T * HW), [&](int64_t begin, int64_t end) {
      std::vector<acc_t> acc(planes * HW), mix(W);
      for (int64_t c = begin; c < end; ++c) {
        std::fill(acc.begin(), acc.end(), acc_t(0));
        for (int64_t k = 0; k < K; ++k) {
          const RoiTaps<acc_t>& tk = taps[k];
          if (tk.batch < 0) {
            continue;
          }
          const scalar_t* gk = g + k * gK + c * gC;
          if (is_max) {
            const int16_t* ak = arg + (k * C + c) * P;
            for (int64_t ph = 0; ph < pooled_h; ++ph) {
              for (int64_t pw = 0; pw < pooled_w; ++pw) {
                const int64_t t = ak[ph * pooled_w + pw];  // in [0, T): checked by check_argmax
                scatter_bin(
                    acc.data() + (tk.batch * T + t) * HW, W, tk, ph, pw,
                    static_cast<acc_t>(gk[ph * gH + pw * gW]));
              }
            }
          } else {
            scatter_plane(
                acc.data() + tk.batch * HW, W, tk, pooled_h, pooled_w,
                [&](int64_t ph, int64_t pw) { return static_cast<acc_t>(gk[ph * gH + pw * gW]); },
                mix.data());
          }
        }
        for (int64_t n = 0; n < N; ++n) {
          for (int64_t t = 0; t < T; ++t) {
            scalar_t* dst = gi + ((n * C + c) * T + t) * HW;
            if (is_max) {
              const acc_t* src = acc.data() + (n * T + t) * HW;
              for (int64_t i = 0; i < HW; ++i) {
                dst[i] = static_cast<scalar_t>(src[i]);
              }
            } else {
              const acc_t* src = acc.data() + n * HW;
              for (int64_t i = 0; i < HW; ++i) {
                dst[i] = static_cast<scalar_t>(src[i] / static_cast<acc_t>(T));
              }
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
  m.impl("roi_align_3d_pool", &roi_align_3d_pool_forward_cpu);
  m.impl("roi_align_3d_pool_backward", &roi_align_3d_pool_backward_cpu);
}

}  // namespace cpu
}  // namespace slowbench
