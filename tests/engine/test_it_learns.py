"""It must learn: a small SlowOnly trained from scratch on synthetic videos reaches frame-mAP >= 0.5
on held-out synthetic videos, far above chance.

Setup (fixed seeds, ~5 CPU minutes on 2 cores: ~1.5 min generating, ~3.5 min training): the
synthetic AVA layout with one person per video, 640 train / 32 held-out val videos of 10 s at
128x96 (4480 / 224 keyframes); row `ava21-k400-r50-4x16` (4x16 clips, the row's warm-up + step
schedule rescaled to 3 epochs, SGD, grad clip 40) with a ResNet3d-18 SlowOnly backbone of 8 stem
channels at a 96 px short side, no flip, batch 8, lr 0.1; one compute thread and one data-loading
worker. The metric is the AVA frame-mAP of the val split (`eval.ava`, mmaction2 protocol). Chance is
the same evaluator's mAP for random scores on perfect boxes, recorded by the generator (~0.25).

Measured: 0.527 (chance 0.277). The figure is sensitive to rounding: the same data, model and
seeds gave 0.729 before proposals were mapped to pixels in float64 (coordinates moved by ~2e-6 px),
the loss curves agree to 5 digits at iteration 10 and drift apart from there. It is deterministic
for a given build and machine, so the margin over the goal is what is asserted, not a tolerance.
"""

import json

import pytest

GOAL = 0.5


@pytest.mark.slow
def test_small_model_learns_actions_from_motion(learning_ava, learned_ava, capsys):
    result = learned_ava  # the run itself is the fixture: test_custom_data.py compares with it
    chance = json.loads((learning_ava / "synthetic_info.json").read_text())["chance_frame_mAP"]
    with capsys.disabled():
        print(f"\nsynthetic frame-mAP {result['mAP']:.3f} (chance {chance:.3f}) in {result['seconds']:.0f} s")
    assert result["chance_mAP"] == chance < 0.3
    assert result["mAP"] >= GOAL
