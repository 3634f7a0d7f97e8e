// roi_align_3d_pool's CUDA launchers (csrc/cuda/roi_align_3d_pool.cu), emulated. Requests: N C T
// H W ph pw scale sampling_ratio aligned dtype mode, rois ([K, 5]), and input (forward) or grad
// (strided), argmax (int16, contiguous; max mode) and deterministic (backward).
#include "roi_launch_report.h"  // HIP-CPU first
#include "cuda/roi_align_3d_pool_kernels.cuh"
#include "emulated_ops.h"

namespace slowbench {
namespace emulation {

std::string roi_align_3d_pool(const LaunchRequest& r) {
  return for_dtype(r, [&]<typename scalar_t>() {
    const bool is_max = is_max_mode(r);
    const RoiAlignGeometry g = roi_geometry(r);
    const auto input =
        strided_array<scalar_t>(r, "input", {g.batch, g.channels, g.time, g.height, g.width});
    const std::vector<scalar_t> rois = r.array<scalar_t>("rois");
    const int64_t K = static_cast<int64_t>(rois.size()) / 5;
    const int64_t outputs = K * g.channels * g.pooled_h * g.pooled_w;
    std::vector<scalar_t> output(outputs);
    std::vector<int16_t> argmax(is_max ? outputs : 0);
    const cuda::RoiLaunch launch = cuda::roi_block_launch(K, g.channels, g.pooled_h * g.pooled_w);
    auto kernel = is_max ? cuda::roi_align_3d_pool_forward_kernel<scalar_t, scalar_t, true>
                         : cuda::roi_align_3d_pool_forward_kernel<scalar_t, scalar_t, false>;
    const std::string report = run_kernel(
        launch.sizes, kernel, input.values.data(), input.strides, rois.data(), g, launch.chunks,
        output.data(), is_max ? argmax.data() : nullptr);
    r.write("output", output);
    r.write("argmax", argmax);
    return report + describe_roi_launch(launch.chunks, rois, g);
  });
}

std::string roi_align_3d_pool_backward(const LaunchRequest& r) {
  return for_dtype(r, [&]<typename scalar_t>() {
    const bool is_max = is_max_mode(r);
    const RoiAlignGeometry g = roi_geometry(r);
    const std::vector<scalar_t> rois = r.array<scalar_t>("rois");
    const int64_t K = static_cast<int64_t>(rois.size()) / 5;
    const auto grad =
        strided_array<scalar_t>(r, "grad", {K, g.channels, 1, g.pooled_h, g.pooled_w});
    const std::vector<int16_t> argmax =
        is_max ? r.array<int16_t>("argmax") : std::vector<int16_t>();
    const int16_t* arg = is_max ? argmax.data() : nullptr;
    // Zeroed, as the launcher's grad_acc: the kernels add into it.
    std::vector<scalar_t> grad_input(g.batch * g.channels * g.time * g.height * g.width, 0);
    std::string report = "launched=0";
    if (roi_backward_has_work(g, K, 1)) {
      if (r.integer("deterministic") != 0) {
        auto kernel =
            is_max
                ? cuda::roi_align_3d_pool_backward_deterministic_kernel<scalar_t, scalar_t, true>
                : cuda::roi_align_3d_pool_backward_deterministic_kernel<scalar_t, scalar_t, false>;
        report = run_kernel(
            cuda::grid_stride_launch(g.batch * g.channels * g.time), kernel, grad.values.data(),
            grad.strides, arg, rois.data(), K, g, grad_input.data());
      } else {
        const cuda::RoiLaunch launch =
            cuda::roi_block_launch(K, g.channels, g.pooled_h * g.pooled_w);
        auto kernel =
            is_max ? cuda::roi_align_3d_pool_backward_atomic_kernel<scalar_t, scalar_t, true>
                   : cuda::roi_align_3d_pool_backward_atomic_kernel<scalar_t, scalar_t, false>;
        report = run_kernel(
                     launch.sizes, kernel, grad.values.data(), grad.strides, arg, rois.data(), g,
                     launch.chunks, grad_input.data()) +
                 describe_roi_launch(launch.chunks, rois, g);
      }
    }
    r.write("grad_input", grad_input);
    return report;
  });
}

}  // namespace emulation
}  // namespace slowbench
