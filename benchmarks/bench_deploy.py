"""Exported detector in onnxruntime (CPU) vs eager PyTorch and the BN-folded path, at the CPU
shapes of bench_model.py (clip 1x3x4x96x128, 4 RoIs; R50, R101, R50-NL).

The ratios onnxruntime / eager and onnxruntime / BN-folded (medians of per-round ratios of the
interleaved variants, in process CPU seconds on one thread: `benchmarks/timing.py`; onnxruntime
gets one intra-op thread too) are reported in `extra_info`. Asserted: the exported model gives the eager scores (max |diff| <=
1e-4) and onnxruntime is no slower than eager PyTorch, with bench_model's slack (measured 0.81-0.83x
eager and 0.80-0.84x the BN-folded path in one-thread CPU time; 0.61-0.78x and 0.81-0.94x in wall
time on 2 loaded cores). The ratio to the BN-folded path is reported only.

    python -m pytest benchmarks/bench_deploy.py --benchmark-only
"""

from __future__ import annotations

import pytest
import torch

from benchmarks.bench_model import BACKBONES, COST_ROUNDS, INFER_SHAPE, ROUNDS, SLACK, _proposals
from benchmarks.timing import cpu_cost_times, median_ms, median_ratio
from slowbench.models import build_detector
from slowbench.models.fold_batchnorm import fold_batchnorm
from slowbench.models.roi_head import boxes_to_rois

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
from slowbench.deploy.onnx_detector import OnnxDetector  # noqa: E402
from slowbench.deploy.onnx_export import export_onnx  # noqa: E402


@pytest.mark.benchmark(group="deploy-inference")
@pytest.mark.parametrize("backbone", list(BACKBONES))
def test_onnxruntime_inference(benchmark, backbone, tmp_path):
    torch.manual_seed(0)
    eager = build_detector(BACKBONES[backbone]).eval()
    folded = fold_batchnorm(eager)
    clips = torch.rand(INFER_SHAPE) * 255
    proposals = [p.cpu() for p in _proposals(INFER_SHAPE)]
    rois = boxes_to_rois(proposals)
    export_onnx(
        eager,
        tmp_path / "det.onnx",
        (torch.cat([clips, clips]), torch.cat([rois, rois + torch.tensor([1.0, 0, 0, 0, 0])])),
    )
    session = OnnxDetector(tmp_path / "det.onnx", threads=1).session
    feed = {"clip": clips.numpy(), "rois": rois.numpy()}
    with torch.inference_mode():
        expected = eager.score_rois(clips, rois)
        times = cpu_cost_times(
            {
                "eager": lambda: eager.predict(clips, proposals),
                "fold_bn": lambda: folded.predict(clips, proposals),
                "onnxruntime": lambda: session.run(None, feed),
            },
            COST_ROUNDS,
        )
    (scores,) = benchmark.pedantic(lambda: session.run(None, feed), rounds=ROUNDS, warmup_rounds=1)
    diff = (torch.from_numpy(scores) - expected).abs().max().item()
    ratios = {name: median_ratio(times["onnxruntime"], times[name]) for name in ("eager", "fold_bn")}
    benchmark.extra_info.update(
        device="cpu",
        shape=list(INFER_SHAPE),
        clock="process CPU ms, 1 thread",
        median_ms={k: round(median_ms(v), 2) for k, v in times.items()},
        max_abs_diff=diff,
        onnxruntime_over_eager=round(ratios["eager"], 3),
        onnxruntime_over_fold_bn=round(ratios["fold_bn"], 3),
    )
    print(
        f"\n{backbone}: "
        + ", ".join(f"{k} {median_ms(v):.1f}" for k, v in times.items())
        + f" CPU ms; onnxruntime / eager {ratios['eager']:.2f}, / fold_bn {ratios['fold_bn']:.2f}"
    )
    assert diff <= 1e-4
    assert ratios["eager"] <= SLACK, f"onnxruntime {ratios['eager']:.2f}x eager"
