"""Exported detector in onnxruntime (CPU) vs eager PyTorch and the BN-folded path, at the CPU
shapes of bench_model.py (clip 1x3x4x96x128, 4 RoIs; R50, R101, R50-NL).

The ratios onnxruntime / eager and onnxruntime / BN-folded (interleaved minimum times, one run)
are reported in `extra_info`. Asserted: the exported model gives the eager scores (max |diff| <=
1e-4) and onnxruntime is no slower than eager PyTorch (measured 0.61-0.78x eager and 0.81-0.94x
the BN-folded path on a loaded 2-core CPU, so the 5% slack of bench_model covers the jitter). The
ratio to the BN-folded path is reported only: it is closer and depends on the CPU's kernels.

    python -m pytest benchmarks/bench_deploy.py --benchmark-only
"""
from __future__ import annotations

import pytest
import torch

from benchmarks.bench_model import (BACKBONES, INFER_SHAPE, ROUNDS, SLACK, _interleaved_min_ms,
                                    _proposals)
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
    export_onnx(eager, tmp_path / "det.onnx", (torch.cat([clips, clips]), torch.cat(
        [rois, rois + torch.tensor([1.0, 0, 0, 0, 0])])))
    session = OnnxDetector(tmp_path / "det.onnx").session  # threads: torch's
    feed = {"clip": clips.numpy(), "rois": rois.numpy()}
    with torch.inference_mode():
        expected = eager.score_rois(clips, rois)
        times = _interleaved_min_ms({
            "eager": lambda: eager.predict(clips, proposals),
            "fold_bn": lambda: folded.predict(clips, proposals),
            "onnxruntime": lambda: session.run(None, feed),
        }, ROUNDS)
    (scores,) = benchmark.pedantic(lambda: session.run(None, feed), rounds=ROUNDS,
                                   warmup_rounds=1)
    diff = (torch.from_numpy(scores) - expected).abs().max().item()
    benchmark.extra_info.update(
        device="cpu", shape=list(INFER_SHAPE), threads=torch.get_num_threads(),
        min_ms={k: round(v, 2) for k, v in times.items()}, max_abs_diff=diff,
        onnxruntime_over_eager=round(times["onnxruntime"] / times["eager"], 3),
        onnxruntime_over_fold_bn=round(times["onnxruntime"] / times["fold_bn"], 3))
    print(f"\n{backbone}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in times.items())
          + f"; onnxruntime / eager {times['onnxruntime'] / times['eager']:.2f}")
    assert diff <= 1e-4
    assert times["onnxruntime"] <= SLACK * times["eager"], \
        f"onnxruntime {times['onnxruntime']:.1f} ms vs eager {times['eager']:.1f} ms"
