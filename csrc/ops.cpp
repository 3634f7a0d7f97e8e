// Schemas of slowbench's operators. Kernels are registered per backend in csrc/cpu/ and
// csrc/cuda/; autograd and fake (meta) kernels are registered from Python (slowbench/ops.py).
//
// Conventions:
//   input  [N, C, T, H, W]; rois [K, 5] = (batch index, x1, y1, x2, y2) in input-image pixels.
//   The backward ops take the forward input's sizes (not the input itself), so autograd
//   saves only the rois (and, for max pooling, the int16 argmax over T).
//   temporal modes: "avg" (mean over T) or "max" (max over T; argmax, first index on ties,
//   NaN propagates). In "avg" mode the argmax output is an empty int16 tensor.
#include <torch/library.h>

TORCH_LIBRARY(slowbench, m) {
  // RoIAlign (average mode, torchvision/mmcv semantics) on every temporal slice:
  // -> [K, C, T, pooled_height, pooled_width].
  m.def(
      "roi_align_3d(Tensor input, Tensor rois, int pooled_height, int pooled_width, "
      "float spatial_scale, int sampling_ratio, bool aligned) -> Tensor");
  m.def(
      "roi_align_3d_backward(Tensor grad, Tensor rois, SymInt batch_size, SymInt channels, "
      "SymInt time, SymInt height, SymInt width, int pooled_height, int pooled_width, "
      "float spatial_scale, int sampling_ratio, bool aligned) -> Tensor");

  // Pooling over T: [N, C, T, H, W] -> ([N, C, 1, H, W], argmax int16).
  m.def("temporal_pool(Tensor input, str mode) -> (Tensor, Tensor)");
  m.def("temporal_pool_backward(Tensor grad, Tensor argmax, SymInt time, str mode) -> Tensor");

  // roi_align_3d followed by temporal_pool, fused: never materialises [K, C, T, ph, pw].
  // -> ([K, C, 1, pooled_height, pooled_width], argmax int16).
  m.def(
      "roi_align_3d_pool(Tensor input, Tensor rois, int pooled_height, int pooled_width, "
      "float spatial_scale, int sampling_ratio, bool aligned, str temporal_mode) -> (Tensor, "
      "Tensor)");
  m.def(
      "roi_align_3d_pool_backward(Tensor grad, Tensor rois, Tensor argmax, SymInt batch_size, "
      "SymInt channels, SymInt time, SymInt height, SymInt width, int pooled_height, "
      "int pooled_width, float spatial_scale, int sampling_ratio, bool aligned, "
      "str temporal_mode) -> Tensor");
}
