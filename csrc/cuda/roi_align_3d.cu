// CUDA entry points of slowbench::roi_align_3d (RoIAlign on every temporal slice) and its
// backward: checks, allocation and the launch of the kernels in roi_align_3d_kernels.cuh.
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
#include <torch/library.h>

#include "../op_setup.h"
#include "host_launch.h"
#include "roi_align_3d_kernels.cuh"

namespace slowbench {
namespace cuda {
namespace {

constexpr const char* kOp = "roi_align_3d";
constexpr const char* kBackwardOp = "roi_align_3d_backward";

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
  const RoiLaunch launch = checked_roi_launch(kOp, K, geo.channels, geo.time * pooled_h * pooled_w);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    roi_align_3d_forward_kernel<scalar_t, acc_t>
        <<<grid_of(launch.sizes), launch.sizes.threads, launch.sizes.shared_bytes, stream>>>(
            input.const_data_ptr<scalar_t>(), strides_of(input), rois_acc.const_data_ptr<acc_t>(),
            geo, launch.chunks, output.mutable_data_ptr<scalar_t>());
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
      const LaunchSizes sizes = grid_stride_launch(batch_size * channels * time);
      roi_align_3d_backward_deterministic_kernel<scalar_t, acc_t>
          <<<grid_of(sizes), sizes.threads, sizes.shared_bytes, stream>>>(
              grad.const_data_ptr<scalar_t>(), strides_of(grad), rois_acc.const_data_ptr<acc_t>(),
              K, geo, grad_acc.mutable_data_ptr<acc_t>());
    } else {
      const RoiLaunch launch =
          checked_roi_launch(kBackwardOp, K, channels, time * pooled_h * pooled_w);
      roi_align_3d_backward_atomic_kernel<scalar_t, acc_t>
          <<<grid_of(launch.sizes), launch.sizes.threads, launch.sizes.shared_bytes, stream>>>(
              grad.const_data_ptr<scalar_t>(), strides_of(grad), rois_acc.const_data_ptr<acc_t>(),
              geo, launch.chunks, grad_acc.mutable_data_ptr<acc_t>());
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
