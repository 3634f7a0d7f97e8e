// Kernels of slowbench::temporal_pool and its backward; launched by temporal_pool.cu (see there
// for the design) and by tests/cuda_emulated/.
#pragma once

#include <cstdint>

#include "../roi_align_common.h"
#include "device_compat.cuh"
#include "kernel_launch.h"

namespace slowbench {
namespace cuda {

template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) temporal_pool_forward_kernel(
    const scalar_t* __restrict__ input,
    Strides5 s,
    int64_t C,
    int64_t T,
    int64_t H,
    int64_t W,
    int64_t total,
    scalar_t* __restrict__ output,
    int16_t* __restrict__ argmax) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t w = i % W;
    const int64_t h = (i / W) % H;
    const int64_t c = (i / (W * H)) % C;
    const int64_t n = i / (W * H * C);
    const scalar_t* p = input + n * s.n + c * s.c + h * s.h + w * s.w;
    acc_t best = static_cast<acc_t>(p[0]);
    int64_t best_t = 0;
    for (int64_t t = 1; t < T; ++t) {
      const acc_t v = static_cast<acc_t>(p[t * s.t]);
      if (kMax) {
        if (replaces_max(v, best)) {
          best = v;
          best_t = t;
        }
      } else {
        best += v;
      }
    }
    if (kMax) {
      output[i] = static_cast<scalar_t>(best);
      argmax[i] = static_cast<int16_t>(best_t);
    } else {
      output[i] = static_cast<scalar_t>(best / static_cast<acc_t>(T));
    }
  }
}

template <typename scalar_t, typename acc_t, bool kMax>
__global__ void __launch_bounds__(kThreads) temporal_pool_backward_kernel(
    const scalar_t* __restrict__ grad,
    Strides5 g,
    const int16_t* __restrict__ argmax,
    int64_t C,
    int64_t T,
    int64_t H,
    int64_t W,
    int64_t total,
    scalar_t* __restrict__ grad_input) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t w = i % W;
    const int64_t h = (i / W) % H;
    const int64_t t = (i / (W * H)) % T;
    const int64_t nc = i / (W * H * T);
    const int64_t c = nc % C;
    const int64_t n = nc / C;
    const acc_t v = static_cast<acc_t>(grad[n * g.n + c * g.c + h * g.h + w * g.w]);
    acc_t r;
    if (kMax) {
      r = argmax[(nc * H + h) * W + w] == t ? v : acc_t(0);
    } else {
      r = v / static_cast<acc_t>(T);
    }
    grad_input[i] = static_cast<scalar_t>(r);
  }
}

}  // namespace cuda
}  // namespace slowbench
