// Device helpers of the RoIAlign kernels: per-block RoI tap tables in shared memory (built once
// per block, reused by every channel and time step the block covers), and a direct per-sample path
// for RoIs whose tables do not fit.
#pragma once

#include <cstdint>

#include "../roi_align_common.h"
#include "device_compat.cuh"
#include "kernel_launch.h"

namespace slowbench {
namespace cuda {

// Per-block tap table for one RoI, laid out in dynamic shared memory:
//   yw[pooled_h * ycap] xw[pooled_w * xcap] (acc_t) | yidx, xidx (int) | ycnt[pooled_h],
//   xcnt[pooled_w]
// Bin p's rows are yidx[p * ycap + i], i < ycnt[p] (weights yw, inv_count folded in).
template <typename acc_t>
struct BlockTaps {
  // Set by build(); initialised so that a block without a table holds no indeterminate values.
  acc_t* yw = nullptr;
  acc_t* xw = nullptr;
  int* yidx = nullptr;
  int* xidx = nullptr;
  int* ycnt = nullptr;
  int* xcnt = nullptr;
  int ycap = 0, xcap = 0;

  SLOWBENCH_HOST_DEVICE static int64_t bytes_needed(
      int64_t pooled_h, int64_t pooled_w, int64_t grid_h, int64_t grid_w) {
    const int64_t entries = pooled_h * 2 * grid_h + pooled_w * 2 * grid_w;
    return entries * static_cast<int64_t>(sizeof(acc_t) + sizeof(int)) +
           (pooled_h + pooled_w) * int64_t(sizeof(int));
  }

  // Carves the table out of `smem` and fills it cooperatively; every thread of the block must
  // call it (it ends with __syncthreads()).
  SLOWBENCH_DEVICE void build(
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
  SLOWBENCH_DEVICE acc_t
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
  SLOWBENCH_DEVICE void scatter(int64_t width, int64_t ph, int64_t pw, acc_t g, Add add) const {
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

// Whether a block of RoI `box` builds its tap table in shared memory (else: the direct path, or a
// RoI that reads nothing).
template <typename acc_t>
SLOWBENCH_HOST_DEVICE bool uses_tap_table(const RoiBox<acc_t>& box, const RoiAlignGeometry& g) {
  return box.batch >= 0 && BlockTaps<acc_t>::bytes_needed(
                               g.pooled_h, g.pooled_w, box.grid_h, box.grid_w) <= kTapSmemBytes;
}

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
SLOWBENCH_DEVICE RoiBlock<acc_t> start_roi_block(
    unsigned char* smem,
    const acc_t* rois,
    const RoiAlignGeometry& g,
    const RoiChunks& chunks,
    BlockTaps<acc_t>& taps) {
  RoiBlock<acc_t> b;
  b.k = blockIdx.x / chunks.num_chunks;
  b.c0 = (blockIdx.x % chunks.num_chunks) * chunks.chunk;
  b.nc = g.channels - b.c0 < chunks.chunk ? g.channels - b.c0 : chunks.chunk;
  b.box = make_roi_box<acc_t>(rois + 5 * b.k, g);
  b.table = uses_tap_table(b.box, g);
  if (b.table) {  // block-uniform: every thread takes the same branch
    taps.build(smem, b.box, g.pooled_h, g.pooled_w, g.height, g.width);
  }
  return b;
}

// Direct path (no table): the reference's per-sample loop for bin (ph, pw).
template <typename scalar_t, typename acc_t>
SLOWBENCH_DEVICE acc_t direct_eval(
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
SLOWBENCH_DEVICE void direct_scatter(
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
