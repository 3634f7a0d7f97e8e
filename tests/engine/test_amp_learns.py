"""`--amp` (bfloat16 autocast) on the CPU learns like float32: the learning test's model and data
on a one-epoch schedule reach frame-mAPs within 0.05 of each other, both well above chance.

Setup: the learning test's data (fixture `learning_ava`: 640 train / 32 held-out val one-person
videos) and model (row `ava21-k400-r50-4x16`, R18 of 8 stem channels at a 96 px short side, batch
8, lr 0.1, seed 0, one compute thread and one data worker), for 1 epoch (548 iterations) instead
of 3, once without and once with `--amp`. Measured: float32 0.400 in 258 s, bf16 0.425 in 182 s
(chance 0.277) on a 2-core machine shared with other jobs; at the learning test's quiet-machine
speed a run would take ~80 s. Also checked: the amp run's checkpoint is float32.
"""

import json

import pytest
import torch
from engine_helpers import LEARN_ARGS, one_thread

from slowbench import train as train_cli

SHORT = ["--epochs", "1"]
MAX_GAP = 0.05
ABOVE_CHANCE = 0.08


@pytest.mark.slow
def test_bf16_autocast_learns_like_float32(learning_ava, tmp_path, capsys):
    chance = json.loads((learning_ava / "synthetic_info.json").read_text())["chance_frame_mAP"]
    results = {}
    for name, amp in (("fp32", []), ("bf16", ["--amp"])):
        work = tmp_path / name
        with one_thread():
            status = train_cli.main(
                [*LEARN_ARGS, *SHORT, *amp, "--data-root", str(learning_ava), "--work-dir", str(work)]
            )
        assert status == 0
        results[name] = json.loads((work / "results.json").read_text())
    with capsys.disabled():
        print(
            "\n"
            + ", ".join(
                f"{name} frame-mAP {r['mAP']:.3f} in {r['seconds']:.0f} s" for name, r in results.items()
            )
            + f" (chance {chance:.3f})"
        )
    assert results["fp32"]["mAP"] > chance + ABOVE_CHANCE
    assert abs(results["bf16"]["mAP"] - results["fp32"]["mAP"]) <= MAX_GAP
    state = torch.load(tmp_path / "bf16" / "latest.pth", weights_only=True)["state_dict"]
    assert {t.dtype for t in state.values() if t.is_floating_point()} == {torch.float32}
