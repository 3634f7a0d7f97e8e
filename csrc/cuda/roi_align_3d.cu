// CUDA kernels of slowbench::roi_align_3d (RoIAlign on every temporal slice) and its backward.
//
// Forward: one block per (RoI, chunk of channels). The block builds the RoI's tap table
// (rows / columns and weights of every bin) in shared memory once, then its threads walk
// the (channel, t, ph, pw) outputs with pw fastest, so neighbouring threads read
// neighbouring columns of the same rows and write contiguous outputs.
// Backward: the same blocks scatter with float atomics (default), or, when
// torch.are_deterministic_algorithms_enabled(), one thread owns each (n, c, t) plane of the
// gradient and walks the RoIs in order (no atomics, bitwise reproducible).
// float16 / bfloat16 accumulate in float32 (the gradient in a float32 buffer).
#include <ATen/Context.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/cuda/Atomic.cuh>
#include <torch/library.h>

#include "../op_setup.h"
#include "cuda_common.cuh"

namespace slowbench {
namespace cuda {
namespace {

constexpr const char* kOp = "roi_align_3d";
constexpr const char* kBackwardOp = "roi_align_3d_backward";

template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) roi_align_3d_forward_kernel(
    const scalar_t* __restrict__ input,
    Strides5 s,
    const acc_t* __restrict__ rois,
    RoiAlignGeometry g,
    RoiLaunch launch,
    scalar_t* __restrict__ output) {
  extern __shared__ __align__(16) unsigned char smem[];
  BlockTaps<acc_t> taps;
  const RoiBlock<acc_t> b = start_roi_block(smem, rois, g, launch, taps);
  const int64_t P = g.pooled_h * g.pooled_w;
  const int64_t per_c = g.time * P;
  scalar_t* out =
      output + (b.k * g.channels + b.c0) * per_c;  // this block's outputs are contiguous
  for (int64_t i = threadIdx.x; i < b.nc * per_c; i += blockDim.x) {
    const int64_t c = b.c0 + i / per_c;
    const int64_t t = (i % per_c) / P;
    const int64_t ph = (i % P) / g.pooled_w;
    const int64_t pw = i % g.pooled_w;
    acc_t v = 0;
    if (b.box.batch >= 0) {
      const scalar_t* plane = input + b.box.batch * s.n + c * s.c + t * s.t;
      v = b.table ? taps.eval(plane, s.h, s.w, ph, pw)
                  : direct_eval<scalar_t, acc_t>(plane, s.h, s.w, g.height, g.width, b.box, ph, pw);
    }
    out[i] = static_cast<scalar_t>(v);
  }
}

// Default backward: float atomics into grad_acc ([N, C, T, H, W], contiguous, zeroed).
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) roi_align_3d_backward_atomic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 gs,
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
  const int64_t per_c = g.time * P;
  for (int64_t i = threadIdx.x; i < b.nc * per_c; i += blockDim.x) {
    const int64_t c = b.c0 + i / per_c;
    const int64_t t = (i % per_c) / P;
    const int64_t ph = (i % P) / g.pooled_w;
    const int64_t pw = i % g.pooled_w;
    const acc_t gv =
        static_cast<acc_t>(grad[b.k * gs.n + c * gs.c + t * gs.t + ph * gs.h + pw * gs.w]);
    acc_t* plane = grad_acc + ((b.box.batch * g.channels + c) * g.time + t) * g.height * g.width;
    auto add = [plane](int64_t offset, acc_t v) { gpuAtomicAdd(plane + offset, v); };
    if (b.table) {
      taps.scatter(g.width, ph, pw, gv, add);
    } else {
      direct_scatter(g.height, g.width, b.box, ph, pw, gv, add);
    }
  }
}

// Deterministic backward: one thread per (n, c, t) plane of grad_acc (zeroed), RoIs in order.
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) roi_align_3d_backward_deterministic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 gs,
    const acc_t* __restrict__ rois,
    int64_t K,
    RoiAlignGeometry g,
    acc_t* __restrict__ grad_acc) {
  const int64_t C = g.channels, T = g.time;
  const int64_t planes = g.batch * C * T;
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
      const scalar_t* gk = grad + k * gs.n + c * gs.c + t * gs.t;
      for (int64_t ph = 0; ph < g.pooled_h; ++ph) {
        for (int64_t pw = 0; pw < g.pooled_w; ++pw) {
          direct_scatter(
              g.height, g.width, box, ph, pw, static_cast<acc_t>(gk[ph * gs.h + pw * gs.w]), add);
        }
      }
    }
  }
}

at::Tensor roi_align_3d_forward_cuda(
    const at::Tensor& input,
    const at::Tensor& rois,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale,
    int64_t sampling_ratio,
    bool aligned) {
  TORCH_CHECK(input.is_cuda(), kOp, ": input must be a CUDA tensor");
  c10::cuda::CUDAGuard guard(input.device());
  const RoiAlignGeometry geo = checked_roi_geometry(
      kOp, input, rois, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned);
  const int64_t K = rois.size(0);
  at::Tensor output = at::empty({K, geo.channels, geo.time, pooled_h, pooled_w}, input.options());
  if (output.numel() == 0) {
    return output;
  }
  const RoiLaunch launch = roi_launch(kOp, K, geo.channels, geo.time * pooled_h * pooled_w);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    roi_align_3d_forward_kernel<scalar_t, acc_t>
        <<<launch.blocks, kThreads, kTapSmemBytes, stream>>>(
            input.const_data_ptr<scalar_t>(), strides_of(input), rois_acc.const_data_ptr<acc_t>(),
            geo, launch, output.mutable_data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return output;
}

at::Tensor roi_align_3d_backward_cuda(
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
  c10::cuda::CUDAGuard guard(grad.device());
  const RoiAlignGeometry geo{batch_size, channels, time,          height,         width,
                             pooled_h,   pooled_w, spatial_scale, sampling_ratio, aligned};
  const RoiBackward prepared = prepare_roi_backward(
      kBackwardOp, grad, rois, nullptr, geo, time, at::toOpMathType(grad.scalar_type()),
      /*zeroed=*/true);
  const at::Tensor& grad_acc = prepared.grad_input;
  if (!prepared.has_work) {
    return grad_acc.to(grad.scalar_type());
  }
  const int64_t K = rois.size(0);
  const bool deterministic = at::globalContext().deterministicAlgorithms();
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), kBackwardOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    if (deterministic) {
      roi_align_3d_backward_deterministic_kernel<scalar_t, acc_t>
          <<<blocks_for(batch_size * channels * time), kThreads, 0, stream>>>(
              grad.const_data_ptr<scalar_t>(), strides_of(grad), rois_acc.const_data_ptr<acc_t>(),
              K, geo, grad_acc.mutable_data_ptr<acc_t>());
    } else {
      const RoiLaunch launch = roi_launch(kBackwardOp, K, channels, time * pooled_h * pooled_w);
      roi_align_3d_backward_atomic_kernel<scalar_t, acc_t>
          <<<launch.blocks, kThreads, kTapSmemBytes, stream>>>(
              grad.const_data_ptr<scalar_t>(), strides_of(grad), rois_acc.const_data_ptr<acc_t>(),
              geo, launch, grad_acc.mutable_data_ptr<acc_t>());
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return grad_acc.to(grad.scalar_type());
}

}  // namespace

TORCH_LIBRARY_IMPL(slowbench, CUDA, m) {
  m.impl("roi_align_3d", &roi_align_3d_forward_cuda);
  m.impl("roi_align_3d_backward", &roi_align_3d_backward_cuda);
}

}  // namespace cuda
}  // namespace slowbench
