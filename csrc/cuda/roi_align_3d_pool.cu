// CUDA kernels of slowbench::roi_align_3d_pool (RoIAlign on every slice + pooling over T,
// fused: [K, C, T, ph, pw] is never materialised) and its backward.
//
// Forward: one block per (RoI, chunk of channels) with the RoI's tap table in shared
// memory; each thread owns one (channel, ph, pw) output and loops over T, keeping the running
// sum (avg) or max + argmax (max; NaN propagates, first index on ties) in registers, then
// writes the output (and the int16 argmax) once.
// Backward: float atomics by default (avg: the bin's gradient / T goes to every slice; max:
// to the argmax slice only); with torch.are_deterministic_algorithms_enabled(), one thread
// per (n, c, t) gradient plane walks the RoIs in order instead (no atomics).
#include <ATen/Context.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/cuda/Atomic.cuh>
#include <torch/library.h>

#include <limits>

#include "../checks.h"
#include "cuda_common.cuh"

namespace slowbench {
namespace cuda {
namespace {

constexpr const char* kOp = "roi_align_3d_pool";
constexpr const char* kBackwardOp = "roi_align_3d_pool_backward";

template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) roi_align_3d_pool_forward_kernel(
    const scalar_t* __restrict__ input,
    Strides5 s,
    const acc_t* __restrict__ rois,
    int64_t N, int64_t C, int64_t T, int64_t H, int64_t W,
    int64_t pooled_h, int64_t pooled_w,
    acc_t spatial_scale, int64_t sampling_ratio, bool aligned,
    int64_t chunk, int64_t num_chunks,
    scalar_t* __restrict__ output,
    int16_t* __restrict__ argmax) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int64_t k = blockIdx.x / num_chunks;
  const int64_t c0 = (blockIdx.x % num_chunks) * chunk;
  const int64_t nc = C - c0 < chunk ? C - c0 : chunk;
  const RoiBox<acc_t> box = make_roi_box<acc_t>(rois + 5 * k, N, pooled_h, pooled_w, spatial_scale,
                                                sampling_ratio, aligned);
  const bool table = BlockTaps<acc_t>::bytes_needed(pooled_h, pooled_w, box.grid_h, box.grid_w) <= kTapSmemBytes;
  BlockTaps<acc_t> taps;
  if (table) {
    taps.build(smem, box, pooled_h, pooled_w, H, W);
  }
  const int64_t P = pooled_h * pooled_w;
  const int64_t base = (k * C + c0) * P;  // this block's outputs are contiguous
  for (int64_t i = threadIdx.x; i < nc * P; i += blockDim.x) {
    const int64_t c = c0 + i / P;
    const int64_t ph = (i % P) / pooled_w;
    const int64_t pw = i % pooled_w;
    acc_t best = 0;
    int64_t best_t = 0;
    if (box.batch >= 0) {
      const scalar_t* slice = input + box.batch * s.n + c * s.c;
      for (int64_t t = 0; t < T; ++t, slice += s.t) {
        const acc_t v = table ? taps.eval(slice, s.h, s.w, ph, pw)
                              : direct_eval<scalar_t, acc_t>(slice, s.h, s.w, H, W, box, ph, pw);
        if (kMax) {
          if (t == 0 || replaces_max(v, best)) {
            best = v;
            best_t = t;
          }
        } else {
          best += v;
        }
      }
      if (!kMax) {
        best /= static_cast<acc_t>(T);
      }
    }
    output[base + i] = static_cast<scalar_t>(best);
    if (kMax) {
      argmax[base + i] = static_cast<int16_t>(best_t);
    }
  }
}

template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) roi_align_3d_pool_backward_atomic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 g,
    const int16_t* __restrict__ argmax,
    const acc_t* __restrict__ rois,
    int64_t N, int64_t C, int64_t T, int64_t H, int64_t W,
    int64_t pooled_h, int64_t pooled_w,
    acc_t spatial_scale, int64_t sampling_ratio, bool aligned,
    int64_t chunk, int64_t num_chunks,
    acc_t* __restrict__ grad_acc) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int64_t k = blockIdx.x / num_chunks;
  const int64_t c0 = (blockIdx.x % num_chunks) * chunk;
  const int64_t nc = C - c0 < chunk ? C - c0 : chunk;
  const RoiBox<acc_t> box = make_roi_box<acc_t>(rois + 5 * k, N, pooled_h, pooled_w, spatial_scale,
                                                sampling_ratio, aligned);
  if (box.batch < 0) {
    return;  // block-uniform
  }
  const bool table = BlockTaps<acc_t>::bytes_needed(pooled_h, pooled_w, box.grid_h, box.grid_w) <= kTapSmemBytes;
  BlockTaps<acc_t> taps;
  if (table) {
    taps.build(smem, box, pooled_h, pooled_w, H, W);
  }
  const int64_t P = pooled_h * pooled_w;
  const int64_t HW = H * W;
  for (int64_t i = threadIdx.x; i < nc * P; i += blockDim.x) {
    const int64_t c = c0 + i / P;
    const int64_t ph = (i % P) / pooled_w;
    const int64_t pw = i % pooled_w;
    acc_t gv = static_cast<acc_t>(grad[k * g.n + c * g.c + ph * g.h + pw * g.w]);
    acc_t* planes = grad_acc + (box.batch * C + c) * T * HW;  // the T slices of (n, c)
    if (kMax) {
      const int64_t t = argmax[(k * C + c) * P + ph * pooled_w + pw];
      if (t < 0 || t >= T) {
        continue;  // not a valid argmax: never write out of bounds
      }
      acc_t* plane = planes + t * HW;
      auto add = [plane](int64_t offset, acc_t v) { gpuAtomicAdd(plane + offset, v); };
      if (table) {
        taps.scatter(W, ph, pw, gv, add);
      } else {
        direct_scatter(H, W, box, ph, pw, gv, add);
      }
    } else {
      gv /= static_cast<acc_t>(T);
      auto add = [planes, T, HW](int64_t offset, acc_t v) {
        for (int64_t t = 0; t < T; ++t) {
          gpuAtomicAdd(planes + t * HW + offset, v);
        }
      };
      if (table) {
        taps.scatter(W, ph, pw, gv, add);
      } else {
        direct_scatter(H, W, box, ph, pw, gv, add);
      }
    }
  }
}

// Deterministic backward: one thread per (n, c, t) plane of grad_acc (zeroed), RoIs in order.
template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) roi_align_3d_pool_backward_deterministic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 g,
    const int16_t* __restrict__ argmax,
    const acc_t* __restrict__ rois,
    int64_t K, int64_t N, int64_t C, int64_t T, int64_t H, int64_t W,
    int64_t pooled_h, int64_t pooled_w,
    acc_t spatial_scale, int64_t sampling_ratio, bool aligned,
    acc_t* __restrict__ grad_acc) {
  const int64_t planes = N * C * T;
  const int64_t P = pooled_h * pooled_w;
  for (int64_t plane_id = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; plane_id < planes;
       plane_id += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = plane_id / (C * T);
    const int64_t c = (plane_id / T) % C;
    const int64_t t = plane_id % T;
    acc_t* plane = grad_acc + plane_id * H * W;
    auto add = [plane](int64_t offset, acc_t v) { plane[offset] += v; };
    for (int64_t k = 0; k < K; ++k) {
      const RoiBox<acc_t> box = make_roi_box<acc_t>(rois + 5 * k, N, pooled_h, pooled_w, spatial_scale,
                                                    sampling_ratio, aligned);
      if (box.batch != n) {
        continue;
      }
      const scalar_t* gk = grad + k * g.n + c * g.c;
      const int16_t* ak = kMax ? argmax + (k * C + c) * P : nullptr;
      for (int64_t ph = 0; ph < pooled_h; ++ph) {
        for (int64_t pw = 0; pw < pooled_w; ++pw) {
          if (kMax && ak[ph * pooled_w + pw] != t) {
            continue;
          }
          acc_t gv = static_cast<acc_t>(gk[ph * g.h + pw * g.w]);
          if (!kMax) {
            gv /= static_cast<acc_t>(T);
          }
          direct_scatter(H, W, box, ph, pw, gv, add);
        }
      }
    }
  }
}

Strides5 strides_of(const at::Tensor& t) {
  return {t.stride(0), t.stride(1), t.stride(2), t.stride(3), t.stride(4)};
}

std::tuple<at::Tensor, at::Tensor> roi_align_3d_pool_forward_cuda(
    const at::Tensor& input,
    const at::Tensor& rois,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale,
    int64_t sampling_ratio,
    bool aligned,
    c10::string_view temporal_mode) {
  const bool is_max = parse_temporal_mode(kOp, temporal_mode, "temporal_mode");
  check_roi_align_args(kOp, input, rois, pooled_h, pooled_w, spatial_scale);
  TORCH_CHECK(input.is_cuda(), kOp, ": input must be a CUDA tensor");
  c10::cuda::CUDAGuard guard(input.device());
  const int64_t N = input.size(0), C = input.size(1), T = input.size(2);
  const int64_t H = input.size(3), W = input.size(4);
  TORCH_CHECK(T >= 1, kOp, ": input must have at least one time step, got shape ", input.sizes());
  TORCH_CHECK(!is_max || T <= std::numeric_limits<int16_t>::max(), kOp,
              ": max pooling supports at most 32767 time steps, got ", T);
  check_roi_values(kOp, rois, N);  // one small device-to-host copy of the RoIs
  const int64_t K = rois.size(0);
  at::Tensor output = at::empty({K, C, 1, pooled_h, pooled_w}, input.options());
  at::Tensor argmax = at::empty(
      is_max ? at::IntArrayRef({K, C, 1, pooled_h, pooled_w}) : at::IntArrayRef({0}),
      input.options().dtype(at::kShort));
  if (output.numel() == 0) {
    return {output, argmax};
  }
  const int64_t chunk = channels_per_block(C, pooled_h * pooled_w);
  const int64_t num_chunks = ceil_div(C, chunk);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    auto kernel = is_max ? roi_align_3d_pool_forward_kernel<scalar_t, acc_t, true>
                         : roi_align_3d_pool_forward_kernel<scalar_t, acc_t, false>;
    kernel<<<roi_grid(K, num_chunks, kOp), kThreads, kTapSmemBytes, stream>>>(
        input.const_data_ptr<scalar_t>(), strides_of(input), rois_acc.const_data_ptr<acc_t>(),
        N, C, T, H, W, pooled_h, pooled_w, static_cast<acc_t>(spatial_scale), sampling_ratio, aligned,
        chunk, num_chunks, output.mutable_data_ptr<scalar_t>(),
        is_max ? argmax.mutable_data_ptr<int16_t>() : nullptr);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {output, argmax};
}

at::Tensor roi_align_3d_pool_backward_cuda(
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
  check_backward_sizes(kBackwardOp, grad, rois, batch_size, channels, time, height, width);
  const int64_t K = rois.size(0);
  check_grad_shape(kBackwardOp, grad, {K, channels, 1, pooled_h, pooled_w});
  if (is_max) {
    TORCH_CHECK(argmax.scalar_type() == at::kShort && argmax.sizes() == grad.sizes(), kBackwardOp,
                ": argmax must be an int16 tensor of shape ", grad.sizes(), ", got ",
                argmax.scalar_type(), " ", argmax.sizes());
    TORCH_CHECK(argmax.device() == grad.device(), kBackwardOp, ": argmax must be on the device of grad");
  }
  c10::cuda::CUDAGuard guard(grad.device());
  const int64_t N = batch_size, C = channels, T = time, H = height, W = width;
  const auto acc_type = at::toOpMathType(grad.scalar_type());
  at::Tensor grad_acc = at::zeros({N, C, T, H, W}, grad.options().dtype(acc_type));
  if (grad_acc.numel() == 0 || grad.numel() == 0) {
    return grad_acc.to(grad.scalar_type());
  }
  const at::Tensor arg_c = is_max ? argmax.contiguous() : argmax;
  const bool deterministic = at::globalContext().deterministicAlgorithms();
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), kBackwardOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    const int16_t* arg = is_max ? arg_c.const_data_ptr<int16_t>() : nullptr;
    if (deterministic) {
      auto kernel = is_max ? roi_align_3d_pool_backward_deterministic_kernel<scalar_t, acc_t, true>
                           : roi_align_3d_pool_backward_deterministic_kernel<scalar_t, acc_t, false>;
      kernel<<<blocks_for(N * C * T), kThreads, 0, stream>>>(
          grad.const_data_ptr<scalar_t>(), strides_of(grad), arg, rois_acc.const_data_ptr<acc_t>(),
          K, N, C, T, H, W, pooled_h, pooled_w, static_cast<acc_t>(spatial_scale), sampling_ratio, aligned,
          grad_acc.mutable_data_ptr<acc_t>());
    } else {
      const int64_t chunk = channels_per_block(C, pooled_h * pooled_w);
      const int64_t num_chunks = ceil_div(C, chunk);
      auto kernel = is_max ? roi_align_3d_pool_backward_atomic_kernel<scalar_t, acc_t, true>
                           : roi_align_3d_pool_backward_atomic_kernel<scalar_t, acc_t, false>;
      kernel<<<roi_grid(K, num_chunks, kBackwardOp), kThreads, kTapSmemBytes, stream>>>(
          grad.const_data_ptr<scalar_t>(), strides_of(grad), arg, rois_acc.const_data_ptr<acc_t>(),
          N, C, T, H, W, pooled_h, pooled_w, static_cast<acc_t>(spatial_scale), sampling_ratio, aligned,
          chunk, num_chunks, grad_acc.mutable_data_ptr<acc_t>());
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return grad_acc.scalar_type() == grad.scalar_type() ? grad_acc : grad_acc.to(grad.scalar_type());
}

}  // namespace

TORCH_LIBRARY_IMPL(slowbench, CUDA, m) {
  m.impl("roi_align_3d_pool", &roi_align_3d_pool_forward_cuda);
  m.impl("roi_align_3d_pool_backward", &roi_align_3d_pool_backward_cuda);
}

}  // namespace cuda
}  // namespace slowbench
