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
// channel and time step. Every kernel, CPU or CUDA (tap table or direct path), computes from
// the same taps (AxisTapCursor), so they differ only in the floating-point summation order.
//
// NaN and Inf. The taps name exactly the pixels the reference reads, so a NaN there gives NaN,
// as in the reference. An Inf pixel contributes its row tap weight times its column tap weight
// times Inf: +-Inf where both weights are > 0, NaN where one is 0 (a pixel that the samples name
// only with weight 0: the far neighbour of a sample lying on a pixel row or column, e.g. row 1
// for samples clamped to row 0), NaN too where Infs of both signs meet. Unlike the reference,
// which multiplies the 4 weights of each sample separately, an Inf in the last row or column
// gives Inf: the clamped samples there name that row twice, and the taps merge the two weights
// (1 and 0) into one. The gradient follows the same rule for an Inf gradient.
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

// The taps of bin `p` along one axis (rows when given the h quantities, columns with the w
// ones), handed out one at a time: each valid sample names its two neighbours (lo, hi) with
// their bilinear weights times `scale`, and an index that repeats one of the last kMergeWindow
// taps is merged into it (weights added in sample order). Sample positions are monotonic along
// a bin, so a repeated index is always among the last few taps and every index comes out once,
// with its weights summed over the bin's samples. A tap is handed out once it can no longer
// merge (kMergeWindow newer taps follow it, or the samples are done), so the cursor holds at
// most kMergeWindow + 2 taps whatever the sampling grid: the CUDA direct path computes on it
// as it goes, and store_taps() fills the tables (CUDA table path, CPU op) from it.
template <typename acc_t>
class AxisTapCursor {
 public:
  SLOWBENCH_HOST_DEVICE AxisTapCursor(
      acc_t start, acc_t bin, int64_t grid, int64_t p, int64_t size, acc_t scale)
      : start_(start), bin_(bin), scale_(scale), grid_(grid), p_(p), size_(size) {}

  // The next tap (in the order the samples name them); false when there is none left.
  SLOWBENCH_HOST_DEVICE bool next(int64_t& index, acc_t& weight) {
    while (count_ <= kMergeWindow && sample_ < grid_) {
      add_sample(sample_++);
    }
    if (count_ == 0) {
      return false;
    }
    index = idx_[0];
    weight = w_[0];
    for (int i = 0; i + 1 < kCapacity; ++i) {
      idx_[i] = idx_[i + 1];
      w_[i] = w_[i + 1];
    }
    --count_;
    return true;
  }

 private:
  static constexpr int kMergeWindow = 4;
  static constexpr int kCapacity = kMergeWindow + 2;  // a sample adds up to 2 taps

  SLOWBENCH_HOST_DEVICE void add_sample(int64_t i) {
    const AxisSample<acc_t> s = axis_sample(sample_position(start_, bin_, grid_, p_, i), size_);
    if (s.valid) {
      add(s.lo, s.w_lo * scale_);
      add(s.hi, s.w_hi * scale_);
    }
  }

  // Merges into the newest of the last kMergeWindow taps with this index, else appends. The
  // loops have constant trip counts and, unrolled, constant indices: nvcc keeps the taps in
  // registers (with a variable index they would live in local memory).
  SLOWBENCH_HOST_DEVICE void add(int64_t index, acc_t weight) {
    bool merged = false;
    for (int i = kCapacity - 1; i >= 0; --i) {
      if (!merged && i < count_ && i >= count_ - kMergeWindow && idx_[i] == index) {
        w_[i] += weight;
        merged = true;
      }
    }
    for (int i = 0; i < kCapacity; ++i) {
      if (!merged && i == count_) {
        idx_[i] = index;
        w_[i] = weight;
      }
    }
    count_ += merged ? 0 : 1;
  }

  acc_t start_, bin_, scale_;
  int64_t grid_, p_, size_;
  int64_t sample_ = 0;  // the next sample to read
  int count_ = 0;       // taps held, oldest first
  int64_t idx_[kCapacity] = {};
  acc_t w_[kCapacity] = {};
};

// The row taps of bin row ph, with the bin's 1 / sample count folded into their weights, and
// the column taps of bin column pw.
template <typename acc_t>
SLOWBENCH_HOST_DEVICE inline AxisTapCursor<acc_t> row_taps(
    const RoiBox<acc_t>& box, int64_t ph, int64_t height) {
  return {box.start_h, box.bin_h, box.grid_h, ph, height, box.inv_count};
}

template <typename acc_t>
SLOWBENCH_HOST_DEVICE inline AxisTapCursor<acc_t> column_taps(
    const RoiBox<acc_t>& box, int64_t pw, int64_t width) {
  return {box.start_w, box.bin_w, box.grid_w, pw, width, acc_t(1)};
}

// Stores every tap of `taps` into idx / w (at most 2 * grid entries); returns their number.
template <typename acc_t, typename index_t>
SLOWBENCH_HOST_DEVICE inline int64_t store_taps(AxisTapCursor<acc_t> taps, index_t* idx, acc_t* w) {
  int64_t n = 0, index;
  acc_t weight;
  while (taps.next(index, weight)) {
    idx[n] = static_cast<index_t>(index);
    w[n] = weight;
    ++n;
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
