"""Detector -> ONNX file with inputs `clip [B, 3, T, H, W]`, `rois [K, 5]` and output
`scores [K, num_classes]`; B, K, H and W are dynamic (T is the example's).

torch's TorchScript-based exporter (`dynamo=False`) with the symbolics of `onnx_symbolics`:
torch 2.13's dynamo exporter imports `onnxscript._framework_apis.torch_2_11`, which the pinned
onnxscript 0.5.6 does not have, and the traced graph of this model has no data-dependent control
flow that the dynamo exporter would be needed for. It also exports in well under a second.
"""

from __future__ import annotations

import io
import json
import pathlib
import warnings

import torch
from torch import Tensor, nn

from eval.atomic import atomic_write
from slowbench.deploy.onnx_symbolics import MAX_OPSET, MIN_OPSET, registered_symbolics
from slowbench.deploy.optional import import_optional
from slowbench.deploy.roi_scorer import RoiScorer
from slowbench.errors import InputError

DEFAULT_OPSET = 17
META_KEY = "slowbench_meta"
INPUT_NAMES = ("clip", "rois")
OUTPUT_NAME = "scores"
DYNAMIC_AXES = {"clip": {0: "B", 3: "H", 4: "W"}, "rois": {0: "K"}, "scores": {0: "K"}}


def check_opset(opset: int) -> int:
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise InputError(
            f"--opset {opset}: must be in [{MIN_OPSET}, {MAX_OPSET}] (RoiAlign's "
            f"half_pixel mode needs {MIN_OPSET}; {MAX_OPSET} is the exporter's newest)"
        )
    return opset


@torch.no_grad()
def onnx_bytes(
    module: nn.Module,
    example: tuple[Tensor, ...],
    *,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict,
    opset: int = DEFAULT_OPSET,
) -> bytes:
    """The ONNX model of `module` traced on `example`, slowbench's ops as standard operators."""
    check_opset(opset)
    buffer = io.BytesIO()
    with registered_symbolics(opset), warnings.catch_warnings():
        # Shape checks in the model are Python bools to the tracer (it warns about each), and
        # the TorchScript exporter warns that it is no longer torch's default.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module,
            example,
            buffer,
            dynamo=False,
            opset_version=opset,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
        )
    return buffer.getvalue()


def export_onnx(
    detector: nn.Module,
    path,
    example: tuple[Tensor, Tensor],
    opset: int = DEFAULT_OPSET,
    meta: dict | None = None,
) -> pathlib.Path:
    """Writes the ONNX model of `detector` (eval mode, traced on `example = (clip, rois)`) to
    `path` atomically; `meta` (the checkpoint's: row, model overrides, pipeline, data root) is
    stored as JSON in the model's metadata under `META_KEY`."""
    onnx = import_optional("onnx")
    model = onnx.load_from_string(
        onnx_bytes(
            RoiScorer(detector),
            example,
            input_names=list(INPUT_NAMES),
            output_names=[OUTPUT_NAME],
            dynamic_axes=DYNAMIC_AXES,
            opset=opset,
        )
    )
    onnx.helper.set_model_props(model, {META_KEY: json.dumps(meta or {})})
    return atomic_write(path, lambda f: f.write(model.SerializeToString()))
