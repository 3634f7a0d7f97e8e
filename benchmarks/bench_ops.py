"""Benchmarks of slowbench's ops (pytest-benchmark) at a detection shape.

Run: ``python -m pytest benchmarks/bench_ops.py --benchmark-only`` (plain ``pytest`` skips them).

Shape: features ``[2, 2048, 8, 16, 22]`` (SlowOnly R50 8x8 res5 at 256x340), 16 RoIs,
8x8 output, spatial_scale 1/16, sampling_ratio 0, aligned. Implementations compared:

- ``slowbench``: the op itself (for ``roi_align_3d_pool``: the fused kernel);
- ``loop``: a Python loop over T calling ``roi_align_3d`` on each ``[N, C, 1, H, W]`` slice
  (a 2-D RoIAlign), concatenated along T, then ``temporal_pool`` (both slowbench ops);
- ``reference``: the pure-PyTorch reference of ``benchmarks.op_reference`` (same dtype).

``test_cpu_fused_speedup`` times the three fused-op implementations in one run (the fused op and
the loop interleaved, `benchmarks/timing.py`) and asserts: fused forward+backward >= 5x faster
than the reference (by medians; measured 36-143x) and faster than the loop (median of
per-round ratios; measured 3.2-10.7x).
CUDA variants run only with a GPU (no assertions: CUDA performance is checked elsewhere).
"""

from __future__ import annotations

import functools
import time

import pytest
import torch

from benchmarks.op_reference import roi_align_3d_pool_ref, roi_align_3d_ref, temporal_pool_ref
from benchmarks.op_samples import make_rois
from benchmarks.timing import interleaved_times, median_ms, median_ratio, wall_seconds
from slowbench import ops

SHAPE = (2, 2048, 8, 16, 22)
NUM_ROIS = 16
OUT = 8
SCALE = 1 / 16
MODES = ["avg", "max"]
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, CUDA])]
# Rounds per implementation (CPU): the reference takes seconds per call, so it runs once per
# group (twice in the asserted comparison) to keep the whole file within a few minutes.
ROUNDS = {"slowbench": 5, "loop": 3, "reference": 1}


def _case(device):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(SHAPE, generator=g)
    rois = make_rois(
        NUM_ROIS, SHAPE[0], SHAPE[3], SHAPE[4], SCALE, generator=g, kinds=("normal",), dtype=torch.float32
    )
    return x.to(device), rois.to(device)


@pytest.fixture(scope="module", params=DEVICES)
def case(request):
    return (request.param,) + _case(request.param)


def _sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


# --- implementations ------------------------------------------------------------------


def roi_align_impl(name):
    if name == "slowbench":
        return lambda x, r: ops.roi_align_3d(x, r, OUT, SCALE, 0, True)
    if name == "loop":
        return lambda x, r: torch.cat(
            [ops.roi_align_3d(x[:, :, t : t + 1], r, OUT, SCALE, 0, True) for t in range(x.shape[2])], dim=2
        )
    return lambda x, r: roi_align_3d_ref(x, r, OUT, SCALE, 0, True)


def pool_impl(name, mode):
    if name == "slowbench":
        return lambda x, r: ops.roi_align_3d_pool(x, r, OUT, SCALE, 0, True, mode)
    if name == "loop":
        per_slice = roi_align_impl("loop")
        return lambda x, r: ops.temporal_pool(per_slice(x, r), mode)
    return lambda x, r: roi_align_3d_pool_ref(x, r, OUT, SCALE, 0, True, mode)


def temporal_impl(name, mode):
    if name == "slowbench":
        return lambda x: ops.temporal_pool(x, mode)
    return lambda x: temporal_pool_ref(x, mode)


def _fwd_bwd(fn, x, rois, grad):
    xx = x.detach().requires_grad_()
    out = fn(xx, rois)
    out.backward(grad)
    return xx.grad


def _grad_for(fn, x, rois):
    with torch.no_grad():
        shape = fn(x, rois).shape
    return torch.randn(shape, generator=torch.Generator().manual_seed(1)).to(x.device)


def _run(benchmark, device, impl, target, setup=None):
    benchmark.extra_info.update(
        device=device,
        impl=impl,
        shape=list(SHAPE),
        rois=NUM_ROIS,
        output=OUT,
        threads=torch.get_num_threads(),
    )

    def timed(*args):
        result = target(*args)
        _sync(device)
        return result

    rounds = ROUNDS[impl] if device == "cpu" else 20
    warmup = 0 if (device == "cpu" and impl == "reference") else 1
    if setup is None:
        return benchmark.pedantic(timed, rounds=rounds, iterations=1, warmup_rounds=warmup)
    return benchmark.pedantic(timed, setup=setup, rounds=rounds, warmup_rounds=warmup)


def _run_backward(benchmark, device, impl, fn, x, rois):
    """Times the backward of ``fn(x, rois)`` alone (the forward runs in the untimed setup)."""
    grad = _grad_for(fn, x, rois)

    def setup():
        xx = x.detach().requires_grad_()
        return (fn(xx, rois), xx), {}

    return _run(benchmark, device, impl, lambda out, xx: torch.autograd.grad(out, xx, grad)[0], setup=setup)


# --- the asserted speed-up (CPU) --------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_cpu_fused_speedup(benchmark, mode):
    x, rois = _case("cpu")
    fns = {name: pool_impl(name, mode) for name in ROUNDS}
    grad = _grad_for(fns["slowbench"], x, rois)
    # The first call of each implementation is a warm-up and checks that they agree; it is
    # also one timed sample of the reference (which takes seconds).
    grads, reference_s = {}, []
    for name, fn in fns.items():
        start = time.perf_counter()
        grads[name] = _fwd_bwd(fn, x, rois, grad)
        if name == "reference":
            reference_s.append(time.perf_counter() - start)
    torch.testing.assert_close(grads["slowbench"], grads["reference"], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(grads["slowbench"], grads["loop"], rtol=1e-4, atol=1e-5)
    # Then interleave the fused op and the loop so that machine load affects them alike, and
    # time the reference once more between them.
    times = interleaved_times(
        {name: functools.partial(_fwd_bwd, fns[name], x, rois, grad) for name in ("slowbench", "loop")},
        5,
        warmup=False,
    )
    reference_s.append(wall_seconds(lambda: _fwd_bwd(fns["reference"], x, rois, grad)))
    times["reference"] = reference_s
    med = {name: median_ms(v) for name, v in times.items()}
    vs_ref = med["reference"] / med["slowbench"]
    vs_loop = median_ratio(times["loop"], times["slowbench"])
    benchmark.group = f"cpu roi_align_3d_pool {mode} fwd+bwd: speed-up"
    benchmark.extra_info.update({f"{k}_median_ms": round(v, 2) for k, v in med.items()})
    benchmark.extra_info.update(speedup_vs_reference=round(vs_ref, 2), speedup_vs_loop=round(vs_loop, 2))
    _run(benchmark, "cpu", "slowbench", lambda: _fwd_bwd(fns["slowbench"], x, rois, grad))
    print(
        f"\n[{mode}] fused fwd+bwd {med['slowbench']:.1f} ms, loop {med['loop']:.1f} ms, "
        f"reference {med['reference']:.1f} ms -> {vs_ref:.1f}x vs reference, {vs_loop:.2f}x vs loop"
    )
    assert vs_ref >= 5, f"fused op only {vs_ref:.2f}x faster than the pure-PyTorch reference"
    assert vs_loop > 1, f"fused op not faster than the per-slice loop ({vs_loop:.2f}x)"


# --- per-op forward / backward ----------------------------------------------------------


@pytest.mark.parametrize("impl", list(ROUNDS))
def test_roi_align_3d_forward(benchmark, case, impl):
    device, x, rois = case
    benchmark.group = f"{device} roi_align_3d forward"
    out = _run(benchmark, device, impl, roi_align_impl(impl), setup=lambda: ((x, rois), {}))
    assert out.shape == (NUM_ROIS, SHAPE[1], SHAPE[2], OUT, OUT)


@pytest.mark.parametrize("impl", list(ROUNDS))
def test_roi_align_3d_backward(benchmark, case, impl):
    device, x, rois = case
    benchmark.group = f"{device} roi_align_3d backward"
    gx = _run_backward(benchmark, device, impl, roi_align_impl(impl), x, rois)
    assert gx.shape == x.shape


@pytest.mark.parametrize("impl", list(ROUNDS))
@pytest.mark.parametrize("mode", MODES)
def test_roi_align_3d_pool_forward(benchmark, case, mode, impl):
    device, x, rois = case
    benchmark.group = f"{device} roi_align_3d_pool {mode} forward"
    out = _run(benchmark, device, impl, pool_impl(impl, mode), setup=lambda: ((x, rois), {}))
    assert out.shape == (NUM_ROIS, SHAPE[1], 1, OUT, OUT)


@pytest.mark.parametrize("impl", list(ROUNDS))
@pytest.mark.parametrize("mode", MODES)
def test_roi_align_3d_pool_backward(benchmark, case, mode, impl):
    device, x, rois = case
    benchmark.group = f"{device} roi_align_3d_pool {mode} backward"
    gx = _run_backward(benchmark, device, impl, pool_impl(impl, mode), x, rois)
    assert gx.shape == x.shape


@pytest.mark.parametrize("impl", ["slowbench", "reference"])
@pytest.mark.parametrize("mode", MODES)
def test_temporal_pool_forward_backward(benchmark, case, mode, impl):
    device, x, _ = case
    fn = temporal_impl(impl, mode)
    grad = torch.randn(SHAPE[:2] + (1,) + SHAPE[3:], device=device)
    benchmark.group = f"{device} temporal_pool {mode} fwd+bwd"

    def target():
        xx = x.detach().requires_grad_()
        return torch.autograd.grad(fn(xx), xx, grad)[0]

    gx = _run(benchmark, device, "slowbench", target)  # torch ops are fast: same rounds
    benchmark.extra_info["impl"] = impl
    assert gx.shape == x.shape
