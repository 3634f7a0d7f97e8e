// temporal_pool's CUDA launchers (csrc/cuda/temporal_pool.cu), emulated. Requests: N C T H W
// dtype mode, and input (forward) or grad (strided) and argmax (int16, contiguous; max mode)
// (backward).
#include "emulated_launch.h"  // HIP-CPU first
#include "cuda/temporal_pool_kernels.cuh"
#include "emulated_ops.h"

namespace slowbench {
namespace emulation {

std::string temporal_pool(const LaunchRequest& r) {
  return for_dtype(r, [&]<typename scalar_t>() {
    const bool is_max = is_max_mode(r);
    const int64_t N = r.integer("N"), C = r.integer("C"), T = r.integer("T");
    const int64_t H = r.integer("H"), W = r.integer("W");
    const auto input = strided_array<scalar_t>(r, "input", {N, C, T, H, W});
    const int64_t total = N * C * H * W;
    std::vector<scalar_t> output(total);
    std::vector<int16_t> argmax(is_max ? total : 0);
    auto kernel = is_max ? cuda::temporal_pool_forward_kernel<scalar_t, scalar_t, true>
                         : cuda::temporal_pool_forward_kernel<scalar_t, scalar_t, false>;
    const std::string report = run_kernel(
        cuda::grid_stride_launch(total), kernel, input.values.data(), input.strides, C, T, H, W,
        total, output.data(), is_max ? argmax.data() : nullptr);
    r.write("output", output);
    r.write("argmax", argmax);
    return report;
  });
}

std::string temporal_pool_backward(const LaunchRequest& r) {
  return for_dtype(r, [&]<typename scalar_t>() {
    const bool is_max = is_max_mode(r);
    const int64_t N = r.integer("N"), C = r.integer("C"), T = r.integer("T");
    const int64_t H = r.integer("H"), W = r.integer("W");
    const auto grad = strided_array<scalar_t>(r, "grad", {N, C, 1, H, W});
    const std::vector<int16_t> argmax =
        is_max ? r.array<int16_t>("argmax") : std::vector<int16_t>();
    const int64_t total = N * C * T * H * W;
    std::vector<scalar_t> grad_input(total);
    auto kernel = is_max ? cuda::temporal_pool_backward_kernel<scalar_t, scalar_t, true>
                         : cuda::temporal_pool_backward_kernel<scalar_t, scalar_t, false>;
    const std::string report = run_kernel(
        cuda::grid_stride_launch(total), kernel, grad.values.data(), grad.strides,
        is_max ? argmax.data() : nullptr, C, T, H, W, total, grad_input.data());
    r.write("grad_input", grad_input);
    return report;
  });
}

}  // namespace emulation
}  // namespace slowbench
