// Device helpers of the RoIAlign kernels: per-block RoI tap tables in shared memory (built once
// per block, reused by every channel and time step the block covers), and the direct path for
// RoIs whose tables do not fit, which computes the same taps as it uses them (AxisTapCursor).
#pragma once

#include <cstdint>

#include "../roi_align_common.h"
#include "device_compat.cuh"
#include "kernel_launch.h"

namespace slowbench {
namespace cuda {

// The taps of one bin's rows or columns, read back from a BlockTaps table in order.
template <typename acc_t>
struct StoredTaps {
  const int* idx;
  const acc_t* w;
  int count;
  int next_tap = 0;

  SLOWBENCH_DEVICE bool next(int64_t& index, acc_t& weight) {
    if (next_tap == count) {
      return false;
    }
    index = idx[next_tap];
    weight = w[next_tap];
    ++next_tap;
    return true;
  }
};

// Value of one bin on a plane with H and W strides sh, sw: the sum over its row taps of the row
// weight times the row's sum over the column taps, so that no acc_t sum has more terms than a
// bin has taps along one axis (at most 2 * grid) whatever the sampling ratio. `rows` hands out
// the row taps; columns() starts a walk of the column taps. The table and the direct path both
// compute here, on the same taps.
template <typename scalar_t, typename acc_t, typename Rows, typename Columns>
SLOWBENCH_DEVICE acc_t
bin_value(const scalar_t* plane, int64_t sh, int64_t sw, Rows rows, Columns columns) {
  acc_t sum = 0, wy, wx;
  int64_t y, x;
  while (rows.next(y, wy)) {
    const scalar_t* row = plane + y * sh;
    acc_t row_sum = 0;
    for (auto cols = columns(); cols.next(x, wx);) {
      row_sum += wx * static_cast<acc_t>(row[x * sw]);
    }
    sum += wy * row_sum;
  }
  return sum;
}

// The gradient of one bin: add(offset, g * row weight * column weight) for every pixel it reads,
// offset = y * width + x (taps as in bin_value).
template <typename acc_t, typename Rows, typename Columns, typename Add>
SLOWBENCH_DEVICE void scatter_bin(int64_t width, Rows rows, Columns columns, acc_t g, Add add) {
  acc_t wy, wx;
  int64_t y, x;
  while (rows.next(y, wy)) {
    const acc_t gy = g * wy;
    for (auto cols = columns(); cols.next(x, wx);) {
      add(y * width + x, gy * wx);
    }
  }
}

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
        ycnt[b] =
            static_cast<int>(store_taps(row_taps(box, b, height), yidx + b * ycap, yw + b * ycap));
      } else {
        const int64_t p = b - pooled_h;
        xcnt[p] = static_cast<int>(
            store_taps(column_taps(box, p, width), xidx + p * xcap, xw + p * xcap));
      }
    }
    __syncthreads();
  }

  SLOWBENCH_DEVICE StoredTaps<acc_t> rows(int64_t ph) const {
    return {yidx + ph * ycap, yw + ph * ycap, ycnt[ph]};
  }

  SLOWBENCH_DEVICE StoredTaps<acc_t> columns(int64_t pw) const {
    return {xidx + pw * xcap, xw + pw * xcap, xcnt[pw]};
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

// Value of bin (ph, pw) of the block's RoI on one plane (strides sh, sw): from the block's table,
// or (the direct path) from taps computed as they are used, the same taps bit for bit.
template <typename scalar_t, typename acc_t>
SLOWBENCH_DEVICE acc_t block_bin_value(
    const RoiBlock<acc_t>& b,
    const BlockTaps<acc_t>& taps,
    const RoiAlignGeometry& g,
    const scalar_t* plane,
    int64_t sh,
    int64_t sw,
    int64_t ph,
    int64_t pw) {
  if (b.table) {
    return bin_value<scalar_t, acc_t>(
        plane, sh, sw, taps.rows(ph), [&] { return taps.columns(pw); });
  }
  return bin_value<scalar_t, acc_t>(plane, sh, sw, row_taps(b.box, ph, g.height), [&] {
    return column_taps(b.box, pw, g.width);
  });
}

// Direct path of the gradient of bin (ph, pw) of the RoI `box` (see scatter_bin).
template <typename acc_t, typename Add>
SLOWBENCH_DEVICE void direct_scatter(
    const RoiAlignGeometry& g,
    const RoiBox<acc_t>& box,
    int64_t ph,
    int64_t pw,
    acc_t grad,
    Add add) {
  scatter_bin(
      g.width, row_taps(box, ph, g.height), [&] { return column_taps(box, pw, g.width); }, grad,
      add);
}

// The gradient of bin (ph, pw) of the block's RoI, from its table or on the direct path.
template <typename acc_t, typename Add>
SLOWBENCH_DEVICE void block_scatter(
    const RoiBlock<acc_t>& b,
    const BlockTaps<acc_t>& taps,
    const RoiAlignGeometry& g,
    int64_t ph,
    int64_t pw,
    acc_t grad,
    Add add) {
  if (b.table) {
    scatter_bin(g.width, taps.rows(ph), [&] { return taps.columns(pw); }, grad, add);
  } else {
    direct_scatter(g, b.box, ph, pw, grad, add);
  }
}

// The skeleton of the deterministic backward kernels: one thread per (n, c, t) plane of
// grad_acc ([N, C, T, H, W], zeroed) adds the RoIs of batch n in RoI order, so reruns give the
// same bits without atomics. scatter_roi(box, k, c, t, add) adds RoI k's bins through
// add(offset in the plane, value).
template <typename acc_t, typename ScatterRoi>
SLOWBENCH_DEVICE void scatter_planes_in_roi_order(
    const acc_t* __restrict__ rois,
    int64_t K,
    const RoiAlignGeometry& g,
    acc_t* __restrict__ grad_acc,
    ScatterRoi scatter_roi) {
  const int64_t C = g.channels, T = g.time;
  const int64_t planes = g.batch * C * T;
  for (int64_t plane_id = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; plane_id < planes;
       plane_id += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = plane_id / (C * T);
    const int64_t c = (plane_id / T) % C;
    const int64_t t = plane_id % T;
    acc_t* plane = grad_acc + plane_id * g.height * g.width;
    auto add = [plane](int64_t offset, acc_t v) { plane[offset] += v; };
    for (int64_t k = 0; k < K; ++k) {
      const RoiBox<acc_t> box = make_roi_box<acc_t>(rois + 5 * k, g);
      if (box.batch == n) {
        scatter_roi(box, k, c, t, add);
      }
    }
  }
}

}  // namespace cuda
}  // namespace slowbench
