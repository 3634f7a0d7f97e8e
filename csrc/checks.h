// Argument checks shared by every backend (host code only).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace slowbench {

// Ranks, dtypes, devices and sizes of a RoIAlign call's arguments; returns nothing, throws a
// c10::Error naming the bad argument.
void check_roi_align_args(
    const char* op,
    const at::Tensor& input,
    const at::Tensor& rois,
    int64_t pooled_h,
    int64_t pooled_w,
    double spatial_scale);

// Reads the RoI values (a small device-to-host copy for CUDA tensors) and checks that every
// batch index is an integer in [0, batch_size) and every coordinate is finite.
void check_roi_values(const char* op, const at::Tensor& rois, int64_t batch_size);

// The sizes a backward op is given: non-negative, and consistent with grad.
void check_backward_sizes(
    const char* op,
    const at::Tensor& grad,
    const at::Tensor& rois,
    int64_t batch_size,
    int64_t channels,
    int64_t time,
    int64_t height,
    int64_t width);

// Time steps of an input pooled over T: at least one and, for max pooling, at most 32767
// (the argmax is int16).
void check_time_steps(const char* op, const at::Tensor& input, bool is_max);

// temporal_pool's input: a floating [N, C, T, H, W] tensor with valid time steps.
void check_pool_input(const char* op, const at::Tensor& input, bool is_max);

// temporal_pool_backward's grad (floating, [N, C, 1, H, W]) and time (>= 1).
void check_pool_backward_args(const char* op, const at::Tensor& grad, int64_t time);

// The argmax a max-pooling backward is given: int16, the shape and device of grad, and every
// value a time index in [0, time). The one rule for an out-of-range argmax, for every backend:
// an error naming the first bad entry, before any kernel runs. Reads the values through a
// min / max reduction (one copy of two scalars to the host for CUDA tensors).
void check_argmax(const char* op, const at::Tensor& argmax, const at::Tensor& grad, int64_t time);

// grad must have exactly the shape `expected` (the forward output's shape).
void check_grad_shape(const char* op, const at::Tensor& grad, at::IntArrayRef expected);

// "avg" -> false, "max" -> true; anything else is an error naming the argument.
bool parse_temporal_mode(const char* op, c10::string_view mode, const char* arg_name);

// Floating input of rank `rank`; float16 / bfloat16 are accepted (computed in float32).
void check_floating(const char* op, const char* name, const at::Tensor& t);

}  // namespace slowbench
