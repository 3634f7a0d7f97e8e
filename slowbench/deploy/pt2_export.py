"""Detector -> `.pt2`: `torch.export` of the same module as the ONNX export (inputs `clip`,
`rois`; B, K, H and W dynamic), loadable with `torch.export.load`; optionally compiled ahead of
time with AOTInductor into a package for `torch._inductor.aoti_load_package`. Both need
slowbench's ops registered at load time (`import slowbench.ops`): the graph calls them."""

from __future__ import annotations

import pathlib
import warnings

import torch
from torch import Tensor, nn

from eval.atomic import atomic_write, staged_file
from slowbench.deploy.roi_scorer import RoiScorer

DYNAMIC = torch.export.Dim.DYNAMIC
DYNAMIC_SHAPES = {"clip": {0: DYNAMIC, 3: DYNAMIC, 4: DYNAMIC}, "rois": {0: DYNAMIC}}


def export_program(detector: nn.Module, example: tuple[Tensor, Tensor]) -> torch.export.ExportedProgram:
    """The exported eval-mode graph of `detector.score_rois`, traced on `example = (clip, rois)`
    (use B >= 2 and K >= 2: torch.export specialises sizes 0 and 1)."""
    with torch.no_grad(), warnings.catch_warnings():
        # torch 2.13's own pytree code trips its LeafSpec deprecation; nothing for a user to do.
        warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
        return torch.export.export(RoiScorer(detector), example, dynamic_shapes=DYNAMIC_SHAPES)


def save_program(program: torch.export.ExportedProgram, path) -> pathlib.Path:
    return atomic_write(path, lambda f: torch.export.save(program, f))


def compile_package(program: torch.export.ExportedProgram, path) -> pathlib.Path:
    """AOTInductor package of `program` at `path` (compiles C++: needs a compiler, minutes)."""
    with staged_file(path) as staged:
        torch._inductor.aoti_compile_and_package(program, package_path=str(staged))
    return pathlib.Path(path)
