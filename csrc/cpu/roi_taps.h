// CPU helpers shared by the RoIAlign kernels: per-RoI tap tables (built once per RoI and
// bin, reused across every channel and time step), bin evaluation and gradient scatter.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../roi_align_common.h"

namespace slowbench {
namespace cpu {

// Rows and columns read by every bin of one RoI (see roi_align_common.h). Bin (ph, pw) reads
// rows yidx[yoff[ph] .. yoff[ph + 1]) with weights yw (inv_count folded in) and columns
// xidx[xoff[pw] .. xoff[pw + 1]) with weights xw.
template <typename acc_t>
struct RoiTaps {
  int64_t batch = -1;  // -1: batch index out of range (the RoI reads nothing)
  std::vector<int64_t> yoff, xoff;
  std::vector<int64_t> yidx, xidx;
  std::vector<acc_t> yw, xw;
  // Bounding rows / columns of all taps (ymax < ymin when the RoI reads nothing).
  int64_t ymin = 0, ymax = -1, xmin = 0, xmax = -1;
};

// The taps of the `pooled` bins along one axis, bin p's from taps_of(p) (an AxisTapCursor),
// appended to idx / w with off[p] .. off[p + 1] delimiting bin p's; lo / hi: the smallest and
// largest index of all (lo = size > hi = -1 when there is none).
template <typename acc_t, typename TapsOf>
void build_axis(
    int64_t pooled,
    int64_t grid,
    int64_t size,
    TapsOf taps_of,
    std::vector<int64_t>& off,
    std::vector<int64_t>& idx,
    std::vector<acc_t>& w,
    int64_t& lo,
    int64_t& hi) {
  off.assign(pooled + 1, 0);
  std::vector<int64_t> tmp_idx(2 * grid + 1);
  std::vector<acc_t> tmp_w(2 * grid + 1);
  lo = size;
  hi = -1;
  for (int64_t p = 0; p < pooled; ++p) {
    const int64_t n = store_taps(taps_of(p), tmp_idx.data(), tmp_w.data());
    for (int64_t i = 0; i < n; ++i) {
      idx.push_back(tmp_idx[i]);
      w.push_back(tmp_w[i]);
      lo = std::min(lo, tmp_idx[i]);
      hi = std::max(hi, tmp_idx[i]);
    }
    off[p + 1] = static_cast<int64_t>(idx.size());
  }
}

// The taps of every RoI of `rois` ([K, 5], any floating dtype; converted to acc_t).
template <typename acc_t>
std::vector<RoiTaps<acc_t>> build_roi_taps(const at::Tensor& rois, const RoiAlignGeometry& g) {
  const at::Tensor rois_acc = rois.to(c10::CppTypeToScalarType<acc_t>::value).contiguous();
  const int64_t K = rois_acc.size(0);
  std::vector<RoiTaps<acc_t>> taps(K);
  const acc_t* r = rois_acc.const_data_ptr<acc_t>();
  at::parallel_for(0, K, 4, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const RoiBox<acc_t> box = make_roi_box<acc_t>(r + 5 * k, g);
      RoiTaps<acc_t>& t = taps[k];
      t.batch = box.batch;
      if (box.batch < 0) {
        t.yoff.assign(g.pooled_h + 1, 0);
        t.xoff.assign(g.pooled_w + 1, 0);
        continue;
      }
      build_axis(
          g.pooled_h, box.grid_h, g.height, [&](int64_t p) { return row_taps(box, p, g.height); },
          t.yoff, t.yidx, t.yw, t.ymin, t.ymax);
      build_axis(
          g.pooled_w, box.grid_w, g.width, [&](int64_t p) { return column_taps(box, p, g.width); },
          t.xoff, t.xidx, t.xw, t.xmin, t.xmax);
    }
  });
  return taps;
}

// Adds g times the weights of bin (ph, pw) into a contiguous [H, W] accumulation plane.
template <typename acc_t>
inline void scatter_bin(
    acc_t* plane, int64_t width, const RoiTaps<acc_t>& t, int64_t ph, int64_t pw, acc_t g) {
  for (int64_t i = t.yoff[ph]; i < t.yoff[ph + 1]; ++i) {
    acc_t* row = plane + t.yidx[i] * width;
    const acc_t gy = g * t.yw[i];
    for (int64_t j = t.xoff[pw]; j < t.xoff[pw + 1]; ++j) {
      row[t.xidx[j]] += gy * t.xw[j];
    }
  }
}

// All bins of one [H, W] plane (strides stride_h / stride_w, origin at (y0, x0)) into
// out[pooled_h * pooled_w], two passes per bin row: mix the bin's rows over the RoI's column
// footprint (contiguous along W, vectorisable), then combine the column taps of each bin.
// Reads exactly the pixels the bin's taps name. `mix` is scratch of at least footprint-width
// entries.
template <typename scalar_t, typename acc_t>
inline void eval_plane(
    const scalar_t* plane,
    int64_t stride_h,
    int64_t stride_w,
    int64_t y0,
    int64_t x0,
    const RoiTaps<acc_t>& t,
    int64_t pooled_h,
    int64_t pooled_w,
    acc_t* mix,
    acc_t* out) {
  const int64_t fw = t.xmax - t.xmin + 1;
  if (fw <= 0) {
    std::fill(out, out + pooled_h * pooled_w, acc_t(0));
    return;
  }
  const int64_t col0 = t.xmin - x0;
  for (int64_t ph = 0; ph < pooled_h; ++ph) {
    std::fill(mix, mix + fw, acc_t(0));
    for (int64_t i = t.yoff[ph]; i < t.yoff[ph + 1]; ++i) {
      const scalar_t* row = plane + (t.yidx[i] - y0) * stride_h + col0 * stride_w;
      const acc_t w = t.yw[i];
      if (stride_w == 1) {
        for (int64_t x = 0; x < fw; ++x) {
          mix[x] += w * static_cast<acc_t>(row[x]);
        }
      } else {
        for (int64_t x = 0; x < fw; ++x) {
          mix[x] += w * static_cast<acc_t>(row[x * stride_w]);
        }
      }
    }
    for (int64_t pw = 0; pw < pooled_w; ++pw) {
      acc_t v = 0;
      for (int64_t j = t.xoff[pw]; j < t.xoff[pw + 1]; ++j) {
        v += t.xw[j] * mix[t.xidx[j] - t.xmin];
      }
      out[ph * pooled_w + pw] = v;
    }
  }
}

// Adds the gradient of every bin (g(ph, pw), scaled by the taps) into a contiguous [H, W]
// accumulation plane: per bin row, first gather the column taps into `mix` over the column
// footprint, then add mix times each row weight to the rows (contiguous, vectorisable).
template <typename acc_t, typename G>
inline void scatter_plane(
    acc_t* plane,
    int64_t width,
    const RoiTaps<acc_t>& t,
    int64_t pooled_h,
    int64_t pooled_w,
    G g,
    acc_t* mix) {
  const int64_t fw = t.xmax - t.xmin + 1;
  if (fw <= 0) {
    return;
  }
  for (int64_t ph = 0; ph < pooled_h; ++ph) {
    if (t.yoff[ph] == t.yoff[ph + 1]) {
      continue;
    }
    std::fill(mix, mix + fw, acc_t(0));
    for (int64_t pw = 0; pw < pooled_w; ++pw) {
      const acc_t gv = g(ph, pw);
      for (int64_t j = t.xoff[pw]; j < t.xoff[pw + 1]; ++j) {
        mix[t.xidx[j] - t.xmin] += gv * t.xw[j];
      }
    }
    for (int64_t i = t.yoff[ph]; i < t.yoff[ph + 1]; ++i) {
      acc_t* row = plane + t.yidx[i] * width + t.xmin;
      const acc_t w = t.yw[i];
      for (int64_t x = 0; x < fw; ++x) {
        row[x] += w * mix[x];
      }
    }
  }
}

// Grain sizes for at::parallel_for: aim at ~32k inner operations per chunk.
inline int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, work_per_item));
}

}  // namespace cpu
}  // namespace slowbench
