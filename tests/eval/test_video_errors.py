"""eval.multisports --errors (the official videoAP_error breakdown) and --save-official."""

import json
import pickle

import numpy as np
import pytest

from eval import multisports
from eval.multisports.error_analysis import ERROR_KINDS, video_errors
from eval.multisports.io import prepare_gt

LABELS = ["aerobic jump", "aerobic spin", "aerobic kick jump", "basketball pass"]
BOX = (0.0, 0.0, 10.0, 10.0)
LOOSE = (0.0, 0.0, 25.0, 10.0)  # IoU with BOX 0.4
FAR = (500.0, 500.0, 510.0, 510.0)
FIXTURE = "fixtures/mmaction2_tests/eval_multisports"


def tube(first, last, box=BOX, score=None):
    frames = np.arange(first, last + 1, dtype=np.float32)[:, None]
    columns = [frames, np.tile(np.array(box, np.float32), (len(frames), 1))]
    if score is not None:
        columns.append(np.full((len(frames), 1), score, np.float32))
    return np.concatenate(columns, 1)


def make_gt(by_video, nframes=200):
    videos = list(by_video)
    return {
        "labels": list(LABELS),
        "test_videos": [videos],
        "nframes": dict.fromkeys(videos, nframes),
        "resolution": dict.fromkeys(videos, (720, 1280)),
        "gttubes": by_video,
    }


def shifted(box, dx):
    return (box[0] + dx, box[1], box[2] + dx, box[3])


def test_one_of_each_kind_hand_computed():
    # label 0 gt on frames 1..41 at BOX; label 1 gt on frames 101..141 at BOX moved by 100 px.
    other = shifted(BOX, 100)
    gt = make_gt({"v0": {0: [tube(1, 41)], 1: [tube(101, 141, other)]}})
    placed = [  # (tube, kind): temporal IoU 1/3 for frames 21..61 against 1..41
        (tube(1, 41, score=1), "tp"),
        (tube(1, 41, score=1), "repeat"),
        (tube(1, 41, LOOSE, 1), "loc"),  # IoU 0.4: t = 1, s = 0.4
        (tube(21, 61, score=1), "time"),  # t = 1/3, s = 1
        (tube(21, 61, LOOSE, 1), "time+loc"),  # t = 1/3, s = 0.4
        (tube(101, 141, other, 1), "cls"),  # exactly on the label-1 tube
        (tube(101, 141, shifted(LOOSE, 100), 1), "cls+loc"),
        (tube(121, 161, other, 1), "cls+time"),
        (tube(121, 161, shifted(LOOSE, 100), 1), "cls+time+loc"),
        (tube(1, 41, FAR, 1), "extra"),  # overlaps no gt tube
    ]
    video_dets = {0: [("v0", 1.0 - 0.05 * i, t) for i, (t, _) in enumerate(placed)]}
    errors, counts = video_errors(prepare_gt(gt), video_dets, 0.5)
    assert counts["aerobic jump"] == {kind: 1 for _, kind in placed}
    # Recall is 1 from the first tube on, so each area is the largest running fraction: a kind
    # first seen at rank r (1-based) has area 1/r (stored in float32 like the toolkit).
    row = errors["per_class"]["aerobic jump"]
    assert row["AP"] == 1.0 and row["missed"] == 0.0
    for rank, (_, kind) in enumerate(placed[1:], start=2):
        assert row[kind] == pytest.approx(1 / rank, rel=1e-7), kind
    # The toolkit's classes: every name but the six skipped ones, labels without gt included
    # (AP 0, missed 1); label 1 has gt but no tubes.
    assert list(errors["per_class"]) == ["aerobic jump", "aerobic spin", "basketball pass"]
    assert errors["per_class"]["aerobic spin"] == {
        "AP": 0.0,
        **dict.fromkeys(ERROR_KINDS, 0.0),
        "missed": 1.0,
    }
    assert errors["mean"]["AP"] == pytest.approx(1 / 3)
    assert errors["mean"]["missed"] == pytest.approx(2 / 3)
    assert errors["mean"]["repeat"] == pytest.approx(0.5 / 3, rel=1e-7)


def test_where_the_toolkit_fails_recall_is_zero_and_tubes_are_extra():
    gt = make_gt({"v0": {0: [tube(1, 41)]}, "v1": {}})
    video_dets = {
        0: [("v1", 0.9, tube(1, 41, score=1))],  # a video without any gt tube
        3: [("v0", 0.8, tube(1, 41, score=1))],
    }  # a label without gt: cls
    errors, counts = video_errors(prepare_gt(gt), video_dets, 0.5)
    assert counts["aerobic jump"]["extra"] == 1
    assert counts["basketball pass"]["cls"] == 1
    assert errors["per_class"]["basketball pass"] == {
        "AP": 0.0,
        **dict.fromkeys(ERROR_KINDS, 0.0),
        "missed": 1.0,
    }


def random_case(seed, labels=6, videos=3):
    """Gt tubes of every label and detected tubes with label, timing and box errors."""
    rng = np.random.default_rng(seed)
    names = [f"sport{label % 3} action{label}" for label in range(labels)]
    names[2] = "aerobic kick jump"
    video_names = [f"sport/v{i}" for i in range(videos)]
    gttubes = {}
    for video in video_names:
        by_label = {}
        for _ in range(rng.integers(1, 5)):
            first = int(rng.integers(1, 120))
            frames = np.arange(first, first + int(rng.integers(15, 80)) + 1, dtype=np.float32)
            x, y, w, h = rng.uniform(0, 500), rng.uniform(0, 300), *rng.uniform(40, 150, 2)
            boxes = np.tile([x, y, x + w, y + h], (len(frames), 1)) + rng.normal(0, 3, (len(frames), 4))
            boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
            by_label.setdefault(int(rng.integers(labels)), []).append(
                np.column_stack([frames, boxes]).astype(np.float32)
            )
        gttubes[video] = by_label
    for label in range(labels):  # the toolkit divides by zero for a label without gt
        if not any(label in by_label for by_label in gttubes.values()):
            gttubes[video_names[label % videos]].setdefault(label, []).append(
                tube(150, 169, (10, 10, 60, 90))
            )
    dets = {label: [] for label in range(labels)}
    for video in video_names:
        for label, tubes in gttubes[video].items():
            for gt_tube in tubes:
                for _ in range(rng.integers(1, 4)):
                    det_label = label if rng.random() < 0.6 else int(rng.integers(labels))
                    first = max(1, int(gt_tube[0, 0]) + int(rng.integers(-20, 20)))
                    last = min(200, first + max(len(gt_tube) + int(rng.integers(-20, 20)), 2))
                    frames = np.arange(first, last + 1, dtype=np.float32)
                    rows = np.clip((frames - gt_tube[0, 0]).astype(int), 0, len(gt_tube) - 1)
                    boxes = gt_tube[rows, 1:5] + rng.normal(0, rng.choice([2, 20, 60]), (1, 4))
                    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
                    det = np.column_stack([frames, boxes, rng.random(len(frames))]).astype(np.float32)
                    dets[det_label].append((video, float(rng.random()), det))
        for _ in range(rng.integers(0, 3)):
            dets[int(rng.integers(labels))].append((video, float(rng.random()), tube(1, 29, FAR, 1)))
    gt = {
        "labels": names,
        "test_videos": [video_names],
        "nframes": dict.fromkeys(video_names, 200),
        "gttubes": gttubes,
    }
    return gt, dets


# The official evaluate_multisports.py videoAP_error on random_case(12) (its percentages / 100;
# numpy 1.x promotion; ties-free scores).
OFFICIAL_RANDOM_CASE_12 = {
    0.2: {
        "per_class": {  # non-zero values only
            "sport0 action0": {
                "AP": 0.4000000059604645,
                "extra": 0.22500000149011612,
                "time": 0.22500000149011612,
                "cls+time+loc": 0.22500000149011612,
            },
            "sport1 action1": {"AP": 0.5, "repeat": 0.5, "extra": 0.5, "cls+loc": 0.20000000298023224},
            "sport0 action3": {
                "AP": 0.25,
                "cls": 0.125,
                "time": 0.1666666716337204,
                "cls+loc": 0.25,
                "missed": 0.5,
            },
            "sport1 action4": {
                "AP": 0.7000000029802322,
                "repeat": 0.3333333432674408,
                "extra": 0.22500000149011612,
                "loc": 0.3928571492433548,
            },
            "sport2 action5": {"AP": 1.0, "repeat": 0.5, "cls+time": 0.3333333432674408},
        },
        "mean": {
            "AP": 0.5700000017881394,
            "repeat": 0.26666666865348815,
            "extra": 0.19000000059604644,
            "loc": 0.07857142984867097,
            "cls": 0.025,
            "time": 0.0783333346247673,
            "cls+time": 0.06666666865348816,
            "cls+loc": 0.09000000059604644,
            "time+loc": 0.0,
            "cls+time+loc": 0.04500000029802322,
            "missed": 0.1,
        },
    },
    0.5: {
        "per_class": {  # non-zero values only
            "sport0 action0": {
                "AP": 0.10000000149011612,
                "extra": 0.10000000149011612,
                "time": 0.10000000149011612,
                "time+loc": 0.10000000149011612,
                "cls+time+loc": 0.10000000149011612,
                "missed": 0.5,
            },
            "sport1 action1": {
                "AP": 0.5,
                "extra": 0.5,
                "time": 0.3333333432674408,
                "cls+loc": 0.20000000298023224,
                "time+loc": 0.25,
            },
            "sport0 action3": {
                "AP": 0.25,
                "cls+loc": 0.125,
                "time+loc": 0.1666666716337204,
                "cls+time+loc": 0.25,
                "missed": 0.5,
            },
            "sport1 action4": {
                "AP": 0.5,
                "repeat": 0.1666666716337204,
                "extra": 0.125,
                "loc": 0.1428571492433548,
                "time+loc": 0.25,
                "missed": 0.5,
            },
            "sport2 action5": {"AP": 1.0, "loc": 0.5, "cls+time": 0.3333333432674408},
        },
        "mean": {
            "AP": 0.47000000029802325,
            "repeat": 0.03333333432674408,
            "extra": 0.14500000029802323,
            "loc": 0.12857142984867095,
            "cls": 0.0,
            "time": 0.08666666895151139,
            "cls+time": 0.06666666865348816,
            "cls+loc": 0.06500000059604645,
            "time+loc": 0.1533333346247673,
            "cls+time+loc": 0.07000000029802322,
            "missed": 0.3,
        },
    },
}


def test_equals_the_official_toolkit_on_a_random_case():
    gt, dets = random_case(12)
    view = prepare_gt(gt)
    keys = ("AP", *ERROR_KINDS, "missed")
    for thr, expected in OFFICIAL_RANDOM_CASE_12.items():
        errors, counts = video_errors(view, dets, thr)
        assert list(errors["per_class"]) == list(expected["per_class"])
        for name, row in expected["per_class"].items():
            full = {key: row.get(key, 0.0) for key in keys}
            assert errors["per_class"][name] == pytest.approx(full, abs=1e-9), (thr, name)
        assert errors["mean"] == pytest.approx(expected["mean"], abs=1e-9)
    assert sum(c["tp"] for c in counts.values()) == 5
    assert sum(bool(sum(c[kind] for c in counts.values())) for kind in ERROR_KINDS) == 8


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "compat, mean_ap, mean_missed", [(None, 1 / 30, 29 / 30), ("mmaction2", 0.025, 0.975)]
)
def test_official_numbers_on_the_mmaction2_fixture(shared_file, compat, mean_ap, mean_missed):
    # The toolkit on the linked tubes: 60 evaluated names, of which 4 have gt; no tube is an
    # error; with the linking bug 3 of the 4 linked tubes survive.
    gt = multisports.load_gt(shared_file(f"{FIXTURE}/gt.pkl"))
    frame_dets = np.load(shared_file(f"{FIXTURE}/frame_dets.npy"))
    for thr in (0.2, 0.5):
        errors = multisports.evaluate(gt, frame_dets, compat=compat, errors_thr=thr)["errors"]
        assert len(errors["per_class"]) == 60
        assert errors["mean"]["AP"] == pytest.approx(mean_ap, abs=1e-12)
        assert errors["mean"]["missed"] == pytest.approx(mean_missed, abs=1e-12)
        assert all(errors["mean"][kind] == 0 for kind in ERROR_KINDS)
        assert errors["per_class"]["aerobic illusion"]["AP"] == 0.5


def write_case(directory, seed):
    """random_case(seed) as gt.pkl and preds.pkl (every 7th tube box as a frame detection, the
    tubes as video_dets); returns (gt path, preds path, the preds dict)."""
    gt, dets = random_case(seed)
    gt_path, preds_path = directory / "gt.pkl", directory / "preds.pkl"
    gt_path.write_bytes(pickle.dumps(gt))
    video_index = {video: i for i, video in enumerate(gt["test_videos"][0])}
    frame_dets = np.array(
        [
            (video_index[video], row[0], label, row[5], *row[1:5])
            for label, entries in dets.items()
            for video, _, t in entries
            for row in t[::7]
        ],
        dtype=np.float64,
    )
    preds = {"frame_dets": frame_dets, "video_dets": dets}
    preds_path.write_bytes(pickle.dumps(preds))
    return gt_path, preds_path, preds


def test_cli_errors_json_and_save_official(tmp_path, cli_main):
    gt_path, preds, written = write_case(tmp_path, 12)
    gt, dets, frame_dets = pickle.loads(gt_path.read_bytes()), written["video_dets"], written["frame_dets"]
    out = tmp_path / "official"
    done = cli_main(
        preds,
        "--gt",
        gt_path,
        "--errors",
        "--thr",
        "0.2",
        "--json",
        tmp_path / "r.json",
        "--save-official",
        out,
    )
    assert done.returncode == 0, done.stderr
    assert "cls+time+loc" in done.stdout and "mean" in done.stdout
    result = json.loads((tmp_path / "r.json").read_text())
    errors, _ = video_errors(prepare_gt(gt), dets, 0.2)
    assert result["errors"] == errors  # JSON keeps floats exactly
    assert set(result["errors"]["per_class"]["sport0 action0"]) == {"AP", *ERROR_KINDS, "missed"}

    # The documented formats, read back with plain pickle.
    with open(out / "frame_detections.pkl", "rb") as file:
        frames = pickle.load(file)
    with open(out / "video_detections.pkl", "rb") as file:
        tubes = pickle.load(file)
    assert isinstance(frames, np.ndarray) and frames.dtype == np.float64 and frames.shape[1] == 8
    np.testing.assert_array_equal(frames, frame_dets)
    assert all(row.shape == (8,) for row in frames)
    assert set(tubes) == set(range(len(gt["labels"])))
    for label, entries in tubes.items():
        assert entries == [] or label in dets
        for (video, score, boxes), (_, given_score, given) in zip(entries, dets[label]):
            assert video in gt["test_videos"][0] and type(score) is float and score == given_score
            assert boxes.dtype == np.float32 and boxes.shape[1] == 6 and boxes[0, 0] >= 1
            assert (np.diff(boxes[:, 0]) == 1).all()
            np.testing.assert_array_equal(boxes, given)
    # Reading the pair back gives the same numbers.
    again = multisports.evaluate(gt, frames, video_dets=tubes, errors_thr=0.2)
    assert again["video_mAP"] == result["video_mAP"] and again["frame_mAP"] == result["frame_mAP"]


@pytest.mark.shared_data
def test_save_official_writes_the_compat_tubes(shared_file, tmp_path, cli_main):
    gt_path = shared_file(f"{FIXTURE}/gt.pkl")
    frame_dets = np.load(shared_file(f"{FIXTURE}/frame_dets.npy"))
    done = cli_main(
        shared_file(f"{FIXTURE}/frame_dets.npy"),
        "--gt",
        gt_path,
        "--compat",
        "mmaction2",
        "--save-official",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "video_detections.pkl", "rb") as file:
        tubes = pickle.load(file)
    linked = [entry for entries in tubes.values() for entry in entries]
    assert len(linked) == 3
    last_score = np.float32(frame_dets[-1, 3])  # the bug: every box has the last row's score
    assert all(np.all(t[:, 5] == last_score) for _, _, t in linked)
    result = multisports.evaluate(multisports.load_gt(gt_path), frame_dets, video_dets=tubes)
    assert round(100 * result["video_mAP"]["0.5"], 4) == 37.5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--thr", "0"], "--thr (error analysis)"),
        (["--thr", "x"], "--thr"),
        (["--save-official"], "--save-official"),
    ],
)
def test_bad_error_options_are_one_line(tmp_path, cli_main, args, message):
    gt, dets = random_case(1)
    (tmp_path / "gt.pkl").write_bytes(pickle.dumps(gt))
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"frame_dets": np.zeros((0, 8)), "video_dets": dets}))
    done = cli_main(tmp_path / "p.pkl", "--gt", tmp_path / "gt.pkl", "--errors", *args)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.fixture
def cli_main(run_main):
    return lambda *args: run_main(multisports.main, *args)
