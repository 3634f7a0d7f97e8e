// SLOWBENCH_HOST_DEVICE marks the functions shared by host and device code (the RoIAlign
// geometry): __host__ __device__ under nvcc, nothing elsewhere (the CPU build, and the HIP-CPU
// emulation of the CUDA kernels, where every GPU thread is a host fiber). It replaces c10's
// C10_HOST_DEVICE so that the shared headers need no c10/ATen header and the kernels can be
// compiled without torch.
#pragma once

#if defined(__CUDACC__)
#define SLOWBENCH_HOST_DEVICE __host__ __device__
#else
#define SLOWBENCH_HOST_DEVICE
#endif
