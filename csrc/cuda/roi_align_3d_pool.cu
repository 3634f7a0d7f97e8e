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
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/cuda/Atomic.cuh>
#include <torch/library.h>

#include "../checks.h"
#include "../op_setup.h"
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
    RoiAlignGeometry g,
    RoiLaunch launch,
    scalar_t* __restrict__ output,
    int16_t* __restrict__ argmax) {
  extern __shared__ __align__(16) unsigned char smem[];
  BlockTaps<acc_t> taps;
  const RoiBlock<acc_t> b = start_roi_block(smem, rois, g, launch, taps);
  const int64_t P = g.pooled_h * g.pooled_w;
  const int64_t base = (b.k * g.channels + b.c0) * P;  // this block's outputs are contiguous
  for (int64_t i = threadIdx.x; i < b.nc * P; i += blockDim.x) {
    const int64_t c = b.c0 + i / P;
    const int64_t ph = (i % P) / g.pooled_w;
    const int64_t pw = i % g.pooled_w;
    acc_t best = 0;
    int64_t best_t = 0;
    if (b.box.batch >= 0) {
      const scalar_t* slice = input + b.box.batch * s.n + c * s.c;
      for (int64_t t = 0; t < g.time; ++t, slice += s.t) {
        const acc_t v = b.table ? taps.eval(slice, s.h, s.w, ph, pw)
                                : direct_eval<scalar_t, acc_t>(
                                      slice, s.h, s.w, g.height, g.width, b.box, ph, pw);
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
        best /= static_cast<acc_t>(g.time);
      }
    }
    output[base + i] = static_cast<scalar_t>(best);
    if (kMax) {
      argmax[base + i] = static_cast<int16_t>(best_t);
    }
  }
}

// Default backward: float atomics into grad_acc ([N, C, T, H, W], contiguous, zeroed). The
// argmax values are in [0, T) (check_argmax, on the host).
template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) roi_align_3d_pool_backward_atomic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 gs,
    const int16_t* __restrict__ argmax,
    const acc_t* __restrict__ rois,
    RoiAlignGeometry g,
    RoiLaunch launch,
    acc_t* __restrict__ grad_acc) {
  extern __shared__ __align__(16) unsigned char smem[];
  BlockTaps<acc_t> taps;
  const RoiBlock<acc_t> b = start_roi_block(smem, rois, g, launch, taps);
  if (b.box.batch < 0) {
    return;  // block-uniform, after the block's only __syncthreads()
  }
  const int64_t P = g.pooled_h * g.pooled_w;
  const int64_t HW = g.height * g.width;
  const int64_t T = g.time;
  for (int64_t i = threadIdx.x; i < b.nc * P; i += blockDim.x) {
    const int64_t c = b.c0 + i / P;
    const int64_t ph = (i % P) / g.pooled_w;
    const int64_t pw = i % g.pooled_w;
    acc_t gv = static_cast<acc_t>(grad[b.k * gs.n + c * gs.c + ph * gs.h + pw * gs.w]);
    acc_t* planes = grad_acc + (b.box.batch * g.channels + c) * T * HW;  // the T slices of (n, c)
    if (kMax) {
      acc_t* plane = planes + argmax[(b.k * g.channels + c) * P + ph * g.pooled_w + pw] * HW;
      auto add = [plane](int64_t offset, acc_t v) { gpuAtomicAdd(plane + offset, v); };
      if (b.table) {
        taps.scatter(g.width, ph, pw, gv, add);
      } else {
        direct_scatter(g.height, g.width, b.box, ph, pw, gv, add);
      }
    } else {
      gv /= static_cast<acc_t>(T);
      auto add = [planes, T, HW](int64_t offset, acc_t v) {
        for (int64_t t = 0; t < T; ++t) {
          gpuAtomicAdd(planes + t * HW + offset, v);
        }
      };
      if (b.table) {
        taps.scatter(g.width, ph, pw, gv, add);
      } else {
        direct_scatter(g.height, g.width, b.box, ph, pw, gv, add);
      }
    }
  }
}

// Deterministic backward: one thread per (n, c, t) plane of grad_acc (zeroed), RoIs in order.
template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) roi_align_3d_pool_backward_deterministic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 gs,
    const int16_t* __restrict__ argmax,
    const acc_t* __restrict__ rois,
    int64_t K,
    RoiAlignGeometry g,
    acc_t* __restrict__ grad_acc) {
  const int64_t C = g.channels, T = g.time;
  const int64_t planes = g.batch * C * T;
  const int64_t P = g.pooled_h * g.pooled_w;
  for (int64_t plane_id = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; plane_id < planes;
       plane_id += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = plane_id / (C * T);
    const int64_t c = (plane_id / T) % C;
    const int64_t t = plane_id % T;
    acc_t* plane = grad_acc + plane_id * g.height * g.width;
    auto add = [plane](int64_t offset, acc_t v) { plane[offset] += v; };
    for (int64_t k = 0; k < K; ++k) {
      const RoiBox<acc_t> box = make_roi_box<acc_t>(rois + 5 * k, g);
      if (box.batch != n) {
        continue;
      }
      const scalar_t* gk = grad + k * gs.n + c * gs.c;
      const int16_t* ak = kMax ? argmax + (k * C + c) * P : nullptr;
      for (int64_t ph = 0; ph < g.pooled_h; ++ph) {
        for (int64_t pw = 0; pw < g.pooled_w; ++pw) {
          if (kMax && ak[ph * g.pooled_w + pw] != t) {
            continue;
          }
          acc_t gv = static_cast<acc_t>(gk[ph * gs.h + pw * gs.w]);
          if (!kMax) {
            gv /= static_cast<acc_t>(T);
          }
          direct_scatter(g.height, g.width, box, ph, pw, gv, add);
        }
      }
    }
  }
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
  TORCH_CHECK(input.is_cuda(), kOp, ": input must be a CUDA tensor");
  c10::cuda::CUDAGuard guard(input.device());
  const RoiAlignGeometry geo = checked_roi_geometry(
      kOp, input, rois, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned);
  check_time_steps(kOp, input, is_max);
  const int64_t K = rois.size(0);
  at::Tensor output, argmax;
  std::tie(output, argmax) =
      empty_pooled_outputs(input, {K, geo.channels, 1, pooled_h, pooled_w}, is_max);
  if (output.numel() == 0) {
    return {output, argmax};
  }
  const RoiLaunch launch = roi_launch(kOp, K, geo.channels, pooled_h * pooled_w);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    auto kernel = is_max ? roi_align_3d_pool_forward_kernel<scalar_t, acc_t, true>
                         : roi_align_3d_pool_forward_kernel<scalar_t, acc_t, false>;
    kernel<<<launch.blocks, kThreads, kTapSmemBytes, stream>>>(
        input.const_data_ptr<scalar_t>(), strides_of(input), rois_acc.const_data_ptr<acc_t>(), geo,
        launch, output.mutable_data_ptr<scalar_t>(),
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
  c10::cuda::CUDAGuard guard(grad.device());
  const RoiAlignGeometry geo{batch_size, channels, time,          height,         width,
                             pooled_h,   pooled_w, spatial_scale, sampling_ratio, aligned};
  const RoiBackward prepared = prepare_roi_backward(
      kBackwardOp, grad, rois, is_max ? &argmax : nullptr, geo, 1,
      at::toOpMathType(grad.scalar_type()), /*zeroed=*/true);
  const at::Tensor& grad_acc = prepared.grad_input;
  if (!prepared.has_work) {
    return grad_acc.to(grad.scalar_type());
  }
  const int64_t K = rois.size(0);
  const at::Tensor arg_c = is_max ? argmax.contiguous() : argmax;
  const bool deterministic = at::globalContext().deterministicAlgorithms();
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), kBackwardOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    const int16_t* arg = is_max ? arg_c.const_data_ptr<int16_t>() : nullptr;
    if (deterministic) {
      auto kernel = is_max
                        ? roi_align_3d_pool_backward_deterministic_kernel<scalar_t, acc_t, true>
                        : roi_align_3d_pool_backward_deterministic_kernel<scalar_t, acc_t, false>;
      kernel<<<blocks_for(batch_size * channels * time), kThreads, 0, stream>>>(
          grad.const_data_ptr<scalar_t>(), strides_of(grad), arg, rois_acc.const_data_ptr<acc_t>(),
          K, geo, grad_acc.mutable_data_ptr<acc_t>());
    } else {
      const RoiLaunch launch = roi_launch(kBackwardOp, K, channels, pooled_h * pooled_w);
      auto kernel = is_max ? roi_align_3d_pool_backward_atomic_kernel<scalar_t, acc_t, true>
                           : roi_align_3d_pool_backward_atomic_kernel<scalar_t, acc_t, false>;
      kernel<<<launch.blocks, kThreads, kTapSmemBytes, stream>>>(
          grad.const_data_ptr<scalar_t>(), strides_of(grad), arg, rois_acc.const_data_ptr<acc_t>(),
          geo, launch, grad_acc.mutable_data_ptr<acc_t>());
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return grad_acc.to(grad.scalar_type());
}

}  // namespace

TORCH_LIBRARY_IMPL(slowbench, CUDA, m) {
  m.impl("roi_align_3d_pool", &roi_align_3d_pool_forward_cuda);
  m.impl("roi_align_3d_pool_backward", &roi_align_3d_pool_backward_cuda);
}

}  // namespace cuda
}  // namespace slowbench
