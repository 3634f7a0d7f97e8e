// CUDA helpers shared by the RoIAlign kernels: launch sizes, per-block RoI tap tables in
// shared memory (built once per block, reused by every channel and time step the block
// covers), and a direct per-sample path for RoIs whose tables do not fit.
//
// Only narrow c10/ATen CUDA headers are included (no ATen/cuda/CUDAContext.h, which pulls in
// cuBLAS/cuSPARSE/cuSOLVER headers that a minimal toolkit lacks).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/macros/Macros.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>

#include "../roi_align_common.h"

namespace slowbench {
namespace cuda {

constexpr int kThreads = 256;
// Dynamic shared memory per block for tap tables. RoIs needing more (sampling grids of
// ~60+ per bin and axis at 8x8 output) use the direct path.
constexpr int kTapSmemBytes = 16 * 1024;

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Blocks for a grid-stride loop over `n` items.
inline unsigned int blocks_for(int64_t n) {
  return static_cast<unsigned int>(
      std::min<int64_t>(std::max<int64_t>(ceil_div(n, kThreads), 1), int64_t(1) << 20));
}

// Launch shape of the RoI kernels: one block per (RoI, chunk of channels), about 4 outputs per
// thread so that the tap table a block builds is reused many times, while keeping enough
// blocks in flight.
struct RoiLaunch {
  int64_t chunk;       // channels per block
  int64_t num_chunks;  // blocks per RoI
  unsigned int blocks;
};

// `outputs_per_channel`: the outputs one (RoI, channel) pair has (T * ph * pw, or ph * pw
// when pooled over T).
inline RoiLaunch roi_launch(
    const char* op, int64_t num_rois, int64_t channels, int64_t outputs_per_channel) {
  const int64_t target = 4 * kThreads;
  const int64_t per_block =
      std::max<int64_t>(1, target / std::max<int64_t>(1, outputs_per_channel));
  const int64_t chunk = std::min<int64_t>(std::max<int64_t>(channels, 1), per_block);
  const int64_t num_chunks = ceil_div(channels, chunk);
  const int64_t blocks = num_rois * num_chunks;
  TORCH_CHECK(
      blocks < (int64_t(1) << 31), op, ": too many RoIs x channel chunks for one launch (", blocks,
      ")");
  return {chunk, num_chunks, static_cast<unsigned int>(blocks)};
}

struct Strides5 {
  int64_t n, c, t, h, w;
};

inline Strides5 strides_of(const at::Tensor& t) {
  return {t.stride(0), t.stride(1), t.stride(2), t.stride(3), t.stride(4)};
}

// Per-block tap table for one RoI, laid out in dynamic shared memory:
//   yw[pooled_h * ycap] xw[pooled_w * xcap] (acc_t) | yidx, xidx (int) | ycnt[pooled_h],
//   xcnt[pooled_w]
// Bin p's rows are yidx[p * ycap + i], i < ycnt[p] (weights yw, inv_count folded in).
template <typename acc_t>
struct BlockTaps {
  acc_t* yw;
  acc_t* xw;
  int* yidx;
  int* xidx;
  int* ycnt;
  int* xcnt;
  int ycap, xcap;

  __device__ static int64_t bytes_needed(
      int64_t pooled_h, int64_t pooled_w, int64_t grid_h, int64_t grid_w) {
    const int64_t entries = pooled_h * 2 * grid_h + pooled_w * 2 * grid_w;
    return entries * static_cast<int64_t>(sizeof(acc_t) + sizeof(int)) +
           (pooled_h + pooled_w) * int64_t(sizeof(int));
  }

  // Carves the table out of `smem` and fills it cooperatively; every thread of the block must
  // call it (it ends with __syncthreads()).
  __device__ void build(
      unsigned char* smem,
      const RoiBox<acc_t>& box,
      int64_t pooled_h,
      int64_t pooled_w,
      int64_t height,
      int64_t width) {
    ycap = static_cast<int>(2 * box.grid_h);
    xcap = static_cast<int>(2 * box.grid_w);
    yw = reinterpret_cast<acc_t*>(smem);
    xw = yw + pooled_h * ycap;
    yidx = reinterpret_cast<int*>(xw + pooled_w * xcap);
    xidx = yidx + pooled_h * ycap;
    ycnt = xidx + pooled_w * xcap;
    xcnt = ycnt + pooled_h;
    for (int64_t b = threadIdx.x; b < pooled_h + pooled_w; b += blockDim.x) {
      if (b < pooled_h) {
        ycnt[b] = static_cast<int>(axis_taps<acc_t, int>(
            box.start_h, box.bin_h, box.grid_h, b, height, box.inv_count, yidx + b * ycap,
            yw + b * ycap));
      } else {
        const int64_t p = b - pooled_h;
        xcnt[p] = static_cast<int>(axis_taps<acc_t, int>(
            box.start_w, box.bin_w, box.grid_w, p, width, acc_t(1), xidx + p * xcap,
            xw + p * xcap));
      }
    }
    __syncthreads();
  }

  // Value of bin (ph, pw) on one plane given by its H and W strides.
  template <typename scalar_t>
  __device__ acc_t
  eval(const scalar_t* plane, int64_t sh, int64_t sw, int64_t ph, int64_t pw) const {
    acc_t sum = 0;
    const int ny = ycnt[ph], nx = xcnt[pw];
    const int* yi = yidx + ph * ycap;
    const acc_t* ywp = yw + ph * ycap;
    const int* xi = xidx + pw * xcap;
    const acc_t* xwp = xw + pw * xcap;
    for (int i = 0; i < ny; ++i) {
      const scalar_t* row = plane + yi[i] * sh;
      acc_t row_sum = 0;
      for (int j = 0; j < nx; ++j) {
        row_sum += xwp[j] * static_cast<acc_t>(row[xi[j] * sw]);
      }
      sum += ywp[i] * row_sum;
    }
    return sum;
  }

  // Calls add(offset, weight * g) for every pixel bin (ph, pw) reads; offset = y * W + x.
  template <typename Add>
  __device__ void scatter(int64_t width, int64_t ph, int64_t pw, acc_t g, Add add) const {
    const int ny = ycnt[ph], nx = xcnt[pw];
    for (int i = 0; i < ny; ++i) {
      const acc_t gy = g * yw[ph * ycap + i];
      const int64_t row = static_cast<int64_t>(yidx[ph * ycap + i]) * width;
      for (int j = 0; j < nx; ++j) {
        add(row + xidx[pw * xcap + j], gy * xw[pw * xcap + j]);
      }
    }
  }
};

// The part of the RoI work one block of a RoI kernel owns: RoI k, channels [c0, c0 + nc).
template <typename acc_t>
struct RoiBlock {
  int64_t k, c0, nc;
  RoiBox<acc_t> box;
  bool table;  // the tap table is built (else: the direct path, or a RoI that reads nothing)
};

// Every thread of the block must call it: it builds the block's tap table in `smem` (ends with
// __syncthreads()) when the RoI reads the map and its table fits in kTapSmemBytes.
template <typename acc_t>
__device__ RoiBlock<acc_t> start_roi_block(
    unsigned char* smem,
    const acc_t* rois,
    const RoiAlignGeometry& g,
    const RoiLaunch& launch,
    BlockTaps<acc_t>& taps) {
  RoiBlock<acc_t> b;
  b.k = blockIdx.x / launch.num_chunks;
  b.c0 = (blockIdx.x % launch.num_chunks) * launch.chunk;
  b.nc = g.channels - b.c0 < launch.chunk ? g.channels - b.c0 : launch.chunk;
  b.box = make_roi_box<acc_t>(rois + 5 * b.k, g);
  b.table = b.box.batch >= 0 &&
            BlockTaps<acc_t>::bytes_needed(g.pooled_h, g.pooled_w, b.box.grid_h, b.box.grid_w) <=
                kTapSmemBytes;
  if (b.table) {  // block-uniform: every thread takes the same branch
    taps.build(smem, b.box, g.pooled_h, g.pooled_w, g.height, g.width);
  }
  return b;
}

// Direct path (no table): the reference's per-sample loop for bin (ph, pw).
template <typename scalar_t, typename acc_t>
__device__ acc_t direct_eval(
    const scalar_t* plane,
    int64_t sh,
    int64_t sw,
    int64_t height,
    int64_t width,
    const RoiBox<acc_t>& box,
    int64_t ph,
    int64_t pw) {
  acc_t sum = 0;
  for (int64_t iy = 0; iy < box.grid_h; ++iy) {
    const AxisSample<acc_t> y =
        axis_sample(sample_position(box.start_h, box.bin_h, box.grid_h, ph, iy), height);
    if (!y.valid) {
      continue;
    }
    const scalar_t* lo = plane + y.lo * sh;
    const scalar_t* hi = plane + y.hi * sh;
    for (int64_t ix = 0; ix < box.grid_w; ++ix) {
      const AxisSample<acc_t> x =
          axis_sample(sample_position(box.start_w, box.bin_w, box.grid_w, pw, ix), width);
      if (!x.valid) {
        continue;
      }
      sum += y.w_lo * (x.w_lo * static_cast<acc_t>(lo[x.lo * sw]) +
                       x.w_hi * static_cast<acc_t>(lo[x.hi * sw])) +
             y.w_hi * (x.w_lo * static_cast<acc_t>(hi[x.lo * sw]) +
                       x.w_hi * static_cast<acc_t>(hi[x.hi * sw]));
    }
  }
  return sum * box.inv_count;
}

// Direct path of the scatter: add(offset, weight * g) for each of the 4 neighbours of every sample.
template <typename acc_t, typename Add>
__device__ void direct_scatter(
    int64_t height,
    int64_t width,
    const RoiBox<acc_t>& box,
    int64_t ph,
    int64_t pw,
    acc_t g,
    Add add) {
  g *= box.inv_count;
  for (int64_t iy = 0; iy < box.grid_h; ++iy) {
    const AxisSample<acc_t> y =
        axis_sample(sample_position(box.start_h, box.bin_h, box.grid_h, ph, iy), height);
    if (!y.valid) {
      continue;
    }
    for (int64_t ix = 0; ix < box.grid_w; ++ix) {
      const AxisSample<acc_t> x =
          axis_sample(sample_position(box.start_w, box.bin_w, box.grid_w, pw, ix), width);
      if (!x.valid) {
        continue;
      }
      add(y.lo * width + x.lo, g * y.w_lo * x.w_lo);
      add(y.lo * width + x.hi, g * y.w_lo * x.w_hi);
      add(y.hi * width + x.lo, g * y.w_hi * x.w_lo);
      add(y.hi * width + x.hi, g * y.w_hi * x.w_hi);
    }
  }
}

}  // namespace cuda
}  // namespace slowbench
