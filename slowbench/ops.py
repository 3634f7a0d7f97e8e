"""slowbench's custom operators: 3-D RoIAlign, temporal pooling and their fusion.

The kernels live in the compiled extension ``slowbench._C`` (CPU, and CUDA when built with
it); this module holds the typed public wrappers, the autograd formulas (each backward is a
custom op of its own) and the fake kernels that let the ops run under ``torch.compile``.

Shapes: ``input`` is ``[N, C, T, H, W]``; ``rois`` is ``[K, 5]`` with rows
``(batch_index, x1, y1, x2, y2)`` in input-image pixels (``spatial_scale`` maps them onto the
feature map, e.g. 1/16 for a stride-16 feature).

Data flow of ``roi_align_3d_pool`` (what the SlowOnly RoI head uses)::

    input [N, C, T, H, W] --+
                            +--> RoIAlign per slice  [K, C, T, oh, ow]  (never materialised)
    rois  [K, 5] -----------+          |
                                       v
                             avg / max over T  -->  [K, C, 1, oh, ow]

Conventions shared by the ops:

- dtypes: float32 / float64, and float16 / bfloat16 (accumulated in float32); ``rois`` may be
  any floating dtype (converted to the accumulation type).
- Every RoI is validated before the kernel runs: the batch index must be an integer in
  ``[0, N)`` and the coordinates finite, else a ``RuntimeError`` names the offending entry.
  On CUDA this costs one small device-to-host copy of ``rois`` (a synchronisation).
- Non-contiguous inputs and gradients are read through their strides (no copies).
- Backward: deterministic on CPU. On CUDA the default backward uses float atomics; with
  ``torch.use_deterministic_algorithms(True)`` a deterministic kernel (no atomics) is used.
- ``temporal_pool`` / ``roi_align_3d_pool`` in ``"max"`` mode save an int16 argmax over T
  (so T <= 32767); NaN propagates and ties go to the first time step, as with ``torch.max``.
- NaN / Inf in the RoI ops, the same on every backend: a NaN in a pixel a bin reads gives NaN;
  an Inf gives +-Inf where its summed bilinear weight is positive (at the map's last row or
  column too) and NaN where that weight is 0 (see docs/cuda_emulation.md).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "is_available",
    "roi_align_3d",
    "temporal_pool",
    "roi_align_3d_pool",
    "RoIAlign3d",
    "TemporalPool",
    "RoIAlign3dPool",
]

try:  # importing the extension loads the library, whose initialisers register the ops
    from slowbench import _C  # noqa: F401

    _IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # pragma: no cover - exercised only without a build
    _C = None
    _IMPORT_ERROR = exc

_BUILD_HINT = (
    "slowbench._C (the compiled kernels) is not built or failed to load. From the repository "
    "root run `pip install --no-build-isolation -e .` (or `python setup.py build_ext --inplace`)."
)

_TEMPORAL_MODES = ("avg", "max")


def is_available() -> bool:
    """True when the compiled kernels are loaded."""
    return _C is not None


def _require_ops() -> None:
    if _C is None:
        raise ImportError(f"{_BUILD_HINT} Original error: {_IMPORT_ERROR}") from _IMPORT_ERROR


def _pair(output_size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(output_size, int):
        size = (output_size, output_size)
    else:
        size = tuple(output_size)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f"output_size must be a positive int or a pair of them, got {output_size!r}")
    return size  # type: ignore[return-value]


def _check_mode(mode: str, name: str) -> str:
    if mode not in _TEMPORAL_MODES:
        raise ValueError(f"{name} must be 'avg' or 'max', got {mode!r}")
    return mode


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def roi_align_3d(
    input: Tensor,
    rois: Tensor,
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = 0,
    aligned: bool = True,
) -> Tensor:
    """RoIAlign (average mode) applied to every temporal slice: ``[K, C, T, oh, ow]``.

    For the same arguments, per slice the result of ``torchvision.ops.roi_align`` / mmcv
    ``RoIAlign`` (average mode): the box is scaled by ``spatial_scale`` (and shifted by -0.5 when
    ``aligned``); each bin averages a ``sampling_ratio`` x ``sampling_ratio`` grid of bilinear
    samples (adaptive ``ceil(roi_size / output_size)`` when ``sampling_ratio <= 0``); samples
    more than one pixel outside the map count as 0.

    The defaults are mmcv's and the SlowOnly configs' (``aligned=True, sampling_ratio=0``), not
    torchvision's (``aligned=False, sampling_ratio=-1``): pass ``aligned=False`` for
    torchvision's default result (``-1`` and ``0`` both mean adaptive sampling).
    """
    _require_ops()
    oh, ow = _pair(output_size)
    return torch.ops.slowbench.roi_align_3d.default(
        input, rois, oh, ow, float(spatial_scale), int(sampling_ratio), bool(aligned)
    )


def temporal_pool(input: Tensor, mode: str = "max") -> Tensor:
    """Pooling over T: ``[N, C, T, H, W] -> [N, C, 1, H, W]``.

    ``mode="max"`` propagates NaN like ``torch.max`` and sends the gradient to the first
    maximal time step; ``mode="avg"`` is the mean over T.
    """
    _require_ops()
    _check_mode(mode, "mode")
    return torch.ops.slowbench.temporal_pool.default(input, mode)[0]


def roi_align_3d_pool(
    input: Tensor,
    rois: Tensor,
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = 0,
    aligned: bool = True,
    temporal_mode: str = "avg",
) -> Tensor:
    """``temporal_pool(roi_align_3d(...), temporal_mode)`` fused: ``[K, C, 1, oh, ow]``.

    Never materialises the per-slice ``[K, C, T, oh, ow]`` tensor. Note the order: RoIAlign
    first, then pooling over T (for ``"max"`` this differs from pooling the feature map first).
    """
    _require_ops()
    oh, ow = _pair(output_size)
    _check_mode(temporal_mode, "temporal_mode")
    return torch.ops.slowbench.roi_align_3d_pool.default(
        input, rois, oh, ow, float(spatial_scale), int(sampling_ratio), bool(aligned), temporal_mode
    )[0]


class RoIAlign3d(torch.nn.Module):
    """Module form of :func:`roi_align_3d`."""

    def __init__(
        self, output_size, spatial_scale: float = 1.0, sampling_ratio: int = 0, aligned: bool = True
    ):
        super().__init__()
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:
        return roi_align_3d(
            input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
            f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned}"
        )


class TemporalPool(torch.nn.Module):
    """Module form of :func:`temporal_pool`."""

    def __init__(self, mode: str = "max"):
        super().__init__()
        self.mode = _check_mode(mode, "mode")

    def forward(self, input: Tensor) -> Tensor:
        return temporal_pool(input, self.mode)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


class RoIAlign3dPool(RoIAlign3d):
    """Module form of :func:`roi_align_3d_pool`."""

    def __init__(
        self,
        output_size,
        spatial_scale: float = 1.0,
        sampling_ratio: int = 0,
        aligned: bool = True,
        temporal_mode: str = "avg",
    ):
        super().__init__(output_size, spatial_scale, sampling_ratio, aligned)
        self.temporal_mode = _check_mode(temporal_mode, "temporal_mode")

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:
        return roi_align_3d_pool(
            input,
            rois,
            self.output_size,
            self.spatial_scale,
            self.sampling_ratio,
            self.aligned,
            self.temporal_mode,
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, temporal_mode={self.temporal_mode!r}"


# --------------------------------------------------------------------------------------
# Fake kernels (shapes only) and autograd formulas. The fake ("meta") kernels let
# torch.compile and FakeTensor tracing see output shapes without running the C++ code.
# --------------------------------------------------------------------------------------


def _register() -> None:
    lib = "slowbench::"

    @torch.library.register_fake(lib + "roi_align_3d")
    def _(input, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned):
        torch._check(input.dim() == 5, lambda: f"roi_align_3d: input must be 5-D, got {input.dim()}-D")
        torch._check(rois.dim() == 2 and rois.shape[1] == 5, lambda: "roi_align_3d: rois must be [K, 5]")
        torch._check(input.device == rois.device, lambda: "roi_align_3d: input and rois on different devices")
        n, c, t, h, w = input.shape
        return input.new_empty((rois.shape[0], c, t, pooled_height, pooled_width))

    # The backward ops return the input's gradient: its sizes are arguments; the rest (RoIs,
    # argmax, pooling settings) does not change the shape.
    @torch.library.register_fake(lib + "roi_align_3d_backward")
    def _(grad, rois, batch_size, channels, time, height, width, *settings):
        return grad.new_empty((batch_size, channels, time, height, width))

    @torch.library.register_fake(lib + "temporal_pool")
    def _(input, mode):
        torch._check(input.dim() == 5, lambda: f"temporal_pool: input must be 5-D, got {input.dim()}-D")
        n, c, t, h, w = input.shape
        out = input.new_empty((n, c, 1, h, w))
        arg_shape = (n, c, 1, h, w) if mode == "max" else (0,)
        return out, input.new_empty(arg_shape, dtype=torch.int16)

    @torch.library.register_fake(lib + "temporal_pool_backward")
    def _(grad, argmax, time, mode):
        n, c, _, h, w = grad.shape
        return grad.new_empty((n, c, time, h, w))

    @torch.library.register_fake(lib + "roi_align_3d_pool")
    def _(input, rois, pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned, temporal_mode):
        torch._check(input.dim() == 5, lambda: f"roi_align_3d_pool: input must be 5-D, got {input.dim()}-D")
        torch._check(rois.dim() == 2 and rois.shape[1] == 5, lambda: "roi_align_3d_pool: rois must be [K, 5]")
        torch._check(
            input.device == rois.device, lambda: "roi_align_3d_pool: input and rois on different devices"
        )
        n, c, t, h, w = input.shape
        shape = (rois.shape[0], c, 1, pooled_height, pooled_width)
        out = input.new_empty(shape)
        arg_shape = shape if temporal_mode == "max" else (0,)
        return out, input.new_empty(arg_shape, dtype=torch.int16)

    @torch.library.register_fake(lib + "roi_align_3d_pool_backward")
    def _(grad, rois, argmax, batch_size, channels, time, height, width, *settings):
        return grad.new_empty((batch_size, channels, time, height, width))

    # --- autograd ------------------------------------------------------------------

    def _setup_roi_align(ctx, inputs, output):
        input, rois, ph, pw, scale, sr, aligned = inputs
        ctx.save_for_backward(rois)
        ctx.input_shape = input.shape
        ctx.params = (ph, pw, scale, sr, aligned)

    def _backward_roi_align(ctx, grad):
        grad_input = None
        if ctx.needs_input_grad[0]:
            (rois,) = ctx.saved_tensors
            grad_input = torch.ops.slowbench.roi_align_3d_backward.default(
                grad, rois, *ctx.input_shape, *ctx.params
            )
        return grad_input, None, None, None, None, None, None

    torch.library.register_autograd(lib + "roi_align_3d", _backward_roi_align, setup_context=_setup_roi_align)

    def _setup_temporal_pool(ctx, inputs, output):
        input, mode = inputs
        _, argmax = output
        ctx.mark_non_differentiable(argmax)
        ctx.save_for_backward(argmax)
        ctx.time = input.shape[2]
        ctx.mode = mode

    def _backward_temporal_pool(ctx, grad, _grad_argmax):
        grad_input = None
        if ctx.needs_input_grad[0]:
            (argmax,) = ctx.saved_tensors
            grad_input = torch.ops.slowbench.temporal_pool_backward.default(grad, argmax, ctx.time, ctx.mode)
        return grad_input, None

    torch.library.register_autograd(
        lib + "temporal_pool", _backward_temporal_pool, setup_context=_setup_temporal_pool
    )

    def _setup_pool(ctx, inputs, output):
        input, rois, ph, pw, scale, sr, aligned, mode = inputs
        _, argmax = output
        ctx.mark_non_differentiable(argmax)
        ctx.save_for_backward(rois, argmax)
        ctx.input_shape = input.shape
        ctx.params = (ph, pw, scale, sr, aligned, mode)

    def _backward_pool(ctx, grad, _grad_argmax):
        grad_input = None
        if ctx.needs_input_grad[0]:
            rois, argmax = ctx.saved_tensors
            grad_input = torch.ops.slowbench.roi_align_3d_pool_backward.default(
                grad, rois, argmax, *ctx.input_shape, *ctx.params
            )
        return grad_input, None, None, None, None, None, None, None

    torch.library.register_autograd(lib + "roi_align_3d_pool", _backward_pool, setup_context=_setup_pool)


if _C is not None:
    _register()
