"""The synthetic dataset: determinism, layouts the readers and evaluators accept, motion semantics."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from data_helpers import AVA_ROW, KINETICS_ROW, MULTISPORTS_ROW

from eval.ava import evaluate, read_csv_gt, read_exclusions, read_label_map
from eval.multisports.io import load_gt
from slowbench.data import DataError, PipelineConfig, build_dataset, find_dataset, synthetic
from slowbench.data.synthetic import INFO_FILE, generate, read_info
from slowbench.data.synthetic.scene import ACTIONS, draw_person, make_scene, person_box
from slowbench.engine.synthetic_profile import synthetic_profile

SMALL = dict(videos=1, val_videos=1, seconds=5, width=64, height=48, progress=False)


def _digest(root):
    sha = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != INFO_FILE):
        sha.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return sha.hexdigest()


def test_generation_is_seeded_and_reused(tmp_path):
    first = generate(tmp_path / "a", seed=1, **SMALL)
    assert _digest(first) == _digest(generate(tmp_path / "b", seed=1, **SMALL))
    assert _digest(first) != _digest(generate(tmp_path / "c", seed=2, **SMALL))
    stamp = (first / INFO_FILE).stat().st_mtime_ns
    assert generate(first, seed=1, **SMALL) == first  # same arguments: reused, not rewritten
    assert (first / INFO_FILE).stat().st_mtime_ns == stamp
    with pytest.raises(DataError, match="made with other arguments"):
        generate(first, seed=3, **SMALL)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(DataError, match="exists and is not empty"):
        generate(tmp_path / "busy", **SMALL)
    assert not list(tmp_path.glob(".*tmp-*"))  # no staging folders left behind


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"params": {}, "classes": ["a"', "cannot be read as JSON"),
        ("\xff\xfe", "cannot be read as JSON"),
        ("[1, 2]", "bad or missing params, classes, chance_frame_mAP, gt_boxes"),
        ('{"params": {}, "classes": [], "chance_frame_mAP": 0.2, "gt_boxes": {}}', "bad or missing classes"),
        ('{"params": {}, "classes": ["a"], "chance_frame_mAP": "0.2", "gt_boxes": {}}', "chance_frame_mAP"),
    ],
)
def test_a_damaged_info_file_is_one_data_error(synthetic_ava, tmp_path, text, message):
    root = tmp_path / "copy"
    root.mkdir()
    (root / INFO_FILE).write_bytes(text.encode("latin-1"))
    for use in (
        read_info,
        lambda root: generate(root, seed=3),
        lambda root: synthetic_profile(AVA_ROW, root),
    ):
        with pytest.raises(DataError) as raised:
            use(root)
        assert str(raised.value).startswith(f"{root / INFO_FILE}: ") and message in str(raised.value)
        assert "\n" not in str(raised.value)
    assert read_info(synthetic_ava)["classes"] == list(ACTIONS)


def test_worker_processes_write_the_same_files(tmp_path, monkeypatch):
    sequential = generate(tmp_path / "one", seed=4, **{**SMALL, "videos": 3})
    monkeypatch.setattr(synthetic, "PARALLEL_FROM_VIDEOS", 2)
    monkeypatch.setattr(synthetic, "usable_cpus", lambda: 2)
    spawned = []
    real_pool = synthetic.ProcessPoolExecutor
    monkeypatch.setattr(
        synthetic, "ProcessPoolExecutor", lambda *a, **k: spawned.append(a) or real_pool(*a, **k)
    )
    parallel = generate(tmp_path / "two", seed=4, **{**SMALL, "videos": 3})
    assert spawned and spawned[0][0] == 2
    assert _digest(parallel) == _digest(sequential)


def test_excluded_keyframes_are_left_unannotated(tmp_path):
    root = generate(tmp_path / "ava", seed=0, **{**SMALL, "videos": 12, "val_videos": 12, "seconds": 6})
    for split in ("train", "val"):
        annotations = root / "annotations"
        excluded = read_exclusions(annotations / f"ava_{split}_excluded_timestamps_v2.1.csv")
        assert excluded, "the seed should exclude some keyframe"
        gt = read_csv_gt(annotations / f"ava_{split}_v2.1.csv")
        assert not set(zip(gt["video"], gt["timestamp"])) & set(excluded)


def test_cli_reports_bad_arguments_in_one_line(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "slowbench.data.synthetic", "--out", str(tmp_path / "busy")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "slowbench.data.synthetic", "--out", str(tmp_path / "new"), "--seconds", "2"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "seconds must be >= 5" in result.stderr


def test_ava_layout_serves_every_ava_row(synthetic_ava):
    info = json.loads((synthetic_ava / INFO_FILE).read_text())
    assert info["classes"] == list(ACTIONS)
    for row in (AVA_ROW, KINETICS_ROW):
        assert find_dataset(row, synthetic_ava)
        pipeline = PipelineConfig.for_synthetic(row, short_side=48)
        train = build_dataset(row, synthetic_ava, "train", pipeline)
        val = build_dataset(row, synthetic_ava, "val", pipeline)
        assert len(train) == 3 * 3 and len(val) <= 2 * 3  # keyframes 902..904 per 6 s video
        sample = train[0]
        assert sample["clip"].shape == (3, 4, 48, 48)
        labels = sample["gt_labels"].numpy()
        assert labels.shape[1] == 81 and labels[:, 1 : len(ACTIONS) + 1].sum(axis=1).min() >= 1
        assert labels[:, 0].sum() == 0 and labels[:, len(ACTIONS) + 1 :].sum() == 0
        assert val[0]["clip"].shape == (3, 4, 48, 72)


def test_ava_annotations_evaluate_perfectly_and_random_scores_hit_chance(synthetic_ava):
    annotations = synthetic_ava / "annotations"
    gt = read_csv_gt(annotations / "ava_val_v2.1.csv")
    label_map = read_label_map(annotations / "ava_action_list_v2.1_for_activitynet_2018.pbtxt")
    excluded = read_exclusions(annotations / "ava_val_excluded_timestamps_v2.1.csv")
    assert label_map == {index + 1: name for index, name in enumerate(ACTIONS)}
    perfect = gt.drop(columns="person").assign(score=1.0)
    assert evaluate(gt, perfect, label_map, excluded)["mAP"] == pytest.approx(1.0)
    # Every box scored for every class at random: the mean AP approaches the reported chance.
    boxes = gt.drop_duplicates(["video", "timestamp", "x1", "y1", "x2", "y2"])
    rng = np.random.default_rng(0)
    maps = []
    for _ in range(30):
        rows = boxes.drop(columns=["action", "person"]).merge(
            pd.DataFrame({"action": sorted(label_map)}), how="cross"
        )
        maps.append(evaluate(gt, rows.assign(score=rng.random(len(rows))), label_map, excluded)["mAP"])
    chance = json.loads((synthetic_ava / INFO_FILE).read_text())["chance_frame_mAP"]
    assert 0 < chance < 0.6
    assert np.mean(maps) == pytest.approx(chance, abs=0.03)


def test_multisports_layout(synthetic_multisports):
    assert find_dataset(MULTISPORTS_ROW, synthetic_multisports)
    annotations = synthetic_multisports / "annotations"
    gt = load_gt(annotations / "multisports_GT.pkl")  # the evaluator's own validation
    val_video = gt["test_videos"][0][0]
    tube_frames = sum(len(t) for tubes in gt["gttubes"][val_video].values() for t in tubes)
    rows = (annotations / "multisports_val.csv").read_text().splitlines()
    assert len(rows) == tube_frames
    pipeline = PipelineConfig.for_synthetic(MULTISPORTS_ROW, short_side=48)
    val = build_dataset(MULTISPORTS_ROW, synthetic_multisports, "val", pipeline)
    assert val.files.gt_pickle == annotations / "multisports_GT.pkl"
    assert len(val) == gt["nframes"][val_video.split(".")[0]] == 150
    sample = val[40]
    meta = sample["meta"]
    assert meta["video_index"] == 0 and meta["frame"] == 41 and meta["resolution"] == (64, 96)
    assert (sample["gt_labels"].sum(dim=1) == 1).all()  # one action per tube
    train = build_dataset(MULTISPORTS_ROW, synthetic_multisports, "train", pipeline)
    assert train[0]["meta"]["video_index"] in (0, 1)


def test_action_labels_match_the_motion():
    rng = np.random.default_rng(7)
    checked = set()
    for _ in range(6):
        scene = make_scene(rng, width=128, height=96, n_frames=300, persons=(4, 4), multilabel=True)
        for person in scene.persons:
            for segment in person.segments:
                if segment.end - segment.start < 30:  # a last half second need not show a period
                    continue
                frames = range(segment.start, segment.end)
                boxes = np.array([person_box(person, f, 10**4, 10**4) for f in frames])
                centre = (boxes[:, 0] + boxes[:, 2]) / 2
                body_x = person.x[segment.start : segment.end]
                actions = segment.actions
                if "move right" in actions:
                    assert (np.diff(body_x) > 0).all()
                elif "move left" in actions:
                    assert (np.diff(body_x) < 0).all()
                else:
                    assert np.ptp(body_x) == 0
                bottom = boxes[:, 3]
                if "jump" in actions:
                    assert np.ptp(bottom) > 0.2 * person.body_h
                elif actions == {"stand still"}:
                    assert np.ptp(boxes, axis=0).max() == 0 and np.ptp(centre) == 0
                if "crouch" in actions:
                    assert np.ptp(boxes[:, 3] - boxes[:, 1]) > 0.2 * person.body_h
                checked |= actions
    assert checked == set(ACTIONS)


def test_spin_and_wave_change_pixels_but_standing_still_does_not():
    rng = np.random.default_rng(11)
    found = {}
    while len(found) < 3:
        scene = make_scene(rng, width=96, height=64, n_frames=150, persons=(1, 1), multilabel=True)
        (person,) = scene.persons
        for segment in person.segments:
            key = next(iter(segment.actions)) if len(segment.actions) == 1 else None
            if key in ("spin", "wave", "stand still") and segment.end - segment.start >= 45:
                found.setdefault(key, (person, segment))
    for key, (person, segment) in found.items():
        a, b = np.zeros((2, 64, 96, 3), np.float32)  # noise-free canvases
        draw_person(a, person, segment.start)
        draw_person(b, person, segment.start + 8)
        changed = (a != b).any(axis=2).mean()
        assert (changed == 0) if key == "stand still" else (changed > 0.003), key


def test_mp4_format_needs_even_frame_sizes(tmp_path, capsys):
    from slowbench.data.synthetic.__main__ import main

    status = main(
        [
            "--out",
            str(tmp_path / "odd"),
            "--kind",
            "multisports",
            "--format",
            "mp4",
            "--width",
            "65",
            "--height",
            "48",
        ]
    )
    assert status == 2 and "even width and height" in capsys.readouterr().err
    assert not (tmp_path / "odd").exists()
