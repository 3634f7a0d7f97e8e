// Kernels of slowbench::roi_align_3d_pool (RoIAlign on every slice + pooling over T, fused) and
// its backward; launched by roi_align_3d_pool.cu (see there for the design) and by
// tests/cuda_emulated/.
#pragma once

#include <cstdint>

#include "roi_taps.cuh"

namespace slowbench {
namespace cuda {

template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) roi_align_3d_pool_forward_kernel(
    const scalar_t* __restrict__ input,
    Strides5 s,
    const acc_t* __restrict__ rois,
    RoiAlignGeometry g,
    RoiChunks chunks,
    scalar_t* __restrict__ output,
    int16_t* __restrict__ argmax) {
  SLOWBENCH_DYNAMIC_SHARED(smem);
  BlockTaps<acc_t> taps;
  const RoiBlock<acc_t> b = start_roi_block(smem, rois, g, chunks, taps);
  const int64_t P = g.pooled_h * g.pooled_w;
  const int64_t base = (b.k * g.channels + b.c0) * P;  // this block's outputs are contiguous
  for (int64_t i = threadIdx.x; i < b.nc * P; i += blockDim.x) {
    const int64_t c = b.c0 + i / P;
    const int64_t ph = (i % P) / g.pooled_w;
    const int64_t pw = i % g.pooled_w;
    acc_t best = 0;
    int64_t best_t = 0;
    if (b.box.batch >= 0) {
      const scalar_t* slice = input + b.box.batch * s.n + c * s.c;
      for (int64_t t = 0; t < g.time; ++t, slice += s.t) {
        const acc_t v = block_bin_value(b, taps, g, slice, s.h, s.w, ph, pw);
        if (kMax) {
          if (t == 0 || replaces_max(v, best)) {
            best = v;
            best_t = t;
          }
        } else {
          best += v;
        }
      }
      if (!kMax) {
        best /= static_cast<acc_t>(g.time);
      }
    }
    output[base + i] = static_cast<scalar_t>(best);
    if (kMax) {
      argmax[base + i] = static_cast<int16_t>(best_t);
    }
  }
}

// Default backward: float atomics into grad_acc ([N, C, T, H, W], contiguous, zeroed). The
// argmax values are in [0, T) (check_argmax, on the host).
template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) roi_align_3d_pool_backward_atomic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 gs,
    const int16_t* __restrict__ argmax,
    const acc_t* __restrict__ rois,
    RoiAlignGeometry g,
    RoiChunks chunks,
    acc_t* __restrict__ grad_acc) {
  SLOWBENCH_DYNAMIC_SHARED(smem);
  BlockTaps<acc_t> taps;
  const RoiBlock<acc_t> b = start_roi_block(smem, rois, g, chunks, taps);
  if (b.box.batch < 0) {
    return;  // block-uniform, after the block's only __syncthreads()
  }
  const int64_t P = g.pooled_h * g.pooled_w;
  const int64_t HW = g.height * g.width;
  const int64_t T = g.time;
  for (int64_t i = threadIdx.x; i < b.nc * P; i += blockDim.x) {
    const int64_t c = b.c0 + i / P;
    const int64_t ph = (i % P) / g.pooled_w;
    const int64_t pw = i % g.pooled_w;
    acc_t gv = static_cast<acc_t>(grad[b.k * gs.n + c * gs.c + ph * gs.h + pw * gs.w]);
    acc_t* planes = grad_acc + (b.box.batch * g.channels + c) * T * HW;  // the T slices of (n, c)
    if (kMax) {
      acc_t* plane = planes + argmax[(b.k * g.channels + c) * P + ph * g.pooled_w + pw] * HW;
      auto add = [plane](int64_t offset, acc_t v) { atomic_add(plane + offset, v); };
      block_scatter(b, taps, g, ph, pw, gv, add);
    } else {
      gv /= static_cast<acc_t>(T);
      auto add = [planes, T, HW](int64_t offset, acc_t v) {
        for (int64_t t = 0; t < T; ++t) {
          atomic_add(planes + t * HW + offset, v);
        }
      };
      block_scatter(b, taps, g, ph, pw, gv, add);
    }
  }
}

// Deterministic backward: one thread per (n, c, t) plane of grad_acc (zeroed), RoIs in order.
template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) roi_align_3d_pool_backward_deterministic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 gs,
    const int16_t* __restrict__ argmax,
    const acc_t* __restrict__ rois,
    int64_t K,
    RoiAlignGeometry g,
    acc_t* __restrict__ grad_acc) {
  const int64_t P = g.pooled_h * g.pooled_w;
  scatter_planes_in_roi_order(
      rois, K, g, grad_acc,
      [&](const RoiBox<acc_t>& box, int64_t k, int64_t c, int64_t t, auto add) {
        const scalar_t* gk = grad + k * gs.n + c * gs.c;
        const int16_t* ak = kMax ? argmax + (k * g.channels + c) * P : nullptr;
        for (int64_t ph = 0; ph < g.pooled_h; ++ph) {
          for (int64_t pw = 0; pw < g.pooled_w; ++pw) {
            if (kMax && ak[ph * g.pooled_w + pw] != t) {
              continue;
            }
            acc_t gv = static_cast<acc_t>(gk[ph * gs.h + pw * gs.w]);
            if (!kMax) {
              gv /= static_cast<acc_t>(g.time);
            }
            direct_scatter(g, box, ph, pw, gv, add);
          }
        }
      });
}

}  // namespace cuda
}  // namespace slowbench
