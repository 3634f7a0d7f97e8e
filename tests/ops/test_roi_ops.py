"""Correctness of roi_align_3d, temporal_pool and roi_align_3d_pool against the float64
pure-PyTorch reference (benchmarks/op_reference.py): forward, backward, gradcheck, opcheck,
non-contiguous inputs, edge-case RoIs and torch.compile."""

import math

import pytest
import torch
from devices import DEVICES

from benchmarks.op_reference import (
    roi_align_3d_naive,
    roi_align_3d_pool_ref,
    roi_align_3d_ref,
    temporal_pool_ref,
)
from benchmarks.op_samples import make_features, make_rois, non_contiguous
from slowbench import ops

MODES = ["avg", "max"]

# (N, C, T, H, W), output_size, spatial_scale, sampling_ratio, aligned: odd sizes, T = 1,
# non-square outputs, legacy (aligned=False) geometry, fixed and adaptive sampling.
CASES = [
    ((2, 3, 4, 7, 9), (3, 4), 1 / 16, 0, True),
    ((1, 2, 1, 5, 6), 2, 1 / 8, 0, True),
    ((3, 2, 3, 11, 6), (5, 3), 1 / 4, 2, True),
    ((2, 1, 5, 6, 13), (2, 7), 0.5, 0, False),
    ((1, 4, 2, 8, 8), 7, 1.0, 3, False),
    ((2, 2, 7, 1, 1), (2, 2), 1 / 16, 0, True),
]
CASE_IDS = [f"case{i}" for i in range(len(CASES))]


def _inputs(case, device, dtype=torch.float64, k=12, seed=0):
    shape, size, scale, sr, aligned = case
    g = torch.Generator().manual_seed(seed)
    x = make_features(shape, generator=g, dtype=dtype).to(device)
    rois = make_rois(k, shape[0], shape[3], shape[4], scale, generator=g).to(device=device, dtype=dtype)
    return x, rois, size, scale, sr, aligned


def _tol(dtype):
    return dict(rtol=1e-4, atol=2e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-11)


# ----------------------------------------------------------------------------- reference


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_vectorised_reference_matches_naive(case):
    x, rois, size, scale, sr, aligned = _inputs(case, "cpu", k=6, seed=1)
    x = x[:, :2, :2]
    torch.testing.assert_close(
        roi_align_3d_ref(x, rois, size, scale, sr, aligned),
        roi_align_3d_naive(x, rois, size, scale, sr, aligned),
        rtol=1e-12,
        atol=1e-12,
    )


def test_known_values_on_a_linear_map():
    # Bilinear interpolation is exact on a linear function, so with every sample inside the
    # map each bin equals the function at the bin centre.
    H = W = 8
    yy, xx = torch.meshgrid(
        torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing="ij"
    )
    plane = 10 * yy + xx
    x = torch.stack([plane, 2 * plane]).reshape(1, 1, 2, H, W)
    rois = torch.tensor([[0, 1.5, 1.5, 5.5, 5.5]], dtype=torch.float64)  # aligned: [1, 5] x [1, 5]
    out = ops.roi_align_3d(x, rois, 2)
    expected = torch.tensor([[22.0, 24.0], [42.0, 44.0]], dtype=torch.float64)
    torch.testing.assert_close(out[0, 0, 0], expected)
    torch.testing.assert_close(out[0, 0, 1], 2 * expected)
    torch.testing.assert_close(
        ops.roi_align_3d_pool(x, rois, 2, temporal_mode="avg")[0, 0, 0], 1.5 * expected
    )
    torch.testing.assert_close(ops.roi_align_3d_pool(x, rois, 2, temporal_mode="max")[0, 0, 0], 2 * expected)


def test_out_of_range_samples_count_as_zero():
    x = torch.ones(1, 1, 1, 4, 4, dtype=torch.float64)
    # aligned box [-3.5, 0.5] along x: the 4 samples of the single bin lie at x = -3, -2, -1, 0
    # (grid = ceil(4 / 1)): the first two are out of range (0), the other two read 1.
    rois = torch.tensor([[0, -3.0, 1.0, 1.0, 2.0]], dtype=torch.float64)
    out = ops.roi_align_3d(x, rois, 1, sampling_ratio=0)
    assert out.item() == pytest.approx(0.5)
    torch.testing.assert_close(out, roi_align_3d_ref(x, rois, 1))


# ----------------------------------------------------------------------------- forward


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_roi_align_3d_forward(case, dtype, device):
    x, rois, size, scale, sr, aligned = _inputs(case, device, dtype)
    out = ops.roi_align_3d(x, rois, size, scale, sr, aligned)
    ref = roi_align_3d_ref(x.double(), rois.double(), size, scale, sr, aligned)
    assert out.dtype == dtype and out.shape == ref.shape
    torch.testing.assert_close(out.double(), ref, **_tol(dtype))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_roi_align_3d_pool_forward(case, dtype, mode, device):
    x, rois, size, scale, sr, aligned = _inputs(case, device, dtype)
    out = ops.roi_align_3d_pool(x, rois, size, scale, sr, aligned, mode)
    ref = roi_align_3d_pool_ref(x.double(), rois.double(), size, scale, sr, aligned, mode)
    assert out.dtype == dtype and out.shape == ref.shape
    torch.testing.assert_close(out.double(), ref, **_tol(dtype))
    # == op 1 followed by op 2
    two_step = ops.temporal_pool(ops.roi_align_3d(x, rois, size, scale, sr, aligned), mode)
    torch.testing.assert_close(out, two_step, **_tol(dtype))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(2, 3, 5, 7, 9), (1, 2, 1, 3, 4), (3, 1, 9, 1, 17)])
def test_temporal_pool_forward(shape, mode, device):
    x = make_features(shape, generator=torch.Generator().manual_seed(3)).to(device)
    out = ops.temporal_pool(x, mode)
    assert out.shape == (shape[0], shape[1], 1, shape[3], shape[4])
    torch.testing.assert_close(out, temporal_pool_ref(x, mode), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_temporal_max_ties_and_nan(device):
    x = torch.zeros(1, 1, 4, 1, 3, dtype=torch.float64, device=device)
    x[0, 0, :, 0, 0] = torch.tensor([1.0, 3.0, 3.0, 2.0])  # tie: first index (1) gets the gradient
    x[0, 0, :, 0, 1] = torch.tensor([1.0, float("nan"), 5.0, float("nan")])  # NaN propagates
    x[0, 0, :, 0, 2] = torch.tensor([-1.0, -1.0, -1.0, -1.0])  # all equal: index 0
    x.requires_grad_()
    out = ops.temporal_pool(x, "max")
    assert out[0, 0, 0, 0, 0].item() == 3.0 and math.isnan(out[0, 0, 0, 0, 1].item())
    assert out[0, 0, 0, 0, 2].item() == -1.0
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out))
    expected = torch.zeros_like(x)
    expected[0, 0, 1, 0, 0] = expected[0, 0, 1, 0, 1] = expected[0, 0, 0, 0, 2] = 1
    torch.testing.assert_close(grad, expected)
    # the index used matches torch.max's
    ref_idx = torch.max(x.detach(), dim=2).indices
    assert ref_idx[0, 0, 0, 0].item() == 1 and ref_idx[0, 0, 0, 2].item() == 0


@pytest.mark.parametrize("device", DEVICES)
def test_fused_max_nan_propagates(device):
    x = torch.randn(1, 2, 3, 5, 5, dtype=torch.float64, device=device)
    x[0, 0, 1, 2, 2] = float("nan")
    rois = torch.tensor([[0, 0.0, 0.0, 5.0, 5.0]], dtype=torch.float64, device=device)
    out = ops.roi_align_3d_pool(x, rois, 2, temporal_mode="max")
    ref = roi_align_3d_pool_ref(x, rois, 2, temporal_mode="max")
    assert torch.equal(out.isnan(), ref.isnan()) and out[0, 0].isnan().any() and not out[0, 1].isnan().any()
    torch.testing.assert_close(out, ref, equal_nan=True)


# ----------------------------------------------------------------------------- backward


def _grad(fn, x, seed=5):
    x = x.detach().clone().requires_grad_()
    out = fn(x)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    (gx,) = torch.autograd.grad(out, x, g.to(out))
    return gx


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_roi_align_3d_backward(case, dtype, device):
    x, rois, size, scale, sr, aligned = _inputs(case, device, dtype)
    got = _grad(lambda z: ops.roi_align_3d(z, rois, size, scale, sr, aligned), x)
    ref = _grad(lambda z: roi_align_3d_ref(z, rois.double(), size, scale, sr, aligned), x.double())
    torch.testing.assert_close(got.double(), ref, **_tol(dtype))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_roi_align_3d_pool_backward(case, dtype, mode, device):
    x, rois, size, scale, sr, aligned = _inputs(case, device, dtype)
    got = _grad(lambda z: ops.roi_align_3d_pool(z, rois, size, scale, sr, aligned, mode), x)
    ref = _grad(lambda z: roi_align_3d_pool_ref(z, rois.double(), size, scale, sr, aligned, mode), x.double())
    torch.testing.assert_close(got.double(), ref, **_tol(dtype))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", MODES)
def test_temporal_pool_backward(mode, device):
    x = make_features((2, 3, 5, 4, 6), generator=torch.Generator().manual_seed(4)).to(device)
    torch.testing.assert_close(
        _grad(lambda z: ops.temporal_pool(z, mode), x), _grad(lambda z: temporal_pool_ref(z, mode), x)
    )


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck(mode):
    x, rois, size, scale, sr, aligned = _inputs(CASES[0], "cpu", k=6, seed=7)
    x = x[:, :2].detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda z: ops.roi_align_3d(z, rois, size, scale, sr, aligned), (x,))
    assert torch.autograd.gradcheck(
        lambda z: ops.roi_align_3d_pool(z, rois, size, scale, sr, aligned, mode), (x,)
    )
    assert torch.autograd.gradcheck(lambda z: ops.temporal_pool(z, mode), (x,))


def test_backward_is_deterministic_on_cpu():
    x, rois, size, scale, sr, aligned = _inputs(CASES[2], "cpu", torch.float32, k=40)
    for fn in (
        lambda z: ops.roi_align_3d(z, rois, size, scale, sr, aligned),
        lambda z: ops.roi_align_3d_pool(z, rois, size, scale, sr, aligned, "avg"),
        lambda z: ops.roi_align_3d_pool(z, rois, size, scale, sr, aligned, "max"),
    ):
        assert torch.equal(_grad(fn, x), _grad(fn, x))


# ----------------------------------------------------------------------------- layouts, K = 0


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", MODES)
def test_non_contiguous_input_and_grad(mode, device):
    x, rois, size, scale, sr, aligned = _inputs(CASES[0], device)
    xn = non_contiguous(x)
    rois_nc = torch.stack([rois, rois], 2)[:, :, 0]  # strided rois
    torch.testing.assert_close(rois_nc, rois)
    for fn in (
        lambda z, r: ops.roi_align_3d(z, r, size, scale, sr, aligned),
        lambda z, r: ops.roi_align_3d_pool(z, r, size, scale, sr, aligned, mode),
        lambda z, r: ops.temporal_pool(z, mode),
    ):
        torch.testing.assert_close(fn(xn, rois_nc), fn(x, rois))
        # non-contiguous grad_output: backward through a transpose of the output
        a = xn.detach().clone().requires_grad_()
        b = x.detach().clone().requires_grad_()
        (ga,) = torch.autograd.grad(fn(a, rois_nc).transpose(3, 4).sin().sum(), a)
        (gb,) = torch.autograd.grad(fn(b, rois).sin().sum(), b)
        torch.testing.assert_close(ga, gb)
    # a temporal slice view (what a per-slice loop would pass) needs no copy
    torch.testing.assert_close(
        ops.roi_align_3d(x[:, :, 1:2], rois, size, scale, sr, aligned),
        ops.roi_align_3d(x, rois, size, scale, sr, aligned)[:, :, 1:2],
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", MODES)
def test_no_rois(mode, device):
    x = torch.randn(2, 3, 4, 5, 6, device=device, requires_grad=True)
    rois = torch.zeros(0, 5, device=device)
    out1 = ops.roi_align_3d(x, rois, (2, 3))
    out2 = ops.roi_align_3d_pool(x, rois, (2, 3), temporal_mode=mode)
    assert out1.shape == (0, 3, 4, 2, 3) and out2.shape == (0, 3, 1, 2, 3)
    (g,) = torch.autograd.grad(out1.sum() + out2.sum(), x)
    assert torch.equal(g, torch.zeros_like(x))


@pytest.mark.parametrize("device", DEVICES)
def test_empty_channels(device):
    x = torch.randn(2, 0, 3, 4, 4, device=device, requires_grad=True)
    rois = torch.tensor([[1, 0.0, 0.0, 4.0, 4.0]], device=device)
    assert ops.roi_align_3d(x, rois, 2).shape == (1, 0, 3, 2, 2)
    assert ops.roi_align_3d_pool(x, rois, 2, temporal_mode="max").shape == (1, 0, 1, 2, 2)
    assert ops.temporal_pool(x).shape == (2, 0, 1, 4, 4)


def test_rois_in_float32_with_float64_input():
    x, rois, size, scale, sr, aligned = _inputs(CASES[0], "cpu")
    rois32 = rois.float()
    torch.testing.assert_close(
        ops.roi_align_3d(x, rois32, size, scale, sr, aligned),
        roi_align_3d_ref(x, rois32.double(), size, scale, sr, aligned),
    )


def test_modules_and_repr():
    x, rois, size, scale, sr, aligned = _inputs(CASES[0], "cpu")
    m = ops.RoIAlign3dPool(size, scale, sr, aligned, temporal_mode="max")
    assert "temporal_mode='max'" in repr(m) and "output_size=(3, 4)" in repr(m)
    torch.testing.assert_close(m(x, rois), ops.roi_align_3d_pool(x, rois, size, scale, sr, aligned, "max"))
    torch.testing.assert_close(
        ops.RoIAlign3d(size, scale, sr, aligned)(x, rois), ops.roi_align_3d(x, rois, size, scale, sr, aligned)
    )
    torch.testing.assert_close(ops.TemporalPool("avg")(x), ops.temporal_pool(x, "avg"))


# ----------------------------------------------------------------------------- opcheck, compile


def _opcheck_samples(device):
    x, rois, size, scale, sr, aligned = _inputs(CASES[0], device, k=5, seed=11)
    oh, ow = size
    for requires_grad in (False, True):
        xi = x.detach().clone().requires_grad_(requires_grad)
        yield torch.ops.slowbench.roi_align_3d.default, (xi, rois, oh, ow, scale, sr, aligned)
        for mode in MODES:
            yield torch.ops.slowbench.temporal_pool.default, (xi, mode)
            yield torch.ops.slowbench.roi_align_3d_pool.default, (xi, rois, oh, ow, scale, sr, aligned, mode)
    g = torch.randn(rois.shape[0], x.shape[1], x.shape[2], oh, ow, dtype=x.dtype, device=device)
    yield torch.ops.slowbench.roi_align_3d_backward.default, (g, rois, *x.shape, oh, ow, scale, sr, aligned)
    g1 = g[:, :, :1]
    _, arg = torch.ops.slowbench.roi_align_3d_pool.default(x, rois, oh, ow, scale, sr, aligned, "max")
    yield (
        torch.ops.slowbench.roi_align_3d_pool_backward.default,
        (g1, rois, arg, *x.shape, oh, ow, scale, sr, aligned, "max"),
    )
    _, targ = torch.ops.slowbench.temporal_pool.default(x, "max")
    yield (
        torch.ops.slowbench.temporal_pool_backward.default,
        (torch.randn_like(x[:, :, :1]), targ, x.shape[2], "max"),
    )


@pytest.mark.parametrize("device", DEVICES)
def test_opcheck(device):
    for op, args in _opcheck_samples(device):
        torch.library.opcheck(op, args)


@pytest.mark.parametrize("mode", MODES)
def test_torch_compile_fullgraph(mode):
    x, rois, size, scale, sr, aligned = _inputs(CASES[0], "cpu", torch.float32)

    def f(z, r):
        return (
            ops.roi_align_3d_pool(z, r, size, scale, sr, aligned, mode).sum()
            + ops.roi_align_3d(z, r, size, scale, sr, aligned).mean()
            + ops.temporal_pool(z, mode).sum()
        )

    compiled = torch.compile(f, backend="aot_eager", fullgraph=True, dynamic=True)
    a = x.detach().clone().requires_grad_()
    b = x.detach().clone().requires_grad_()
    out_c, out_e = compiled(a, rois), f(b, rois)
    torch.testing.assert_close(out_c, out_e)
    out_c.backward()
    out_e.backward()
    torch.testing.assert_close(a.grad, b.grad)
    # a different number of RoIs reuses the dynamic graph
    torch.testing.assert_close(compiled(x, rois[:3]), f(x, rois[:3]))


def test_matches_torchvision_when_installed():
    tv_ops = pytest.importorskip("torchvision.ops")
    x, rois, size, scale, sr, aligned = _inputs(CASES[0], "cpu", torch.float32)
    ours = ops.roi_align_3d(x, rois, size, scale, sr, aligned)
    for t in range(x.shape[2]):
        ref = tv_ops.roi_align(x[:, :, t].contiguous(), rois, size, scale, sr, aligned)
        torch.testing.assert_close(ours[:, :, t], ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_huge_sampling_grid(device):
    # ~850 samples per bin and axis: exercises tap merging (CPU) and the direct path (CUDA).
    x = make_features((1, 2, 2, 16, 16), generator=torch.Generator().manual_seed(9)).to(device)
    rois = torch.tensor(
        [[0, -500.0, -400.0, 1200.0, 1300.0], [0, -3.0, 2.0, 30.0, 12.0]], dtype=torch.float64, device=device
    )
    for mode in MODES:
        torch.testing.assert_close(
            ops.roi_align_3d_pool(x, rois, 2, 1.0, 0, True, mode),
            roi_align_3d_pool_ref(x, rois, 2, 1.0, 0, True, mode),
        )
    got = _grad(lambda z: ops.roi_align_3d(z, rois, 2, 1.0), x)
    torch.testing.assert_close(got, _grad(lambda z: roi_align_3d_ref(z, rois, 2, 1.0), x))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_cpu(dtype):
    # float16 / bfloat16 also run on CPU, accumulating in float32.
    x, rois, size, scale, sr, aligned = _inputs(CASES[0], "cpu", torch.float32)
    xh = x.to(dtype)
    tol = dict(rtol=2e-2, atol=2e-2) if dtype == torch.bfloat16 else dict(rtol=2e-3, atol=2e-3)
    for mode in MODES:
        out = ops.roi_align_3d_pool(xh, rois, size, scale, sr, aligned, mode)
        assert out.dtype == dtype
        torch.testing.assert_close(
            out.float(),
            roi_align_3d_pool_ref(xh.double(), rois.double(), size, scale, sr, aligned, mode).float(),
            **tol,
        )
        got = _grad(lambda z, mode=mode: ops.roi_align_3d_pool(z, rois, size, scale, sr, aligned, mode), xh)
        assert got.dtype == dtype
        ref = _grad(
            lambda z, mode=mode: roi_align_3d_pool_ref(z, rois.double(), size, scale, sr, aligned, mode),
            xh.double(),
        )
        torch.testing.assert_close(got.float(), ref.float(), **tol)
