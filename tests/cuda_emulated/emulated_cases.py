"""The cases the emulated CUDA kernels run: every kernel (through its op's launcher), float32 and
float64, on inputs that cover boundary, outside, zero-size and inverted RoIs, K = 0, ties and NaN
over T, strided inputs and gradients (with NaN in the gaps their strides skip), a partial last
channel chunk, RoIs on the tap-table path and on the direct path, and both backward kernels
(atomic and deterministic) of every RoI op.

Each `Check` pairs one emulated call with the same op run by PyTorch on a device: the CPU (what
test_emulated_kernels.py compares with) or a GPU (test_emulation_matches_gpu.py)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass

import emulation
import torch

from benchmarks.op_samples import make_features, make_rois, non_contiguous
from slowbench import ops

assert ops.is_available(), "slowbench._C is not built"
OPS = torch.ops.slowbench
DTYPES = [torch.float32, torch.float64]
MODES = ["avg", "max"]


def with_gaps(x: torch.Tensor) -> torch.Tensor:
    """x as a view with gaps (every other column of a wider buffer, one channel more), the gaps
    NaN: a kernel that reads an element its strides skip gets NaN into its result."""
    N, C, T, H, W = x.shape
    buffer = torch.full((N, C + 1, T, H, 2 * W), float("nan"), dtype=x.dtype)
    view = buffer[:, :C, :, :, ::2]
    view.copy_(x)
    return view


LAYOUTS = {"contiguous": lambda x: x, "permuted": non_contiguous, "gaps": with_gaps}


def on_device(t: torch.Tensor, device) -> torch.Tensor:
    """t on `device` with the same sizes and strides (Tensor.to would make a gapped view dense)."""
    if t.device == torch.device(device):
        return t
    out = torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device=device)
    return out.copy_(t)


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool):
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(enabled)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


@dataclass
class Check:
    """One emulated call, and the same op run by PyTorch on the device it is given."""

    label: str
    call: emulation.Call
    run_op: Callable[[str], dict[str, torch.Tensor]]  # device -> the call's outputs, by name

    @functools.cached_property
    def expected(self) -> dict[str, torch.Tensor]:
        """The CPU op's outputs."""
        return self.run_op("cpu")


def _op_check(label, call, op, outputs, tensors, scalars, deterministic=False) -> Check:
    """A Check calling OPS.<op>(*tensors on the device, *scalars), its results named `outputs`."""

    def run_op(device):
        with deterministic_algorithms(deterministic):
            result = op(*(on_device(t, device) for t in tensors), *scalars)
        return dict(zip(outputs, result if isinstance(result, tuple) else (result,), strict=True))

    return Check(label, call, run_op)


@dataclass
class RoiCase:
    shape: tuple[int, int, int, int, int]
    rois: torch.Tensor  # float64
    output_size: tuple[int, int]
    spatial_scale: float
    sampling_ratio: int
    aligned: bool
    layout: str = "contiguous"  # of the input and of the gradients
    seed: int = 0
    ties_and_nan: bool = False

    def input(self, dtype):
        x = make_features(self.shape, generator=torch.Generator().manual_seed(self.seed))
        if self.ties_and_nan:
            x = with_ties_and_nan(x)
        return LAYOUTS[self.layout](x.to(dtype))

    def args(self):
        return (*self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned)


def with_ties_and_nan(x: torch.Tensor) -> torch.Tensor:
    """Slices 0 and 1 equal and above the others (every max over T is a tie), and a few NaN."""
    x = x.clone()
    x[:, :, 2:] -= 10
    x[:, :, 1] = x[:, :, 0]
    x[0, -1, 3 % x.shape[2], 2, 3] = float("nan")
    x[-1, 0, 1, -2, -1] = float("nan")
    return x


def _sample_rois(num, shape, scale, seed, kinds=None):
    extra = {} if kinds is None else dict(kinds=kinds)
    return make_rois(num, shape[0], shape[3], shape[4], scale, generator=torch.Generator().manual_seed(seed),
                     **extra)  # fmt: skip


def _roi_cases():
    mixed = (2, 5, 3, 11, 13)
    # Boxes whose sampling grids (adaptive, ~130 x 110 per bin) make the tap table outgrow the
    # block's shared buffer (the direct path), next to small ones that fit (the table path).
    huge = torch.tensor(
        [[0, -400.0, -300.0, 500.0, 450.0], [0, -350.0, -20.0, 420.0, 380.0]], dtype=torch.float64
    )
    table_and_direct = torch.cat(
        [_sample_rois(4, (1, 3, 2, 9, 10), 1.0, 5, kinds=("normal", "partial")), huge]
    )
    return {
        "mixed_rois": RoiCase(mixed, _sample_rois(24, mixed, 1 / 8, 1), (3, 4), 1 / 8, 0, True),
        "mixed_rois_unaligned_sr2": RoiCase(mixed, _sample_rois(18, mixed, 1 / 8, 2), (4, 4), 1 / 8, 2, False, seed=2),
        "permuted_layout": RoiCase(mixed, _sample_rois(12, mixed, 1 / 8, 3), (3, 4), 1 / 8, 0, True, "permuted"),
        "gaps_layout": RoiCase(mixed, _sample_rois(12, mixed, 1 / 8, 4), (2, 3), 1 / 8, 0, True, "gaps"),
        # roi_align_3d: 1024 // (2 * 5 * 5) = 20 channels per block, the pool: 40; 45 leaves 5.
        "partial_chunk": RoiCase((1, 45, 2, 6, 7), _sample_rois(3, (1, 45, 2, 6, 7), 1 / 4, 6), (5, 5), 1 / 4, 0, True),
        "table_and_direct": RoiCase((1, 3, 2, 9, 10), table_and_direct, (7, 7), 1.0, 0, True),
        "no_rois": RoiCase(mixed, torch.zeros((0, 5), dtype=torch.float64), (3, 4), 1 / 8, 0, True),
        "ties_and_nan": RoiCase((2, 3, 4, 7, 8), _sample_rois(12, (2, 3, 4, 7, 8), 1 / 2, 7), (2, 2), 1 / 2, 0, True,
                                ties_and_nan=True),
    }  # fmt: skip


ROI_CASES = _roi_cases()


def _gradient(shape, dtype, layout, seed=11):
    g = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return LAYOUTS[layout](g.to(dtype))


def _roi_align_3d_checks(case: RoiCase, x, rois) -> list[Check]:
    args = case.args()
    checks = [_op_check("roi_align_3d", emulation.roi_align_3d(x, rois, *args), OPS.roi_align_3d, ["output"],
                        (x, rois), args)]  # fmt: skip
    grad = _gradient(checks[0].expected["output"].shape, x.dtype, case.layout)
    for deterministic in (False, True):
        call = emulation.roi_align_3d_backward(grad, rois, *x.shape, *args, deterministic=deterministic)
        checks.append(_op_check(f"roi_align_3d_backward(deterministic={deterministic})", call,
                                OPS.roi_align_3d_backward, ["grad_input"], (grad, rois), (*x.shape, *args),
                                deterministic))  # fmt: skip
    return checks


def _roi_align_3d_pool_checks(case: RoiCase, x, rois, mode) -> list[Check]:
    args = case.args()
    forward = _op_check(f"roi_align_3d_pool({mode})", emulation.roi_align_3d_pool(x, rois, *args, mode),
                        OPS.roi_align_3d_pool, ["output", "argmax"], (x, rois), (*args, mode))  # fmt: skip
    argmax = forward.expected["argmax"]
    grad = _gradient(forward.expected["output"].shape, x.dtype, case.layout)
    checks = [forward]
    for deterministic in (False, True):
        call = emulation.roi_align_3d_pool_backward(
            grad, rois, argmax, *x.shape, *args, mode, deterministic=deterministic
        )
        checks.append(_op_check(f"roi_align_3d_pool_backward({mode}, deterministic={deterministic})", call,
                                OPS.roi_align_3d_pool_backward, ["grad_input"], (grad, rois, argmax),
                                (*x.shape, *args, mode), deterministic))  # fmt: skip
    return checks


def roi_checks(case: RoiCase, dtype) -> list[Check]:
    x, rois = case.input(dtype), case.rois.to(dtype)
    checks = _roi_align_3d_checks(case, x, rois)
    for mode in MODES:
        checks += _roi_align_3d_pool_checks(case, x, rois, mode)
    return checks


TEMPORAL_CASES = {
    "contiguous": dict(shape=(2, 5, 3, 6, 7)),
    "permuted_layout": dict(shape=(2, 3, 4, 5, 6), layout="permuted"),
    "gaps_layout": dict(shape=(2, 3, 4, 5, 6), layout="gaps"),
    "one_step": dict(shape=(1, 2, 1, 4, 3)),
    "empty": dict(shape=(0, 3, 2, 4, 5)),
    "ties_and_nan": dict(shape=(2, 3, 4, 5, 6), ties_and_nan=True),
}


def temporal_checks(shape, dtype, layout="contiguous", ties_and_nan=False) -> list[Check]:
    x = make_features(shape, generator=torch.Generator().manual_seed(21))
    x = LAYOUTS[layout]((with_ties_and_nan(x) if ties_and_nan else x).to(dtype))
    checks = []
    for mode in MODES:
        forward = _op_check(f"temporal_pool({mode})", emulation.temporal_pool(x, mode), OPS.temporal_pool,
                            ["output", "argmax"], (x,), (mode,))  # fmt: skip
        argmax = forward.expected["argmax"]
        grad = _gradient(forward.expected["output"].shape, dtype, layout)
        backward = _op_check(f"temporal_pool_backward({mode})", emulation.temporal_pool_backward(
            grad, argmax, shape[2], mode), OPS.temporal_pool_backward, ["grad_input"], (grad, argmax),
            (shape[2], mode))  # fmt: skip
        checks += [forward, backward]
    return checks


CASE_NAMES = [f"roi:{name}" for name in ROI_CASES] + [f"temporal:{name}" for name in TEMPORAL_CASES]


@functools.cache
def all_checks(dtype) -> dict[str, list[Check]]:
    checks = {f"roi:{name}": roi_checks(case, dtype) for name, case in ROI_CASES.items()}
    checks.update(
        {f"temporal:{name}": temporal_checks(dtype=dtype, **kw) for name, kw in TEMPORAL_CASES.items()}
    )
    return checks


_RUNS: dict = {}


def emulated(programs, variant, dtype) -> dict[str, list[tuple[Check, emulation.Result]]]:
    """Every case's checks with the emulation's results: one run of the program per variant and
    dtype, shared by the tests."""
    if (variant, dtype) not in _RUNS:
        cases = all_checks(dtype)
        calls = [check.call for checks in cases.values() for check in checks]
        results = iter(emulation.run(programs[variant], calls, sanitized=variant == "sanitized"))
        _RUNS[variant, dtype] = {name: [(c, next(results)) for c in checks] for name, checks in cases.items()}
    return _RUNS[variant, dtype]


def assert_outputs_close(label: str, actual: dict, expected: dict, **tolerance):
    """Every output close (NaN where NaN, Inf where the same Inf); argmax outputs equal."""
    for name, want in expected.items():
        got = actual[name].cpu()
        want = want.cpu()
        if want.dtype == torch.int16:  # argmax: the first index of the max, exactly
            assert torch.equal(got, want), f"{label}: {name} differs"
        else:
            torch.testing.assert_close(got, want, equal_nan=True, **tolerance,
                                       msg=lambda m, label=label, name=name: f"{label}: {name}: {m}")  # fmt: skip
