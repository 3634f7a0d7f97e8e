// Launching a kernel header's kernels on HIP-CPU, as the CUDA launchers do on a GPU. Include
// this first in a file that includes a kernel header: HIP-CPU must precede the kernels
// (csrc/cuda/device_compat.cuh).
#pragma once

#include <hip/hip_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/kernel_launch.h"
#include "launch_request.h"

namespace slowbench {
namespace emulation {

// Runs `kernel` on HIP-CPU with a real launch's sizes, waits for it, and describes the launch
// for the report; no launch when sizes.blocks == 0, as in the CUDA launchers.
template <typename Kernel, typename... Args>
std::string run_kernel(const cuda::LaunchSizes& sizes, Kernel kernel, Args... args) {
  if (sizes.blocks == 0) {
    return "launched=0";
  }
  hipLaunchKernelGGL(
      kernel, dim3(static_cast<uint32_t>(sizes.blocks)), dim3(sizes.threads),
      static_cast<uint32_t>(sizes.shared_bytes), nullptr, args...);
  if (hipDeviceSynchronize() != hipSuccess || hipGetLastError() != hipSuccess) {
    throw std::runtime_error("HIP-CPU reported an error for the launch");
  }
  return "launched=1 blocks=" + std::to_string(sizes.blocks) +
         " threads=" + std::to_string(sizes.threads) +
         " shared_bytes=" + std::to_string(sizes.shared_bytes);
}

// Calls body.template operator()<scalar_t>() with the request's dtype: float32 or float64 (the
// kernels also take half types on a GPU, but HIP-CPU has no half atomics). Their op-math type is
// themselves, so the kernels run with acc_t = scalar_t, as on a GPU.
template <typename Body>
std::string for_dtype(const LaunchRequest& r, Body&& body) {
  const std::string& dtype = r.text("dtype");
  if (dtype == "float32") {
    return body.template operator()<float>();
  }
  if (dtype == "float64") {
    return body.template operator()<double>();
  }
  throw std::runtime_error(r.id() + ": dtype must be float32 or float64, got " + dtype);
}

// Whether a RoI backward launches a kernel: the CUDA launchers' prepare_roi_backward(...).has_work
// (csrc/op_setup.cpp): an input gradient and a gradient that are both non-empty.
inline bool roi_backward_has_work(const RoiAlignGeometry& g, int64_t num_rois, int64_t grad_time) {
  return g.batch * g.channels * g.time * g.height * g.width > 0 &&
         num_rois * g.channels * grad_time * g.pooled_h * g.pooled_w > 0;
}

}  // namespace emulation
}  // namespace slowbench
