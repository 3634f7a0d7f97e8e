// How the CUDA kernels are launched, in plain C++ (no CUDA, no ATen): the arguments the
// launchers pass besides pointers (strides, the channel chunks of the RoI kernels) and the grid,
// block and dynamic shared memory sizes of each kernel family. The launchers (csrc/cuda/*.cu) and
// the HIP-CPU emulation (tests/cuda_emulated/) call the same functions, so that the emulated
// launch is the real one.
#pragma once

#include <algorithm>
#include <cstdint>

namespace slowbench {
namespace cuda {

// Threads per block, in every kernel.
constexpr int kThreads = 256;
// Dynamic shared memory per block of the RoI kernels, for their tap tables. RoIs needing more
// (sampling grids of ~60+ per bin and axis at 8x8 output) use the direct path.
constexpr int kTapSmemBytes = 16 * 1024;
// Most blocks of a grid-stride launch: each thread loops over what is left.
constexpr int64_t kMaxGridStrideBlocks = int64_t(1) << 20;

// A 5-d tensor's strides, in elements.
struct Strides5 {
  int64_t n, c, t, h, w;
};

// One launch: `blocks` blocks of `threads` threads, each with `shared_bytes` of dynamic shared
// memory. blocks == 0: nothing to compute, no launch.
struct LaunchSizes {
  int64_t blocks;
  int threads;
  int shared_bytes;
};

// How the RoI kernels split their work: one block per (RoI, chunk of channels).
struct RoiChunks {
  int64_t chunk;       // channels per block (the last chunk of a RoI may have fewer)
  int64_t num_chunks;  // blocks per RoI
};

struct RoiLaunch {
  RoiChunks chunks;
  LaunchSizes sizes;
};

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// The RoI kernels (roi_align_3d and roi_align_3d_pool: forward and atomic backward): about 4
// outputs per thread, so that the tap table a block builds is reused many times, while keeping
// enough blocks in flight. `outputs_per_channel`: the outputs of one (RoI, channel) pair (T * ph
// * pw, or ph * pw when pooled over T). The blocks may exceed what one launch allows: the
// launcher checks that (checked_roi_launch).
inline RoiLaunch roi_block_launch(int64_t num_rois, int64_t channels, int64_t outputs_per_channel) {
  const int64_t target = 4 * kThreads;
  const int64_t per_block =
      std::max<int64_t>(1, target / std::max<int64_t>(1, outputs_per_channel));
  const int64_t chunk = std::min<int64_t>(std::max<int64_t>(channels, 1), per_block);
  const int64_t num_chunks = ceil_div(channels, chunk);
  const bool empty = num_rois == 0 || channels == 0 || outputs_per_channel == 0;
  return {{chunk, num_chunks}, {empty ? 0 : num_rois * num_chunks, kThreads, kTapSmemBytes}};
}

// The grid-stride kernels (temporal_pool; the deterministic RoI backward, one item per gradient
// plane) over `items` work items.
inline LaunchSizes grid_stride_launch(int64_t items) {
  return {std::min(ceil_div(items, kThreads), kMaxGridStrideBlocks), kThreads, 0};
}

}  // namespace cuda
}  // namespace slowbench
