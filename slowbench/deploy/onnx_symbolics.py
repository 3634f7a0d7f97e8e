"""Standard-ONNX forms of slowbench's ops, registered with torch's TorchScript ONNX exporter.

    temporal_pool(x [N, C, T, H, W], mode)  ->  ReduceMax / ReduceMean over axis 2 (keepdims)
    roi_align_3d(x, rois [K, 5], ...)      ->  RoiAlign (mode "avg") on [N * T, C, H, W] slices,
                                               one ONNX RoI per (RoI, t) -> [K, C, T, oh, ow]
    roi_align_3d_pool(..., "avg")          ->  RoiAlign(ReduceMean over T): RoIAlign is linear in
                                               the features with a geometry that ignores t
    roi_align_3d_pool(..., "max")          ->  the per-slice RoiAlign above, then ReduceMax over T
    adaptive_avg_pool2d(x, (oh, ow))        ->  A_h @ x @ A_w^T with averaging matrices built from
                                               the runtime H and W (torch's bins), so H and W stay
                                               dynamic (the exporter's own form refuses them)

ONNX RoiAlign (opset >= 16) with coordinate_transformation_mode "half_pixel" (= aligned) or
"output_half_pixel" (= not aligned), sampling_ratio 0 = adaptive ceil(roi_size / out_size), has
the same geometry, out-of-range sample rules and 1 / max(grid_h * grid_w, 1) average as the
custom op (onnxruntime's CPU kernel is the same Caffe2 / torchvision algorithm); only the float
summation order differs. The ops' argmax outputs are kept as they are (ArgMax over T as int16 for
"max", an empty int16 tensor for "avg"); inference never reads them, so the exporter drops them.
What the ONNX graph does not keep: the RoI validation (batch indices must be integers in [0, N))
and the NaN propagation of max pooling.
"""

from __future__ import annotations

import contextlib

import torch
from torch.onnx import symbolic_helper as sh

MIN_OPSET = 16  # RoiAlign's coordinate_transformation_mode
MAX_OPSET = 20  # the TorchScript exporter's newest opset

INT64, INT16 = 7, 5  # onnx.TensorProto data types


def _const(g, values):
    return g.op("Constant", value_t=torch.tensor(values, dtype=torch.int64))


def _reduce(g, name: str, x, axis: int):
    """ReduceMax / ReduceMean over one axis, keepdims (axes moved to an input in opset 18)."""
    if g.opset >= 18:
        return g.op(name, x, _const(g, [axis]), keepdims_i=1)
    return g.op(name, x, axes_i=[axis], keepdims_i=1)


def _dims(g, x, start: int, end: int):
    """`x.shape[start:end]` as an int64 [end - start] tensor."""
    return g.op("Slice", g.op("Shape", x), _const(g, [start]), _const(g, [end]))


def _roi_align_slices(g, x, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned):
    """[N, C, T, H, W], [K, 5] -> [K, C, T, oh, ow]: RoiAlign on every temporal slice."""
    attrs = dict(
        mode_s="avg",
        output_height_i=pooled_height,
        output_width_i=pooled_width,
        sampling_ratio_i=sampling_ratio,
        spatial_scale_f=spatial_scale,
        coordinate_transformation_mode_s="half_pixel" if aligned else "output_half_pixel",
    )
    batch = g.op("Cast", g.op("Gather", rois, _const(g, 0), axis_i=1), to_i=INT64)  # [K]
    boxes = g.op("Slice", rois, _const(g, [1]), _const(g, [5]), _const(g, [1]))  # [K, 4]
    if sh._get_tensor_dim_size(x, 2) == 1:  # the pooled map: one slice, no reshaping
        out = g.op("RoiAlign", g.op("Squeeze", x, _const(g, [2])), boxes, batch, **attrs)
        return g.op("Unsqueeze", out, _const(g, [2]))
    time = _dims(g, x, 2, 3)  # [1]
    channels = _dims(g, x, 1, 2)
    slices = g.op(
        "Reshape",
        g.op("Transpose", x, perm_i=[0, 2, 1, 3, 4]),
        g.op("Concat", _const(g, [-1]), channels, _dims(g, x, 3, 5), axis_i=0),
    )
    steps = g.op("Range", _const(g, 0), g.op("Squeeze", time, _const(g, [0])), _const(g, 1))
    slice_index = g.op("Add", g.op("Mul", g.op("Unsqueeze", batch, _const(g, [1])), time), steps)
    slice_boxes = g.op(
        "Expand",
        g.op("Unsqueeze", boxes, _const(g, [1])),
        g.op("Concat", _const(g, [1]), time, _const(g, [1]), axis_i=0),
    )
    out = g.op(
        "RoiAlign",
        slices,
        g.op("Reshape", slice_boxes, _const(g, [-1, 4])),
        g.op("Reshape", slice_index, _const(g, [-1])),
        **attrs,
    )  # [K * T, C, oh, ow]
    shape = g.op(
        "Concat", _const(g, [-1]), time, channels, _const(g, [pooled_height, pooled_width]), axis_i=0
    )
    return g.op("Transpose", g.op("Reshape", out, shape), perm_i=[0, 2, 1, 3, 4])


@sh.parse_args("v", "s")
def temporal_pool(g, x, mode):
    if mode == "max":
        out = _reduce(g, "ReduceMax", x, 2)
        return out, g.op("Cast", g.op("ArgMax", x, axis_i=2, keepdims_i=1), to_i=INT16)
    return _reduce(g, "ReduceMean", x, 2), g.op("Constant", value_t=torch.zeros(0, dtype=torch.int16))


@sh.parse_args("v", "v", "i", "i", "f", "i", "b")
def roi_align_3d(g, x, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned):
    return _roi_align_slices(g, x, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned)


@sh.parse_args("v", "v", "i", "i", "f", "i", "b", "s")
def roi_align_3d_pool(
    g, x, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned, temporal_mode
):
    args = (pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned)
    if temporal_mode == "avg":
        out = _roi_align_slices(g, _reduce(g, "ReduceMean", x, 2), rois, *args)
        return out, g.op("Constant", value_t=torch.zeros(0, dtype=torch.int16))
    per_slice = _roi_align_slices(g, x, rois, *args)
    out = _reduce(g, "ReduceMax", per_slice, 2)
    return out, g.op("Cast", g.op("ArgMax", per_slice, axis_i=2, keepdims_i=1), to_i=INT16)


def _averaging_matrix(g, x, axis: int, out_size: int, transposed: bool):
    """[out_size, S] for S = x.shape[axis] ([S, out_size] if `transposed`), in the dtype of x:
    bin i averages positions [floor(i S / o), ceil((i + 1) S / o)), torch's adaptive bins."""
    bin_axis, position_axis = (1, 0) if transposed else (0, 1)
    size = g.op("Squeeze", _dims(g, x, axis, axis + 1), _const(g, [0]))
    bins = _const(g, list(range(out_size)))
    start = g.op("Div", g.op("Mul", bins, size), _const(g, out_size))
    end = g.op(
        "Div",
        g.op("Add", g.op("Mul", g.op("Add", bins, _const(g, 1)), size), _const(g, out_size - 1)),
        _const(g, out_size),
    )
    start, end = (g.op("Unsqueeze", v, _const(g, [position_axis])) for v in (start, end))
    positions = g.op("Unsqueeze", g.op("Range", _const(g, 0), size, _const(g, 1)), _const(g, [bin_axis]))
    inside = g.op("And", g.op("GreaterOrEqual", positions, start), g.op("Less", positions, end))
    return g.op("Div", g.op("CastLike", inside, x), g.op("CastLike", g.op("Sub", end, start), x))


@sh.parse_args("v", "is")
def adaptive_avg_pool2d(g, x, output_size):
    """[N, C, H, W] -> [N, C, oh, ow] for any runtime H, W (the exporter's own form needs them
    static)."""
    rows = _averaging_matrix(g, x, 2, output_size[0], transposed=False)  # [oh, H]
    cols = _averaging_matrix(g, x, 3, output_size[-1], transposed=True)  # [W, ow]
    return g.op("MatMul", g.op("MatMul", rows, x), cols)


SYMBOLICS = {
    "slowbench::temporal_pool": temporal_pool,
    "slowbench::roi_align_3d": roi_align_3d,
    "slowbench::roi_align_3d_pool": roi_align_3d_pool,
    "aten::adaptive_avg_pool2d": adaptive_avg_pool2d,
}


@contextlib.contextmanager
def registered_symbolics(opset: int):
    """The forms above registered for `opset` while the block runs (the aten override is
    torch's process-wide registry, so it is removed again afterwards)."""
    for name, function in SYMBOLICS.items():
        torch.onnx.register_custom_op_symbolic(name, function, opset)
    try:
        yield
    finally:
        for name in SYMBOLICS:
            torch.onnx.unregister_custom_op_symbolic(name, opset)
