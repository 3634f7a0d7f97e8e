"""A tubes dataset in UCF101-24's layout (`--kind tubes`: `rgb-images/<class>/<video>/00001.jpg`,
`UCF101v2-GT.pkl`, 25 fps) trains through `--dataset` and gives frame- and video-mAP above chance.

480 one-person train videos of 5 s with one training keyframe a second (`[train] frame_step = 25`:
2400 clips; a small model memorises a few dozen videos instead of learning the motions), 16 val
videos with every frame evaluated; the learning test's model (R18 SlowOnly 4x16, 8 stem channels,
96 px, 3 epochs) with the AVA row's sigmoid head (the MultiSports row's softmax head, its schedule
squeezed into 3 epochs, stays at the class prior here: frame-mAP ~0.05). Chance is measured on the
trained model's own detections with their labels shuffled among them (the same boxes, scores and
class frequencies, no knowledge of the actions), averaged over 5 shuffles; the generator's chance
(every gt box scored at random for every class) is the other floor for the frame-mAP.

Measured (December 2026, 2-core x86_64): frame-mAP 0.250 (chance 0.153), video-mAP@0.5 0.165
(chance 0.000); 3 min 18 s in all on 2 cores (generation ~40 s, training 159 s).
"""

import json

import numpy as np
import pytest
from engine_helpers import one_thread

import eval.multisports
from eval.safe_pickle import load as safe_load
from slowbench import test as test_cli
from slowbench import train as train_cli
from slowbench.data.synthetic import generate

ROW = "ava21-k400-r50-4x16"
# The training command of docs/custom_data.md's tubes section.
PROFILE = [
    "--device", "cpu", "--row", ROW, "--model-override", "depth=18", "--model-override", "base_channels=8",
    "--short-side", "96", "--fast-decode", "--epochs", "3", "--batch-size", "8", "--lr", "0.1",
    "--seed", "0", "--workers", "1",
]  # fmt: skip


@pytest.mark.slow
def test_tubes_dataset_learns_above_chance(tmp_path, capsys):
    root = generate(
        tmp_path / "tubes", kind="tubes", videos=480, val_videos=16, seconds=5, persons=(1, 1), progress=False
    )
    with open(root / "dataset.toml", "a") as file:
        file.write("\n[train]\nframe_step = 25\n")
    with one_thread():
        status = train_cli.main(
            [*PROFILE, "--dataset", str(root / "dataset.toml"), "--work-dir", str(tmp_path / "run")]
        )
        assert status == 0
        argv = [
            "--row",
            ROW,
            "--ckpt",
            str(tmp_path / "run" / "latest.pth"),
            "--workers",
            "0",
            "--device",
            "cpu",
        ]
        assert test_cli.main([*argv, "--dump", str(tmp_path / "dets.pkl")]) == 0
    result = json.loads((tmp_path / "run" / "results.json").read_text())
    dump = safe_load(tmp_path / "dets.pkl")
    gt = safe_load(dump["gt_path"])
    rng = np.random.default_rng(0)
    shuffled = []
    for _ in range(5):
        dets = dump["frame_dets"].copy()
        dets[:, 2] = rng.permutation(dets[:, 2])
        shuffled.append(eval.multisports.evaluate(gt, dets))
    chance_frame = max(
        np.mean([r["frame_mAP"] for r in shuffled]),
        json.loads((root / "synthetic_info.json").read_text())["chance_frame_mAP"],
    )
    chance_video = np.mean([r["video_mAP"]["0.5"] for r in shuffled])
    with capsys.disabled():
        print(
            f"\ntubes frame-mAP {result['frame_mAP']:.3f} (chance {chance_frame:.3f}), video-mAP@0.5 "
            f"{result['video_mAP']['0.5']:.3f} (chance {chance_video:.3f}) in {result['seconds']:.0f} s"
        )
    assert result["frame_mAP"] > chance_frame + 0.05
    assert result["video_mAP"]["0.5"] > chance_video + 0.1
