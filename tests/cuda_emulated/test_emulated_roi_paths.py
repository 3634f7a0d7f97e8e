"""The CUDA RoI kernels give the same results whichever path a RoI takes: the tap table in shared
memory, or the direct path for RoIs whose table does not fit (forward and atomic backward), which
the deterministic backward always takes. Checked on the emulated kernels against the CPU ops:

- float32 accuracy at large sampling ratios, against a float64 result: every CUDA path within
  the CPU op's own float32 error;
- Inf in the feature map (its last row and column, where bilinear samples are clamped) and in the
  gradient: the same Inf / NaN as the CPU op (the rule is stated in csrc/roi_align_common.h).
"""

from __future__ import annotations

import emulation
import pytest
import torch
from emulated_cases import assert_outputs_close

from benchmarks.op_samples import make_features, make_rois
from slowbench import ops

assert ops.is_available(), "slowbench._C is not built"
OPS = torch.ops.slowbench
SHAPE = (1, 4, 2, 16, 16)
OUTPUT = (7, 7)


def _max_error(actual, reference):
    return (actual.double() - reference).abs().max().item()


def _rois(num, seed):
    g = torch.Generator().manual_seed(seed)
    return make_rois(num, SHAPE[0], SHAPE[3], SHAPE[4], 1.0, generator=g, kinds=("normal", "partial"))


@pytest.mark.parametrize("sampling_ratio", [32, 64, 128])
def test_float32_paths_within_the_cpu_op_error(emulated_programs, sampling_ratio):
    g = torch.Generator().manual_seed(sampling_ratio)
    x, rois = make_features(SHAPE, generator=g, dtype=torch.float32), _rois(4, 1).float()
    grad = torch.randn((rois.shape[0], SHAPE[1], SHAPE[2], *OUTPUT), generator=g)
    args = (*OUTPUT, 1.0, sampling_ratio, True)
    # The reference: the float64 op on the same (float32) values.
    reference = OPS.roi_align_3d(x.double(), rois.double(), *args)
    grad_reference = OPS.roi_align_3d_backward(grad.double(), rois.double(), *SHAPE, *args)
    cpu_error = max(
        _max_error(OPS.roi_align_3d(x, rois, *args), reference),
        _max_error(OPS.roi_align_3d_backward(grad, rois, *SHAPE, *args), grad_reference),
    )
    calls = [emulation.roi_align_3d(x, rois, *args)] + [
        emulation.roi_align_3d_backward(grad, rois, *SHAPE, *args, deterministic=d) for d in (False, True)
    ]
    forward, atomic, deterministic = emulation.run(emulated_programs["plain"], calls)
    errors = {
        f"forward ({'table' if forward.report['table_rois'] else 'direct'} path)": _max_error(
            forward["output"], reference
        ),
        f"atomic backward ({'table' if atomic.report['table_rois'] else 'direct'} path)": _max_error(
            atomic["grad_input"], grad_reference
        ),
        "deterministic backward (direct path)": _max_error(deterministic["grad_input"], grad_reference),
    }
    # Summation orders differ from the CPU op's: allow twice its error (and float32 rounding of
    # the results themselves, ~1e-7 here).
    bound = 2 * cpu_error + 2e-7
    assert all(error <= bound for error in errors.values()), f"CPU op {cpu_error:.2e}, CUDA paths {errors}"


def _edge_case(dtype):
    """Features with +Inf along the last row (channel 0), the last column (channel 1) and both
    (channel 2, -Inf); RoIs over the bottom-right edge, some with tables that fit the shared
    buffer, some not (the direct path)."""
    x = make_features(SHAPE, generator=torch.Generator().manual_seed(3))
    x[:, 0, :, -1, :] = float("inf")
    x[:, 1, :, :, -1] = float("inf")
    x[:, 2, :, -1, :] = float("-inf")
    x[:, 2, :, :, -1] = float("-inf")
    small = torch.tensor([[0, 9.0, 10.0, 15.9, 16.0], [0, 4.0, 3.0, 17.0, 15.5], [0, 12.0, 12.0, 15.0, 15.0]])
    large = torch.tensor([[0, -300.0, -200.0, 400.0, 350.0], [0, 2.0, -5.0, 800.0, 700.0]])
    return x.to(dtype), torch.cat([small, large]).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_inf_gives_what_the_cpu_op_gives_on_every_path(emulated_programs, dtype):
    x, rois = _edge_case(dtype)
    args = (*OUTPUT, 1.0, 0, True)
    grad = torch.randn(
        (rois.shape[0], SHAPE[1], SHAPE[2], *OUTPUT), generator=torch.Generator().manual_seed(4)
    )
    grad = grad.to(dtype)
    grad[:, 3, :, -1, :] = float("inf")  # Inf gradients on the bins at the edge, another channel
    pool_grad = grad[:, :, :1].contiguous()
    _, argmax = OPS.roi_align_3d_pool(x, rois, *args, "max")
    checks = [
        (emulation.roi_align_3d(x, rois, *args), "output", OPS.roi_align_3d(x, rois, *args)),
        (emulation.roi_align_3d_pool(x, rois, *args, "avg"), "output", OPS.roi_align_3d_pool(x, rois, *args, "avg")[0]),
        (emulation.roi_align_3d_pool(x, rois, *args, "max"), "output", OPS.roi_align_3d_pool(x, rois, *args, "max")[0]),
    ]  # fmt: skip
    for deterministic in (False, True):
        checks += [
            (emulation.roi_align_3d_backward(grad, rois, *SHAPE, *args, deterministic=deterministic), "grad_input",
             OPS.roi_align_3d_backward(grad, rois, *SHAPE, *args)),
            (emulation.roi_align_3d_pool_backward(pool_grad, rois, argmax, *SHAPE, *args, "max",
                                                  deterministic=deterministic), "grad_input",
             OPS.roi_align_3d_pool_backward(pool_grad, rois, argmax, *SHAPE, *args, "max")),
        ]  # fmt: skip
    results = emulation.run(emulated_programs["plain"], [call for call, _, _ in checks])
    assert results[0].report["table_rois"] == 3 and results[0].report["direct_rois"] == 2
    forward = checks[0][2]
    assert forward[:3].isinf().any() and forward[3:].isinf().any(), "Inf on both paths' RoIs"
    for (call, name, expected), result in zip(checks, results):
        # Inf where the CPU op has the same Inf, NaN where it has NaN, close elsewhere.
        label = f"{call.op}(deterministic={call.args.get('deterministic')})"
        assert_outputs_close(label, result.outputs, {name: expected}, rtol=1e-5, atol=1e-5)
