"""CUDA kernels: CPU/CUDA parity, float16/bfloat16 (computed in float32), the deterministic
backward, the current stream and large RoI sets. Every test skips cleanly without a GPU."""

import pytest
import torch
from devices import CUDA

from benchmarks.op_samples import make_features, make_rois
from slowbench import ops

pytestmark = [pytest.mark.cuda, CUDA]

MODES = ["avg", "max"]


def _inputs(dtype=torch.float32, shape=(2, 16, 4, 13, 17), k=24, scale=1 / 16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = make_features(shape, generator=g, dtype=torch.float32)
    rois = make_rois(k, shape[0], shape[3], shape[4], scale, generator=g, dtype=torch.float32)
    return x.to(dtype), rois, scale


def _fwd_bwd(fn, x, rois, seed=3):
    x = x.detach().clone().requires_grad_()
    out = fn(x, rois)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed)).to(out)
    (gx,) = torch.autograd.grad(out, x, g)
    return out.detach(), gx


FNS = {
    "roi_align_3d": lambda x, r: ops.roi_align_3d(x, r, (3, 5), 1 / 16, 0, True),
    "roi_align_3d_sr2_unaligned": lambda x, r: ops.roi_align_3d(x, r, 4, 1 / 16, 2, False),
    "pool_avg": lambda x, r: ops.roi_align_3d_pool(x, r, (3, 5), 1 / 16, 0, True, "avg"),
    "pool_max": lambda x, r: ops.roi_align_3d_pool(x, r, (3, 5), 1 / 16, 0, True, "max"),
    "temporal_avg": lambda x, r: ops.temporal_pool(x, "avg"),
    "temporal_max": lambda x, r: ops.temporal_pool(x, "max"),
}


@pytest.mark.parametrize("deterministic", [False, True])
@pytest.mark.parametrize("name", list(FNS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cpu_cuda_parity(name, dtype, deterministic):
    x, rois, _ = _inputs(dtype)
    rois = rois.to(dtype)
    out_c, g_c = _fwd_bwd(FNS[name], x, rois)
    prev = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(deterministic)
    try:
        out_g, g_g = _fwd_bwd(FNS[name], x.cuda(), rois.cuda())
    finally:
        torch.use_deterministic_algorithms(prev)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-11)
    torch.testing.assert_close(out_g.cpu(), out_c, **tol)
    torch.testing.assert_close(g_g.cpu(), g_c, **tol)


@pytest.mark.parametrize("name", list(FNS))
def test_deterministic_backward_is_bitwise_reproducible(name):
    x, rois, _ = _inputs(shape=(2, 8, 4, 9, 11), k=64)
    x, rois = x.cuda(), rois.cuda()
    prev = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        _, g1 = _fwd_bwd(FNS[name], x, rois)
        _, g2 = _fwd_bwd(FNS[name], x, rois)
    finally:
        torch.use_deterministic_algorithms(prev)
    assert torch.equal(g1, g2)


@pytest.mark.parametrize("name", list(FNS))
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(name, dtype):
    x, rois, _ = _inputs()
    x = x.to(dtype).float()  # the values the half kernel sees
    out_ref, g_ref = _fwd_bwd(FNS[name], x.cuda(), rois.cuda())
    out_h, g_h = _fwd_bwd(FNS[name], x.to(dtype).cuda(), rois.cuda())
    assert out_h.dtype == dtype and g_h.dtype == dtype
    tol = dict(rtol=2e-2, atol=2e-2) if dtype == torch.bfloat16 else dict(rtol=2e-3, atol=2e-3)
    torch.testing.assert_close(out_h.float(), out_ref, **tol)
    torch.testing.assert_close(g_h.float(), g_ref, **tol)


@pytest.mark.parametrize("mode", MODES)
def test_non_contiguous_and_empty_on_cuda(mode):
    x, rois, _ = _inputs()
    x, rois = x.cuda(), rois.cuda()
    xn = x.transpose(3, 4).contiguous().transpose(3, 4)
    torch.testing.assert_close(FNS["pool_" + mode](xn, rois), FNS["pool_" + mode](x, rois))
    torch.testing.assert_close(FNS["roi_align_3d"](xn, rois), FNS["roi_align_3d"](x, rois))
    empty = rois[:0]
    out, g = _fwd_bwd(FNS["pool_" + mode], x, empty)
    assert out.shape[0] == 0 and torch.equal(g, torch.zeros_like(g))
    out, g = _fwd_bwd(FNS["roi_align_3d"], x, empty)
    assert out.shape[0] == 0 and torch.equal(g, torch.zeros_like(g))


def test_runs_on_the_current_stream():
    x, rois, _ = _inputs()
    x, rois = x.cuda(), rois.cuda()
    expected = FNS["pool_max"](x, rois)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        out = FNS["pool_max"](x, rois)
        (g,) = torch.autograd.grad(FNS["pool_avg"](x.requires_grad_(), rois).sum(), x)
    torch.cuda.current_stream().wait_stream(s)
    torch.testing.assert_close(out, expected)
    assert g.shape == x.shape


def test_large_rois_and_many_rois():
    # huge sampling grids and many RoIs per image
    x, rois, _ = _inputs(shape=(1, 4, 2, 40, 40), k=300, scale=1.0)
    rois[:, 0] = 0
    for name in ("roi_align_3d", "pool_avg", "pool_max"):
        out_c, g_c = _fwd_bwd(FNS[name], x, rois)
        out_g, g_g = _fwd_bwd(FNS[name], x.cuda(), rois.cuda())
        torch.testing.assert_close(out_g.cpu(), out_c, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(g_g.cpu(), g_c, rtol=1e-4, atol=1e-4)


def test_opcheck_cuda_half():
    x, rois, scale = _inputs(torch.float16, shape=(2, 3, 2, 6, 7), k=4)
    x, rois = x.cuda(), rois.cuda()
    torch.library.opcheck(
        torch.ops.slowbench.roi_align_3d_pool.default, (x.requires_grad_(), rois, 2, 2, scale, 0, True, "max")
    )
    torch.library.opcheck(torch.ops.slowbench.temporal_pool.default, (x, "avg"))
