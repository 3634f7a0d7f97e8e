// CUDA entry points of slowbench::roi_align_3d_pool (RoIAlign on every slice + pooling over T,
// fused: [K, C, T, ph, pw] is never materialised) and its backward: checks, allocation and the
// launch of the kernels in roi_align_3d_pool_kernels.cuh.
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
#include <torch/library.h>

#include "../checks.h"
#include "../op_setup.h"
#include "host_launch.h"
#include "roi_align_3d_pool_kernels.cuh"

namespace slowbench {
namespace cuda {
namespace {

constexpr const char* kOp = "roi_align_3d_pool";
constexpr const char* kBackwardOp = "roi_align_3d_pool_backward";

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
  const RoiLaunch launch = checked_roi_launch(kOp, K, geo.channels, pooled_h * pooled_w);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
    auto kernel = is_max ? roi_align_3d_pool_forward_kernel<scalar_t, acc_t, true>
                         : roi_align_3d_pool_forward_kernel<scalar_t, acc_t, false>;
    kernel<<<grid_of(launch.sizes), launch.sizes.threads, launch.sizes.shared_bytes, stream>>>(
        input.const_data_ptr<scalar_t>(), strides_of(input), rois_acc.const_data_ptr<acc_t>(), geo,
        launch.chunks, output.mutable_data_ptr<scalar_t>(),
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
      const LaunchSizes sizes = grid_stride_launch(batch_size * channels * time);
      kernel<<<grid_of(sizes), sizes.threads, sizes.shared_bytes, stream>>>(
          grad.const_data_ptr<scalar_t>(), strides_of(grad), arg, rois_acc.const_data_ptr<acc_t>(),
          K, geo, grad_acc.mutable_data_ptr<acc_t>());
    } else {
      const RoiLaunch launch = checked_roi_launch(kBackwardOp, K, channels, pooled_h * pooled_w);
      auto kernel = is_max ? roi_align_3d_pool_backward_atomic_kernel<scalar_t, acc_t, true>
                           : roi_align_3d_pool_backward_atomic_kernel<scalar_t, acc_t, false>;
      kernel<<<grid_of(launch.sizes), launch.sizes.threads, launch.sizes.shared_bytes, stream>>>(
          grad.const_data_ptr<scalar_t>(), strides_of(grad), arg, rois_acc.const_data_ptr<acc_t>(),
          geo, launch.chunks, grad_acc.mutable_data_ptr<acc_t>());
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
