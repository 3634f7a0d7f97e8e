// Host side of the CUDA launchers (ATen, nvcc only): kernel arguments taken from tensors, and the
// launch sizes of kernel_launch.h turned into CUDA launch parameters after checking them against
// what one launch allows.
//
// Only narrow c10 CUDA headers are included (no ATen/cuda/CUDAContext.h, which pulls in
// cuBLAS/cuSPARSE/cuSOLVER headers that a minimal toolkit lacks).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>

#include <cstdint>

#include "kernel_launch.h"

namespace slowbench {
namespace cuda {

inline Strides5 strides_of(const at::Tensor& t) {
  return {t.stride(0), t.stride(1), t.stride(2), t.stride(3), t.stride(4)};
}

// roi_block_launch, with an error naming `op` when its blocks do not fit in one launch's grid.
inline RoiLaunch checked_roi_launch(
    const char* op, int64_t num_rois, int64_t channels, int64_t outputs_per_channel) {
  const RoiLaunch launch = roi_block_launch(num_rois, channels, outputs_per_channel);
  TORCH_CHECK(
      launch.sizes.blocks < (int64_t(1) << 31), op,
      ": too many RoIs x channel chunks for one launch (", launch.sizes.blocks, ")");
  return launch;
}

// The grid of a launch (a 1-d grid of sizes.blocks blocks, < 2^31 by construction).
inline dim3 grid_of(const LaunchSizes& sizes) {
  return dim3(static_cast<unsigned int>(sizes.blocks));
}

}  // namespace cuda
}  // namespace slowbench
