// The CUDA launchers of csrc/cuda/*.cu, emulated on HIP-CPU: each runs its op's kernels with
// the launcher's launch sizes on the arrays of one launch request, writes the outputs next to
// them, and returns a description of the launch for the report.
#pragma once

#include <string>

#include "launch_request.h"

namespace slowbench {
namespace emulation {

std::string roi_align_3d(const LaunchRequest& r);                // output
std::string roi_align_3d_backward(const LaunchRequest& r);       // grad_input
std::string roi_align_3d_pool(const LaunchRequest& r);           // output, argmax (max)
std::string roi_align_3d_pool_backward(const LaunchRequest& r);  // grad_input
std::string temporal_pool(const LaunchRequest& r);               // output, argmax (max)
std::string temporal_pool_backward(const LaunchRequest& r);      // grad_input

}  // namespace emulation
}  // namespace slowbench
