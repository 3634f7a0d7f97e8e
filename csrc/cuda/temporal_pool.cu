// CUDA entry points of slowbench::temporal_pool ([N, C, T, H, W] -> [N, C, 1, H, W]) and its
// backward, launching the kernels of temporal_pool_kernels.cuh. One thread per output (forward) or
// per input element (backward), W fastest, so reads and writes along W are coalesced; no atomics,
// so the backward is deterministic.
#include <ATen/Context.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <torch/library.h>

#include "../checks.h"
#include "../op_setup.h"
#include "host_launch.h"
#include "temporal_pool_kernels.cuh"

namespace slowbench {
namespace cuda {
namespace {

constexpr const char* kOp = "temporal_pool";
constexpr const char* kBackwardOp = "temporal_pool_backward";

std::tuple<at::Tensor, at::Tensor> temporal_pool_cuda(
    const at::Tensor& input, c10::string_view mode) {
  const bool is_max = parse_temporal_mode(kOp, mode, "mode");
  check_pool_input(kOp, input, is_max);
  TORCH_CHECK(input.is_cuda(), kOp, ": input must be a CUDA tensor");
  c10::cuda::CUDAGuard guard(input.device());
  const int64_t N = input.size(0), C = input.size(1), T = input.size(2);
  const int64_t H = input.size(3), W = input.size(4);
  at::Tensor output, argmax;
  std::tie(output, argmax) = empty_pooled_outputs(input, {N, C, 1, H, W}, is_max);
  const int64_t total = output.numel();
  if (total == 0) {
    return {output, argmax};
  }
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), kOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    auto kernel = is_max ? temporal_pool_forward_kernel<scalar_t, acc_t, true>
                         : temporal_pool_forward_kernel<scalar_t, acc_t, false>;
    const LaunchSizes sizes = grid_stride_launch(total);
    kernel<<<grid_of(sizes), sizes.threads, sizes.shared_bytes, stream>>>(
        input.const_data_ptr<scalar_t>(), strides_of(input), C, T, H, W, total,
        output.mutable_data_ptr<scalar_t>(), is_max ? argmax.mutable_data_ptr<int16_t>() : nullptr);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return {output, argmax};
}

at::Tensor temporal_pool_backward_cuda(
    const at::Tensor& grad, const at::Tensor& argmax, int64_t time, c10::string_view mode) {
  const bool is_max = parse_temporal_mode(kBackwardOp, mode, "mode");
  check_pool_backward_args(kBackwardOp, grad, time);
  if (is_max) {
    check_argmax(kBackwardOp, argmax, grad, time);
  }
  c10::cuda::CUDAGuard guard(grad.device());
  const int64_t N = grad.size(0), C = grad.size(1), H = grad.size(3), W = grad.size(4), T = time;
  at::Tensor grad_input = at::empty({N, C, T, H, W}, grad.options());
  const int64_t total = grad_input.numel();
  if (total == 0) {
    return grad_input;
  }
  const at::Tensor arg_c = is_max ? argmax.contiguous() : argmax;
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), kBackwardOp, [&] {
    using acc_t = at::opmath_type<scalar_t>;
    auto kernel = is_max ? temporal_pool_backward_kernel<scalar_t, acc_t, true>
                         : temporal_pool_backward_kernel<scalar_t, acc_t, false>;
    const LaunchSizes sizes = grid_stride_launch(total);
    kernel<<<grid_of(sizes), sizes.threads, sizes.shared_bytes, stream>>>(
        grad.const_data_ptr<scalar_t>(), strides_of(grad),
        is_max ? arg_c.const_data_ptr<int16_t>() : nullptr, C, T, H, W, total,
        grad_input.mutable_data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return grad_input;
}

}  // namespace

TORCH_LIBRARY_IMPL(slowbench, CUDA, m) {
  m.impl("temporal_pool", &temporal_pool_cuda);
  m.impl("temporal_pool_backward", &temporal_pool_backward_cuda);
}

}  // namespace cuda
}  // namespace slowbench
