"""`--amp`: bf16 autocast in slowbench.train and slowbench.test on the CPU; float32 weights,
checkpoints, loss and scores; fp16 refused without CUDA. (That it learns: test_amp_learns.py.)"""

import json

import pytest
import torch
from engine_helpers import TINY_ARGS, TINY_ROW, one_thread

from slowbench import test as test_cli
from slowbench import train as train_cli
from slowbench.engine.mixed_precision import MixedPrecision
from slowbench.models import create_detector


@pytest.mark.slow  # a tiny train + test run: ~15 s
def test_train_and_test_with_bf16_autocast(tiny_ava, tmp_path, capsys):
    work = tmp_path / "run"
    with one_thread():
        assert (
            train_cli.main(
                [*TINY_ARGS, "--amp", "--epochs", "1", "--data-root", str(tiny_ava), "--work-dir", str(work)]
            )
            == 0
        )
    captured = capsys.readouterr()
    assert "bf16 autocast" in captured.out + captured.err
    start = json.loads((work / "log.jsonl").read_text().splitlines()[0])
    assert start["amp"] == "bf16"
    ckpt = torch.load(work / "latest.pth", weights_only=True)
    assert {t.dtype for t in ckpt["state_dict"].values() if t.is_floating_point()} == {torch.float32}
    assert ckpt["meta"]["amp"] == "bf16"
    with one_thread():
        assert (
            test_cli.main(
                [
                    "--row",
                    TINY_ROW,
                    "--ckpt",
                    str(work / "latest.pth"),
                    "--amp",
                    "bf16",
                    "--workers",
                    "0",
                    "--json",
                    str(tmp_path / "m.json"),
                ]
            )
            == 0
        )
    assert 0 <= json.loads((tmp_path / "m.json").read_text())["mAP"] <= 1


def test_fp16_needs_cuda(tiny_ava, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("the refusal is for CPU runs")
    status = train_cli.main(
        [
            *TINY_ARGS,
            "--amp",
            "fp16",
            "--data-root",
            str(tiny_ava),
            "--work-dir",
            str(tmp_path / "run"),
            "--device",
            "cpu",
        ]
    )
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "error: --amp fp16: float16 with a GradScaler needs a CUDA device, this run is on cpu; use --amp bf16"
    )


def test_unknown_amp_dtype_is_a_usage_error(capsys):
    assert train_cli.main(["--row", TINY_ROW, "--amp", "fp8"]) == 2
    assert "--amp: invalid choice: 'fp8'" in capsys.readouterr().err


def test_autocast_step_keeps_float32_loss_scores_and_gradients():
    torch.manual_seed(0)
    detector = create_detector(depth=18, base_channels=8, num_classes=6)
    clips = torch.rand(2, 3, 4, 64, 64) * 255
    boxes = [torch.tensor([[4.0, 6.0, 40.0, 60.0]]), torch.tensor([[10.0, 2.0, 50.0, 30.0]])]
    labels = [torch.eye(6)[[2]], torch.eye(6)[[4]]]
    precision = MixedPrecision("bf16", torch.device("cpu"))
    with precision.autocast():
        features = detector.backbone(detector.normalise(clips))
        losses = detector.loss(clips, boxes, boxes, labels)
    assert features.dtype == torch.bfloat16  # the ops below run on bf16 features as they come
    assert losses["loss_action_cls"].dtype == torch.float32
    precision.scaler.scale(losses["loss_action_cls"]).backward()
    assert all(p.grad.dtype == torch.float32 for p in detector.parameters() if p.grad is not None)
    detector.eval()
    with torch.no_grad(), precision.autocast():
        scores = detector.predict(clips, boxes)
    with torch.no_grad():
        reference = detector.predict(clips, boxes)
    assert all(s.dtype == torch.float32 for s in scores)
    # bf16 keeps ~3 significant digits through the backbone: scores close to float32's.
    assert max((s - r).abs().max().item() for s, r in zip(scores, reference)) < 0.05
