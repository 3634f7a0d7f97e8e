"""Bad inputs raise errors that name the offending argument (never an out-of-bounds read)."""

import pytest
import torch
from devices import CUDA

from slowbench import ops

X = torch.randn(2, 3, 4, 5, 6)
GOOD_ROIS = torch.tensor([[0, 1.0, 1.0, 20.0, 30.0], [1, 0.0, 0.0, 50.0, 50.0]])

ROI_OPS = {
    "roi_align_3d": lambda x, r, **kw: ops.roi_align_3d(x, r, 2, 1 / 8, **kw),
    "roi_align_3d_pool": lambda x, r, **kw: ops.roi_align_3d_pool(x, r, 2, 1 / 8, **kw),
    "roi_align_3d_pool(max)": lambda x, r, **kw: ops.roi_align_3d_pool(
        x, r, 2, 1 / 8, temporal_mode="max", **kw
    ),
}


def _rois_with(row, col, value):
    r = GOOD_ROIS.clone()
    r[row, col] = value
    return r


BAD_ROIS = [
    pytest.param(_rois_with(1, 0, 2.0), r"rois\[1, 0\] \(batch index\) is 2", id="batch-too-large"),
    pytest.param(_rois_with(0, 0, -1.0), r"rois\[0, 0\] \(batch index\) is -1", id="batch-negative"),
    pytest.param(
        _rois_with(1, 0, 0.5),
        r"rois\[1, 0\] \(batch index\) is 0.5, expected an integer",
        id="batch-fractional",
    ),
    pytest.param(_rois_with(0, 0, float("nan")), r"rois\[0, 0\] \(batch index\)", id="batch-nan"),
    pytest.param(_rois_with(1, 3, float("inf")), r"rois\[1, 3\] \(box coordinate\) is inf", id="coord-inf"),
    pytest.param(_rois_with(0, 2, float("nan")), r"rois\[0, 2\] \(box coordinate\) is nan", id="coord-nan"),
    pytest.param(GOOD_ROIS[:, :4], r"rois must have shape \[K, 5\]", id="rois-4-columns"),
    pytest.param(GOOD_ROIS[0], r"rois must have shape \[K, 5\]", id="rois-1d"),
    pytest.param(GOOD_ROIS.long(), r"rois must be float32, float64, float16 or bfloat16", id="rois-int"),
]


@pytest.mark.parametrize("op", list(ROI_OPS))
@pytest.mark.parametrize("rois, match", BAD_ROIS)
def test_bad_rois(op, rois, match):
    with pytest.raises(RuntimeError, match=match):
        ROI_OPS[op](X, rois)


BAD_INPUTS = [
    pytest.param(X[:, :, 0], r"input must have shape \[N, C, T, H, W\]", id="rank-4"),
    pytest.param(X.int(), r"input must be float32, float64, float16 or bfloat16", id="int"),
    pytest.param(X.to(torch.complex64), r"input must be float32", id="complex"),
    pytest.param(X[:, :, :, :0], r"input must have a non-empty spatial extent", id="empty-H"),
]


@pytest.mark.parametrize("op", list(ROI_OPS))
@pytest.mark.parametrize("x, match", BAD_INPUTS)
def test_bad_input(op, x, match):
    with pytest.raises(RuntimeError, match=match):
        ROI_OPS[op](x, GOOD_ROIS)


@pytest.mark.parametrize(
    "x, match",
    [
        pytest.param(X[0], r"temporal_pool: input must have shape \[N, C, T, H, W\]", id="rank-4"),
        pytest.param(X.int(), r"temporal_pool: input must be float32", id="int"),
        pytest.param(X[:, :, :0], r"temporal_pool: input must have at least one time step", id="T=0"),
    ],
)
def test_temporal_pool_bad_input(x, match):
    with pytest.raises(RuntimeError, match=match):
        ops.temporal_pool(x)


def test_pool_needs_a_time_step():
    with pytest.raises(RuntimeError, match=r"roi_align_3d_pool: input must have at least one time step"):
        ops.roi_align_3d_pool(X[:, :, :0], GOOD_ROIS, 2)
    assert ops.roi_align_3d(X[:, :, :0], GOOD_ROIS, 2).shape == (2, 3, 0, 2, 2)


def test_bad_arguments_python_side():
    with pytest.raises(ValueError, match="output_size"):
        ops.roi_align_3d(X, GOOD_ROIS, 0)
    with pytest.raises(ValueError, match="output_size"):
        ops.roi_align_3d_pool(X, GOOD_ROIS, (2, 2, 2))
    with pytest.raises(ValueError, match="temporal_mode must be 'avg' or 'max'"):
        ops.roi_align_3d_pool(X, GOOD_ROIS, 2, temporal_mode="min")
    with pytest.raises(ValueError, match="mode must be 'avg' or 'max'"):
        ops.temporal_pool(X, "sum")


def test_bad_arguments_cpp_side():
    op = torch.ops.slowbench
    with pytest.raises(RuntimeError, match=r"roi_align_3d: output_size must be positive"):
        op.roi_align_3d(X, GOOD_ROIS, 0, 2, 1.0, 0, True)
    with pytest.raises(RuntimeError, match=r"roi_align_3d: spatial_scale must be a finite positive number"):
        op.roi_align_3d(X, GOOD_ROIS, 2, 2, -1.0, 0, True)
    with pytest.raises(RuntimeError, match=r"roi_align_3d_pool: temporal_mode must be \"avg\" or \"max\""):
        op.roi_align_3d_pool(X, GOOD_ROIS, 2, 2, 1.0, 0, True, "min")
    with pytest.raises(RuntimeError, match=r"temporal_pool: mode must be \"avg\" or \"max\""):
        op.temporal_pool(X, "min")


def test_bad_backward_arguments():
    op = torch.ops.slowbench
    g = torch.randn(2, 3, 4, 2, 2)
    with pytest.raises(RuntimeError, match=r"roi_align_3d_backward: grad has shape"):
        op.roi_align_3d_backward(g, GOOD_ROIS, 2, 3, 4, 5, 6, 3, 3, 1.0, 0, True)
    with pytest.raises(RuntimeError, match=r"roi_align_3d_backward: input sizes must be non-negative"):
        op.roi_align_3d_backward(g, GOOD_ROIS, 2, 3, -4, 5, 6, 2, 2, 1.0, 0, True)
    with pytest.raises(RuntimeError, match=r"roi_align_3d_pool_backward: argmax must be an int16 tensor"):
        op.roi_align_3d_pool_backward(
            g[:, :, :1],
            GOOD_ROIS,
            torch.zeros(2, 3, 1, 2, 2, dtype=torch.long),
            2,
            3,
            4,
            5,
            6,
            2,
            2,
            1.0,
            0,
            True,
            "max",
        )
    with pytest.raises(RuntimeError, match=r"temporal_pool_backward: grad must have shape \[N, C, 1, H, W\]"):
        op.temporal_pool_backward(g, torch.zeros(0, dtype=torch.int16), 4, "avg")


@pytest.mark.parametrize("bad", [4, -1, 32767], ids=["T", "negative", "int16-max"])
def test_out_of_range_argmax_is_an_error(bad):
    # One rule for every max backward: an argmax outside [0, T) is an error naming the first
    # bad entry (never a dropped gradient, a skipped bin or an out-of-bounds write).
    op = torch.ops.slowbench
    argmax = torch.zeros(2, 3, 1, 2, 2, dtype=torch.int16)
    argmax[1, 2, 0, 0, 1] = bad
    argmax[1, 2, 0, 1, 1] = bad
    match = rf"argmax\[1, 2, 0, 0, 1\] is {bad}, expected a time index in \[0, 4\)"
    g = torch.randn(2, 3, 1, 2, 2)
    with pytest.raises(RuntimeError, match=r"temporal_pool_backward: " + match):
        op.temporal_pool_backward(g, argmax, 4, "max")
    with pytest.raises(RuntimeError, match=r"roi_align_3d_pool_backward: " + match):
        op.roi_align_3d_pool_backward(g, GOOD_ROIS, argmax, 2, 3, 4, 5, 6, 2, 2, 1.0, 0, True, "max")
    # The same argmax with every value in range is accepted; avg mode ignores the argmax.
    argmax.clamp_(0, 3)
    assert op.temporal_pool_backward(g, argmax, 4, "max").shape == (2, 3, 4, 2, 2)
    assert op.roi_align_3d_pool_backward(
        g, GOOD_ROIS, argmax, 2, 3, 4, 5, 6, 2, 2, 1.0, 0, True, "max"
    ).shape == (2, 3, 4, 5, 6)
    empty = torch.zeros(0, dtype=torch.int16)
    assert op.temporal_pool_backward(g, empty, 4, "avg").shape == (2, 3, 4, 2, 2)


def test_backward_ignores_out_of_range_batch_indices():
    # The backward ops are normally fed validated RoIs; called directly with a bad batch index
    # they skip that RoI rather than write out of bounds.
    g = torch.ones(1, 3, 4, 2, 2, dtype=torch.float64)
    rois = torch.tensor([[5, 0.0, 0.0, 4.0, 4.0]], dtype=torch.float64)
    out = torch.ops.slowbench.roi_align_3d_backward(g, rois, 2, 3, 4, 5, 6, 2, 2, 1.0, 0, True)
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.cuda
@CUDA
def test_mismatched_devices():
    with pytest.raises(RuntimeError, match=r"rois must be on the same device as input"):
        ops.roi_align_3d(X.cuda(), GOOD_ROIS, 2)
    with pytest.raises(RuntimeError, match=r"rois must be on the same device as input"):
        ops.roi_align_3d_pool(X.cuda(), GOOD_ROIS, 2)
    with pytest.raises(RuntimeError, match=r"rois must be on the same device as input"):
        ops.roi_align_3d(X, GOOD_ROIS.cuda(), 2)


@pytest.mark.cuda
@CUDA
@pytest.mark.parametrize("rois, match", BAD_ROIS[:6])
def test_bad_rois_cuda(rois, match):
    for fn in ROI_OPS.values():
        with pytest.raises(RuntimeError, match=match):
            fn(X.cuda(), rois.cuda())


def test_missing_extension_message(monkeypatch):
    monkeypatch.setattr(ops, "_C", None)
    monkeypatch.setattr(ops, "_IMPORT_ERROR", ImportError("no module"))
    with pytest.raises(
        ImportError, match=r"slowbench._C .* is not built.*pip install --no-build-isolation -e \."
    ):
        ops.roi_align_3d(X, GOOD_ROIS, 2)
    assert not ops.is_available()
