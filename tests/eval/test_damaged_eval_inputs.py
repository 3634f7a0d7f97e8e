"""Seeded random damage to every file the evaluators read: each run ends with its result or with
one `error:` line and exit status 2, never a traceback (found this way: an nframes beyond int64,
tubes of text, scores too large for a float, damaged .npy headers and pickles, wrong-kind fields
in eval.compare's JSON)."""

import io
import json
import pickle
import random
import warnings

import numpy as np
import pytest
from damage import damaged_bytes, damaged_structure, damaged_text
from eval_helpers import GT, LABEL_MAP, PRED

from eval import ava, compare, multisports

EXCLUDED = "vidB,0903\n"
ROUNDS = 150


def ends_cleanly(done):
    """A run that worked, or that refused its input in exactly one `error:` line."""
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert (done.returncode, len(errors)) in ((0, 0), (2, 1)), done.stderr
    assert "Traceback" not in done.stderr


def multisports_gt():
    """One video, three labels, two tubes (the official gt pickle's structure)."""
    frames = np.arange(1, 11, dtype=np.float32)[:, None]
    tube = np.concatenate([frames, np.tile(np.float32([10, 10, 50, 60]), (10, 1))], 1)
    return {
        "labels": ["a", "b", "c"],
        "test_videos": [["s/v0"]],
        "nframes": {"s/v0": 20},
        "resolution": {"s/v0": (720, 1280)},
        "gttubes": {"s/v0": {0: [tube], 2: [tube + [5, 0, 0, 0, 0]]}},
    }


def frame_dets():
    """[N, 8] (video, frame, label, score, x1, y1, x2, y2) on the gt's tubes."""
    frames = np.arange(1, 16, dtype=np.float64)
    return np.concatenate(
        [
            np.stack([0 * frames, frames, frames % 3, 0.5 + frames / 40], 1),
            np.tile([12, 11, 49, 58], (15, 1)),
        ],
        1,
    )


@pytest.mark.parametrize("seed", range(2))
def test_damaged_ava_files(write_files, run_main, seed):
    rng = random.Random(seed)
    texts = {"gt.csv": GT, "pred.csv": PRED, "map.pbtxt": LABEL_MAP, "excluded.csv": EXCLUDED}
    for _ in range(ROUNDS):
        target = rng.choice(list(texts))
        paths = write_files({**texts, target: damaged_text(texts[target], rng)})
        if rng.random() < 0.3:  # bytes, not only text: the files need not be UTF-8
            paths[target].write_bytes(damaged_bytes(texts[target].encode(), rng))
        protocol = rng.choice(ava.PROTOCOLS)
        args = ["--gt", paths["gt.csv"], "--pred", paths["pred.csv"], "--label-map", paths["map.pbtxt"]]
        args += ["--protocol", protocol]
        if protocol != ava.FRACTIONAL and rng.random() < 0.5:
            args += ["--exclude", paths["excluded.csv"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ends_cleanly(run_main(ava.main, *args))


@pytest.mark.parametrize("seed", range(2))
def test_damaged_multisports_structures(tmp_path, run_main, seed):
    rng = random.Random(seed)
    gt, dets = multisports_gt(), frame_dets()
    tubes = {
        label: [
            ["s/v0", 0.9, np.concatenate([tube, np.ones((len(tube), 1), np.float32)], 1)] for tube in found
        ]
        for label, found in gt["gttubes"]["s/v0"].items()
    }
    for _ in range(ROUNDS):
        choice = rng.random()
        damaged_gt = damaged_structure(gt, rng) if choice < 0.4 else gt
        preds = {"frame_dets": dets}
        if 0.4 <= choice < 0.7:
            preds["frame_dets"] = _damaged_array(dets, rng)
        elif choice >= 0.7:
            preds["video_dets"] = damaged_structure(tubes, rng)
        (tmp_path / "gt.pkl").write_bytes(pickle.dumps(damaged_gt))
        (tmp_path / "preds.pkl").write_bytes(pickle.dumps(preds))
        errors = ["--errors"] if rng.random() < 0.3 else []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ends_cleanly(
                run_main(multisports.main, tmp_path / "preds.pkl", "--gt", tmp_path / "gt.pkl", *errors)
            )


def _damaged_array(dets, rng):
    """`dets` with a bad value, too few columns, no rows or another dtype."""
    choice = rng.random()
    if choice < 0.5:
        dets = dets.copy()
        dets[rng.randrange(len(dets)), rng.randrange(8)] = rng.choice([np.nan, np.inf, -1, 1e9, 0.5, 66, 1.5])
        return dets
    if choice < 0.7:
        return dets[:, : rng.randrange(8)]
    if choice < 0.8:
        return dets[:0]
    return dets.astype(rng.choice([np.int64, np.float16, object]))


@pytest.mark.parametrize("suffix", [".npy", ".pkl"])
def test_damaged_prediction_bytes(tmp_path, run_main, suffix):
    rng = random.Random(0)
    (tmp_path / "gt.pkl").write_bytes(pickle.dumps(multisports_gt()))
    buffer = io.BytesIO()
    np.save(buffer, frame_dets())
    good = buffer.getvalue() if suffix == ".npy" else pickle.dumps({"frame_dets": frame_dets()})
    path = tmp_path / f"preds{suffix}"
    for _ in range(ROUNDS):
        path.write_bytes(damaged_bytes(good, rng, head=400))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ends_cleanly(run_main(multisports.main, path, "--gt", tmp_path / "gt.pkl"))


def test_damaged_compare_results(tmp_path, run_main):
    rng = random.Random(0)
    results = [
        {
            "mAP": 0.5,
            "categories": {"person_movement": 0.5, "object_manipulation": None},
            "per_class": {"1": {"name": "stand", "ap": 0.5}, "2": {"name": "sit", "ap": None}},
        },
        {
            "frame_mAP": 0.4,
            "video_mAP": {"0.2": 0.5, "0.5": 0.3},
            "per_class": {"0": {"name": "a", "frame_ap": 0.4, "video_ap": {"0.2": 0.5, "0.5": 0.3}}},
        },
    ]
    for _ in range(ROUNDS):
        good = rng.choice(results)
        pair = [damaged_structure(good, rng), good]
        rng.shuffle(pair)
        for name, result in zip(("a.json", "b.json"), pair):
            (tmp_path / name).write_text(json.dumps(result, default=lambda value: value.tolist()))
        metric = ["--metric", rng.choice(compare.METRICS)] if "frame_mAP" in good else []
        ends_cleanly(run_main(compare.main, tmp_path / "a.json", tmp_path / "b.json", *metric))
