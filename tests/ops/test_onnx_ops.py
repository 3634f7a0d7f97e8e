"""slowbench's ops exported as standard ONNX operators and run in onnxruntime equal the ops.

Every form of `slowbench.deploy.onnx_symbolics` is traced at one shape and run at others (all
dims dynamic) in float64, so rounding cannot hide a wrong sample, weight or bin: the RoIs cover
every rule of the op (tiny, huge, off-map, straddling, degenerate and inverted boxes, adaptive
and fixed sampling grids, aligned and legacy geometry).
"""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from benchmarks.op_samples import make_features, make_rois
from slowbench import ops

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
from slowbench.deploy.onnx_export import onnx_bytes  # noqa: E402

TOL = 1e-12  # float64; the ops and onnxruntime only sum in different orders


class Op(nn.Module):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, *inputs):
        return self.function(*inputs)


def run_both(function, example, runs, opset=17):
    """Max |onnxruntime - eager| of `function` exported on `example`, over the inputs `runs`."""
    names = [f"in{i}" for i in range(len(example))]
    model = onnx_bytes(
        Op(function),
        example,
        input_names=names,
        output_names=["out"],
        dynamic_axes={n: dict(enumerate("abcde"[: x.dim()])) for n, x in zip(names, example)},
        opset=opset,
    )
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    worst = 0.0
    for inputs in runs:
        (got,) = session.run(None, {n: x.numpy() for n, x in zip(names, inputs)})
        want = function(*inputs)
        assert got.shape == tuple(want.shape)
        worst = max(worst, (torch.from_numpy(got) - want).abs().max().item())
    return worst


def cases(time, scale, generator, shapes=((2, 3, 10, 13), (3, 2, 7, 20), (1, 4, 16, 5))):
    """(features [N, C, T, H, W], rois [K, 5]) at several shapes, K from 12 to 30."""
    out = []
    for i, (n, c, h, w) in enumerate(shapes):
        features = make_features((n, c, time, h, w), generator=generator)
        out.append((features, make_rois(12 + 9 * i, n, h, w, scale, generator=generator)))
    return out


@pytest.mark.parametrize("time", [1, 3])
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [0, 2])
def test_roi_align_3d(time, aligned, sampling_ratio):
    generator = torch.Generator().manual_seed(time * 10 + sampling_ratio + aligned)
    runs = cases(time, 0.25, generator)
    diff = run_both(lambda x, r: ops.roi_align_3d(x, r, (4, 3), 0.25, sampling_ratio, aligned), runs[0], runs)
    assert diff <= TOL


@pytest.mark.parametrize("mode", ["avg", "max"])
def test_temporal_pool(mode):
    generator = torch.Generator().manual_seed(1)
    runs = [(make_features(s, generator=generator),) for s in [(2, 3, 4, 5, 6), (1, 2, 7, 3, 9)]]
    assert run_both(lambda x: ops.temporal_pool(x, mode), runs[0], runs) <= TOL


@pytest.mark.parametrize("mode", ["avg", "max"])
def test_roi_align_3d_pool(mode):
    generator = torch.Generator().manual_seed(2)
    runs = cases(4, 1 / 16, generator)
    function = lambda x, r: ops.roi_align_3d_pool(x, r, 8, 1 / 16, 0, True, mode)  # noqa: E731
    assert run_both(function, runs[0], runs) <= TOL


def test_adaptive_avg_pool2d_keeps_height_and_width_dynamic():
    """Bins of uneven and overlapping sizes: inputs smaller, larger and not multiples of 8."""
    generator = torch.Generator().manual_seed(3)
    runs = [
        (make_features(s, generator=generator),)
        for s in [(2, 3, 16, 22), (1, 2, 5, 7), (3, 1, 8, 8), (1, 1, 29, 3)]
    ]
    assert run_both(lambda x: F.adaptive_avg_pool2d(x, 8), runs[0], runs) <= TOL


@pytest.mark.parametrize("opset", [16, 18, 20])
def test_opsets(opset):
    """ReduceMean's axes moved from an attribute to an input in opset 18."""
    generator = torch.Generator().manual_seed(4)
    runs = cases(2, 1 / 16, generator, shapes=((2, 3, 6, 7),))
    function = lambda x, r: ops.roi_align_3d_pool(x, r, 8, 1 / 16, 0, True, "avg")  # noqa: E731
    assert run_both(function, runs[0], runs, opset=opset) <= TOL
