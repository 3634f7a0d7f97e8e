// Kernels of slowbench::roi_align_3d (RoIAlign on every temporal slice) and its backward;
// launched by roi_align_3d.cu (see there for the design) and by tests/cuda_emulated/.
#pragma once

#include <cstdint>

#include "roi_taps.cuh"

namespace slowbench {
namespace cuda {

template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) roi_align_3d_forward_kernel(
    const scalar_t* __restrict__ input,
    Strides5 s,
    const acc_t* __restrict__ rois,
    RoiAlignGeometry g,
    RoiChunks chunks,
    scalar_t* __restrict__ output) {
  SLOWBENCH_DYNAMIC_SHARED(smem);
  BlockTaps<acc_t> taps;
  const RoiBlock<acc_t> b = start_roi_block(smem, rois, g, chunks, taps);
  const int64_t P = g.pooled_h * g.pooled_w;
  const int64_t per_c = g.time * P;
  scalar_t* out =
      output + (b.k * g.channels + b.c0) * per_c;  // this block's outputs are contiguous
  for (int64_t i = threadIdx.x; i < b.nc * per_c; i += blockDim.x) {
    const int64_t c = b.c0 + i / per_c;
    const int64_t t = (i % per_c) / P;
    const int64_t ph = (i % P) / g.pooled_w;
    const int64_t pw = i % g.pooled_w;
    acc_t v = 0;
    if (b.box.batch >= 0) {
      const scalar_t* plane = input + b.box.batch * s.n + c * s.c + t * s.t;
      v = block_bin_value(b, taps, g, plane, s.h, s.w, ph, pw);
    }
    out[i] = static_cast<scalar_t>(v);
  }
}

// Default backward: float atomics into grad_acc ([N, C, T, H, W], contiguous, zeroed).
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) roi_align_3d_backward_atomic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 gs,
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
  const int64_t per_c = g.time * P;
  for (int64_t i = threadIdx.x; i < b.nc * per_c; i += blockDim.x) {
    const int64_t c = b.c0 + i / per_c;
    const int64_t t = (i % per_c) / P;
    const int64_t ph = (i % P) / g.pooled_w;
    const int64_t pw = i % g.pooled_w;
    const acc_t gv =
        static_cast<acc_t>(grad[b.k * gs.n + c * gs.c + t * gs.t + ph * gs.h + pw * gs.w]);
    acc_t* plane = grad_acc + ((b.box.batch * g.channels + c) * g.time + t) * g.height * g.width;
    auto add = [plane](int64_t offset, acc_t v) { atomic_add(plane + offset, v); };
    block_scatter(b, taps, g, ph, pw, gv, add);
  }
}

// Deterministic backward: one thread per (n, c, t) plane of grad_acc (zeroed), RoIs in order.
template <typename scalar_t, typename acc_t>
__global__ void __launch_bounds__(kThreads) roi_align_3d_backward_deterministic_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 gs,
    const acc_t* __restrict__ rois,
    int64_t K,
    RoiAlignGeometry g,
    acc_t* __restrict__ grad_acc) {
  scatter_planes_in_roi_order(
      rois, K, g, grad_acc,
      [&](const RoiBox<acc_t>& box, int64_t k, int64_t c, int64_t t, auto add) {
        const scalar_t* gk = grad + k * gs.n + c * gs.c + t * gs.t;
        for (int64_t ph = 0; ph < g.pooled_h; ++ph) {
          for (int64_t pw = 0; pw < g.pooled_w; ++pw) {
            direct_scatter(g, box, ph, pw, static_cast<acc_t>(gk[ph * gs.h + pw * gs.w]), add);
          }
        }
      });
}

}  // namespace cuda
}  // namespace slowbench
