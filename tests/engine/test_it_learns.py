"""It must learn: a small SlowOnly trained from scratch on synthetic videos beats chance on held-out videos.

Setup (a few CPU minutes on 2 cores, fixed seeds): the synthetic AVA layout with one person per
video (48 train / 8 held-out val videos, 128x96 frames, persons 45-60% of the frame height),
row `ava21-k400-r50-4x16` (4x16 clips, the row's warm-up + step schedule rescaled to 20 epochs,
SGD, grad clip 40) with a ResNet3d-18 SlowOnly backbone of 8 stem channels at the synthetic
profile's pipeline (96 px short side, no flip), batch 8, lr 0.1. The metric is the AVA frame-mAP
of the val split. Chance is the evaluator's mAP of random scores on perfect proposals, recorded by
the generator (0.254 for this data). Measured: 0.423 (5.3 min on the shared, busy 2-core CPU,
generation included; per class: jump 0.76, crouch 0.62, spin 0.43, move right 0.40, stand still
0.37, move left 0.22, wave 0.17); 64 train videos x 16 epochs gave 0.396, 96 seven-second videos
0.411. The model overfits (train loss ~0.13): the issue's goal of 0.5 is NOT reached; the assert
is chance + 0.10.
"""
import json

import pytest
import torch

from slowbench import train as train_cli
from slowbench.data.synthetic import generate

LEARN_ARGS = ["--row", "ava21-k400-r50-4x16", "--model-override", "depth=18", "--short-side", "96",
              "--epochs", "20", "--batch-size", "8", "--lr", "0.1", "--val-every", "100", "--seed", "0"]
MARGIN_OVER_CHANCE = 0.10


@pytest.fixture
def one_thread():
    """This tiny model is bound by per-op overhead: one thread is as fast on an idle 2-core machine
    and several times faster on a shared one (two OpenMP threads then spin against other jobs)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.slow
def test_small_model_learns_actions_from_motion(tmp_path, capsys, one_thread):
    data = generate(tmp_path / "ava", kind="ava", seed=0, videos=48, persons=(1, 1), progress=False)
    assert train_cli.main([*LEARN_ARGS, "--data-root", str(data), "--work-dir", str(tmp_path / "run")]) == 0
    result = json.loads((tmp_path / "run" / "results.json").read_text())
    chance = json.loads((data / "synthetic_info.json").read_text())["chance_frame_mAP"]
    with capsys.disabled():
        print(f"\nsynthetic frame-mAP {result['mAP']:.3f} (chance {chance:.3f}) in {result['seconds']:.0f} s")
    assert result["chance_mAP"] == chance < 0.3
    assert result["mAP"] >= chance + MARGIN_OVER_CHANCE
