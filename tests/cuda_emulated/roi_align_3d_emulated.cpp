// roi_align_3d's CUDA launchers (csrc/cuda/roi_align_3d.cu), emulated. Requests: N C T H W ph pw
// scale sampling_ratio aligned dtype, rois ([K, 5]), and input (forward) or grad + deterministic
// (backward), strided.
#include "roi_launch_report.h"  // HIP-CPU first
#include "cuda/roi_align_3d_kernels.cuh"
#include "emulated_ops.h"

namespace slowbench {
namespace emulation {

std::string roi_align_3d(const LaunchRequest& r) {
  return for_dtype(r, [&]<typename scalar_t>() {
    const RoiAlignGeometry g = roi_geometry(r);
    const auto input =
        strided_array<scalar_t>(r, "input", {g.batch, g.channels, g.time, g.height, g.width});
    const std::vector<scalar_t> rois = r.array<scalar_t>("rois");
    const int64_t K = static_cast<int64_t>(rois.size()) / 5;
    const int64_t per_channel = g.time * g.pooled_h * g.pooled_w;
    std::vector<scalar_t> output(K * g.channels * per_channel);
    const cuda::RoiLaunch launch = cuda::roi_block_launch(K, g.channels, per_channel);
    const std::string report = run_kernel(
        launch.sizes, cuda::roi_align_3d_forward_kernel<scalar_t, scalar_t>, input.values.data(),
        input.strides, rois.data(), g, launch.chunks, output.data());
    r.write("output", output);
    return report + describe_roi_launch(launch.chunks, rois, g);
  });
}

std::string roi_align_3d_backward(const LaunchRequest& r) {
  return for_dtype(r, [&]<typename scalar_t>() {
    const RoiAlignGeometry g = roi_geometry(r);
    const std::vector<scalar_t> rois = r.array<scalar_t>("rois");
    const int64_t K = static_cast<int64_t>(rois.size()) / 5;
    const auto grad =
        strided_array<scalar_t>(r, "grad", {K, g.channels, g.time, g.pooled_h, g.pooled_w});
    // Zeroed, as the launcher's grad_acc: the kernels add into it.
    std::vector<scalar_t> grad_input(g.batch * g.channels * g.time * g.height * g.width, 0);
    std::string report = "launched=0";
    if (roi_backward_has_work(g, K, g.time)) {
      if (r.integer("deterministic") != 0) {
        report = run_kernel(
            cuda::grid_stride_launch(g.batch * g.channels * g.time),
            cuda::roi_align_3d_backward_deterministic_kernel<scalar_t, scalar_t>,
            grad.values.data(), grad.strides, rois.data(), K, g, grad_input.data());
      } else {
        const cuda::RoiLaunch launch =
            cuda::roi_block_launch(K, g.channels, g.time * g.pooled_h * g.pooled_w);
        report = run_kernel(
                     launch.sizes, cuda::roi_align_3d_backward_atomic_kernel<scalar_t, scalar_t>,
                     grad.values.data(), grad.strides, rois.data(), g, launch.chunks,
                     grad_input.data()) +
                 describe_roi_launch(launch.chunks, rois, g);
      }
    }
    r.write("grad_input", grad_input);
    return report;
  });
}

}  // namespace emulation
}  // namespace slowbench
