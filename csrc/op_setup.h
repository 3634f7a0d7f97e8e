// Host-side set-up shared by the CPU and CUDA entry points of the ops: argument checks
// (checks.h) followed by the allocation of the outputs.
#pragma once

#include <ATen/core/Tensor.h>

#include <tuple>

#include "roi_align_common.h"

namespace slowbench {

// Checks a RoI op's forward arguments (ranks, dtypes, devices, sizes, RoI values: a small
// device-to-host copy of the RoIs for CUDA tensors) and returns the call's geometry.
RoiAlignGeometry checked_roi_geometry(
    const char* op,
    const at::Tensor& input,
    const at::Tensor& rois,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale,
    int64_t sampling_ratio,
    bool aligned);

// Output `sizes` (input's dtype and device) and the int16 argmax of a pooling forward: of the
// same sizes for max pooling, empty ([0]) for avg.
std::tuple<at::Tensor, at::Tensor> empty_pooled_outputs(
    const at::Tensor& input, at::IntArrayRef sizes, bool is_max);

// The input gradient of a RoI backward, and whether a kernel has anything to add to it.
struct RoiBackward {
  at::Tensor grad_input;  // [N, C, T, H, W]
  bool has_work;  // false: no RoI, or an empty grad or gradient; grad_input is final (zeros)
};

// Checks a RoI backward's arguments (the sizes in `g`, grad [K, C, grad_time, pooled_h,
// pooled_w], and the argmax when `argmax` is given, i.e. for max pooling) and allocates the
// input gradient of `dtype` on grad's device, zero-filled when `zeroed` (kernels that add
// into it) and otherwise left for the kernel to write in full.
RoiBackward prepare_roi_backward(
    const char* op,
    const at::Tensor& grad,
    const at::Tensor& rois,
    const at::Tensor* argmax,
    const RoiAlignGeometry& g,
    int64_t grad_time,
    at::ScalarType dtype,
    bool zeroed);

}  // namespace slowbench
