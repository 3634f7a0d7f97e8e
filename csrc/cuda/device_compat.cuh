// What the kernel headers (*_kernels.cuh) need from the compiler that builds them, so that the
// same kernels compile under nvcc and, for tests/cuda_emulated/, under a host compiler with
// HIP-CPU (whose <hip/hip_runtime.h> must come first):
//   SLOWBENCH_DEVICE                a device function (a plain function under HIP-CPU)
//   atomic_add(address, value)      atomic float / double add
//   SLOWBENCH_DYNAMIC_SHARED(name)  declares `name`, the block's dynamic shared memory, usable
//                                   as an unsigned char* aligned to at least 16 bytes
#pragma once

#include "../host_device.h"

#if defined(__CUDACC__)

#include <ATen/cuda/Atomic.cuh>

#define SLOWBENCH_DEVICE __device__
#define SLOWBENCH_DYNAMIC_SHARED(name) extern __shared__ __align__(16) unsigned char name[]

namespace slowbench {
namespace cuda {
template <typename T>
__device__ inline void atomic_add(T* address, T value) {
  gpuAtomicAdd(address, value);
}
}  // namespace cuda
}  // namespace slowbench

#elif defined(__HIP_CPU_RT__)

#define SLOWBENCH_DEVICE
// HIP-CPU's __global__ asks g++ for `simd` clones of each kernel (vector variants that nothing
// here calls), which g++ cannot make for struct arguments (a warning per kernel and argument):
// the kernels keep the attribute that matters, flatten (everything they call inlined).
#if defined(__GNUC__) && !defined(__clang__)
#undef __global__
#define __global__ __attribute__((flatten))
#endif
// HIP-CPU keeps a block's dynamic shared memory in a per-OS-thread std::vector<std::byte> sized
// to the launch's shared bytes (operator new's alignment: 16 bytes).
#define SLOWBENCH_DYNAMIC_SHARED(name) HIP_DYNAMIC_SHARED(unsigned char, name)

namespace slowbench {
namespace cuda {
template <typename T>
inline void atomic_add(T* address, T value) {
  atomicAdd(address, value);
}
}  // namespace cuda
}  // namespace slowbench

#else
#error "csrc/cuda kernel headers compile under nvcc, or under HIP-CPU (<hip/hip_runtime.h> first)"
#endif
