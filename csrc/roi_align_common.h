// RoIAlign geometry shared by the CPU and CUDA kernels (host + device code).
//
// Semantics are those of torchvision / mmcv RoIAlign in average mode, applied to every
// temporal slice of an [N, C, T, H, W] map:
//   - the box (x1, y1, x2, y2) is scaled by spatial_scale and, when `aligned`, shifted by
//     -0.5 (the half-pixel model); without `aligned` the box size is clamped to >= 1;
//   - each of the pooled_h x pooled_w bins is sampled on a grid_h x grid_w grid, where
//     grid = sampling_ratio if > 0, else ceil(roi_size / pooled_size) (adaptive);
//   - a sample with y < -1, y > H, x < -1 or x > W contributes 0 but still counts in the
//     average; coordinates in [-1, 0] clamp to 0 and those >= size - 1 clamp to size - 1;
//   - the bin value is the sum of the bilinear samples divided by max(grid_h * grid_w, 1).
//
// Bilinear weights are separable: the weight of pixel (y, x) for sample (iy, ix) is
// wy(iy, y) * wx(ix, x), and the out-of-range rule is separable too (a sample is dropped
// when its y or its x is out of range). Since the samples of a bin form the full product
// of its iy and ix positions, a bin equals
//     inv_count * sum_i wy_i * sum_j wx_j * v[row_i, col_j]
// over the distinct rows (and columns) its samples touch, with each row's weights summed
// over the samples. These "taps" are built once per RoI and bin and reused over every
// channel and time step. The set of pixels read is exactly the set the reference reads
// (so NaN/Inf propagate the same way); only the floating-point summation order differs.
#pragma once

#include <cmath>
#include <cstdint>

#include "host_device.h"

namespace slowbench {

// Upper bound on the sampling grid per bin and axis: keeps huge (finite) boxes from
// overflowing integer conversions. Far beyond any meaningful RoI.
constexpr int64_t kMaxGrid = int64_t(1) << 20;

// Where one RoI lies on the feature map; identical for every channel and time step.
template <typename acc_t>
struct RoiBox {
  int64_t batch;           // -1 when the batch index is not in [0, N) (never read then)
  acc_t start_h, start_w;  // top-left corner in feature-map pixels
  acc_t bin_h, bin_w;      // bin size in feature-map pixels (may be <= 0)
  int64_t grid_h, grid_w;  // samples per bin along each axis (>= 0)
  acc_t inv_count;         // 1 / max(grid_h * grid_w, 1)
};

template <typename acc_t>
SLOWBENCH_HOST_DEVICE inline int64_t grid_size(
    acc_t roi_size, int64_t pooled, int64_t sampling_ratio) {
  if (sampling_ratio > 0) {
    return sampling_ratio;
  }
  // ceil in double of the acc_t quotient: the same value as the reference's ceil.
  const double g = ::ceil(static_cast<double>(roi_size / static_cast<acc_t>(pooled)));
  if (!(g > 0)) {  // also catches NaN
    return 0;
  }
  return g > static_cast<double>(kMaxGrid) ? kMaxGrid : static_cast<int64_t>(g);
}

// One call's geometry: the input's sizes and the RoIAlign parameters, shared by every RoI
// of the call (passed by value to the CUDA kernels).
struct RoiAlignGeometry {
  int64_t batch, channels, time, height, width;
  int64_t pooled_h, pooled_w;
  double spatial_scale;
  int64_t sampling_ratio;
  bool aligned;
};

// `roi` points at the 5 values (batch, x1, y1, x2, y2), already in acc_t.
template <typename acc_t>
SLOWBENCH_HOST_DEVICE inline RoiBox<acc_t> make_roi_box(
    const acc_t* roi, const RoiAlignGeometry& g) {
  RoiBox<acc_t> box;
  const acc_t b = roi[0];
  box.batch = (b >= 0 && b < static_cast<acc_t>(g.batch)) ? static_cast<int64_t>(b) : -1;
  const acc_t scale = static_cast<acc_t>(g.spatial_scale);
  const acc_t offset = g.aligned ? acc_t(0.5) : acc_t(0);
  box.start_w = roi[1] * scale - offset;
  box.start_h = roi[2] * scale - offset;
  const acc_t end_w = roi[3] * scale - offset;
  const acc_t end_h = roi[4] * scale - offset;
  acc_t roi_w = end_w - box.start_w;
  acc_t roi_h = end_h - box.start_h;
  if (!g.aligned) {  // legacy geometry: boxes are at least 1x1
    roi_w = roi_w > acc_t(1) ? roi_w : acc_t(1);
    roi_h = roi_h > acc_t(1) ? roi_h : acc_t(1);
  }
  box.bin_h = roi_h / static_cast<acc_t>(g.pooled_h);
  box.bin_w = roi_w / static_cast<acc_t>(g.pooled_w);
  box.grid_h = grid_size(roi_h, g.pooled_h, g.sampling_ratio);
  box.grid_w = grid_size(roi_w, g.pooled_w, g.sampling_ratio);
  const int64_t count = box.grid_h * box.grid_w;
  box.inv_count = acc_t(1) / static_cast<acc_t>(count > 1 ? count : 1);
  return box;
}

// One sampling position along one axis (torchvision's bilinear_interpolate, per axis):
// the two neighbouring indices and their weights. `valid` is false when the position is
// out of range (NaN included): the sample contributes 0 and reads nothing.
template <typename acc_t>
struct AxisSample {
  int64_t lo, hi;
  acc_t w_lo, w_hi;
  bool valid;
};

template <typename acc_t>
SLOWBENCH_HOST_DEVICE inline AxisSample<acc_t> axis_sample(acc_t v, int64_t size) {
  AxisSample<acc_t> s{0, 0, acc_t(0), acc_t(0), false};
  if (!(v >= acc_t(-1) && v <= static_cast<acc_t>(size))) {
    return s;
  }
  if (v <= 0) {
    v = 0;
  }
  s.lo = static_cast<int64_t>(v);
  if (s.lo >= size - 1) {
    s.lo = s.hi = size - 1;
    v = static_cast<acc_t>(s.lo);
  } else {
    s.hi = s.lo + 1;
  }
  s.w_hi = v - static_cast<acc_t>(s.lo);
  s.w_lo = acc_t(1) - s.w_hi;
  s.valid = true;
  return s;
}

// Position of sample i of bin p along one axis (the reference's exact expression).
template <typename acc_t>
SLOWBENCH_HOST_DEVICE inline acc_t sample_position(
    acc_t start, acc_t bin, int64_t grid, int64_t p, int64_t i) {
  return start + static_cast<acc_t>(p) * bin +
         (static_cast<acc_t>(i) + acc_t(0.5)) * bin / static_cast<acc_t>(grid);
}

// Appends (index, weight) to a tap list, merging it into one of the last entries when the
// index repeats. Sample positions are monotonic along a bin, so a repeated index is always
// among the last few entries.
template <typename acc_t, typename index_t>
SLOWBENCH_HOST_DEVICE inline void add_tap(
    index_t index, acc_t weight, index_t* idx, acc_t* w, int64_t& n) {
  const int64_t first = n > 4 ? n - 4 : 0;
  for (int64_t i = n - 1; i >= first; --i) {
    if (idx[i] == index) {
      w[i] += weight;
      return;
    }
  }
  idx[n] = index;
  w[n] = weight;
  ++n;
}

// The taps of bin `p` along one axis (rows when called with the h quantities, columns
// with the w ones): writes at most 2 * grid entries into idx / w and returns their number.
// Weights are multiplied by `scale` (used to fold in inv_count).
template <typename acc_t, typename index_t>
SLOWBENCH_HOST_DEVICE inline int64_t axis_taps(
    acc_t start,
    acc_t bin,
    int64_t grid,
    int64_t p,
    int64_t size,
    acc_t scale,
    index_t* idx,
    acc_t* w) {
  int64_t n = 0;
  for (int64_t i = 0; i < grid; ++i) {
    const AxisSample<acc_t> s = axis_sample(sample_position(start, bin, grid, p, i), size);
    if (!s.valid) {
      continue;
    }
    add_tap(static_cast<index_t>(s.lo), s.w_lo * scale, idx, w, n);
    add_tap(static_cast<index_t>(s.hi), s.w_hi * scale, idx, w, n);
  }
  return n;
}

// NaN-aware "is v a new maximum" for a running max over t: the first NaN wins and stays,
// ties keep the earliest index (torch.max semantics).
template <typename acc_t>
SLOWBENCH_HOST_DEVICE inline bool replaces_max(acc_t v, acc_t best) {
  return (best == best) & ((v > best) | (v != v));  // bitwise: no branches
}

}  // namespace slowbench
