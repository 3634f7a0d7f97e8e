"""eval.ava --protocol activitynet-2020 (the AVA-Kinetics evaluator): hand-computed cases, its file
format (fractional timestamps, 2-column gt rows) and a per-detection loop written from the
reference's semantics."""

import heapq
import json
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest

from benchmarks.eval_cases import ava_case
from eval import ava
from eval.errors import InputError

P2020 = "activitynet-2020"
LABELS = {1: "stand", 2: "sit", 80: "watch"}
FULL = (0.0, 0.0, 1.0, 1.0)
LEFT = (0.0, 0.0, 0.5, 1.0)  # IoU with FULL is exactly 0.5
RIGHT = (0.6, 0.0, 1.0, 1.0)  # IoU with LEFT is 0


def table(rows, *, score):
    columns = ["video", "timestamp", "x1", "y1", "x2", "y2", "action", "score" if score else "person"]
    return pd.DataFrame([(v, t, *box, a, s) for v, t, box, a, s in rows], columns=columns)


def ap_of(result, class_id):
    return result["per_class"][str(class_id)]["ap"]


def test_fractional_timestamps_key_on_six_decimals():
    gt = table([("k", 6.5, FULL, 1, -1), ("k", 6.0, LEFT, 1, -1)], score=False)
    pred = table(
        [
            ("k", 6.5000001, FULL, 1, 0.9),  # same frame as 6.5 at 6 decimals: TP
            ("k", 6, LEFT, 1, 0.8),  # "6" and "6.0" are one frame: TP
            ("k", 6.4, FULL, 1, 0.95),
        ],  # a frame not in the gt file: ignored
        score=True,
    )
    result = ava.evaluate(gt, pred, LABELS, protocol=P2020)
    assert ap_of(result, 1) == 1.0
    assert result["per_class"]["1"]["num_det"] == 2
    # 6.500001 is another frame at 6 decimals: ignored too, so recall stays 1/2 after the 6.0 hit.
    moved = pred.assign(timestamp=[6.500001, 6.0, 6.4])
    assert ap_of(ava.evaluate(gt, moved, LABELS, protocol=P2020), 1) == 0.5


def test_empty_keyframes_make_false_positives_unlisted_frames_are_ignored():
    gt = table([("k", 1.5, FULL, 1, -1)], score=False)
    pred = table(
        [
            ("k", 2.5, FULL, 1, 0.95),  # on an empty keyframe (2-column row): FP
            ("z", 9.0, FULL, 1, 0.99),  # not in the gt file: ignored
            ("k", 1.5, FULL, 1, 0.9),
        ],
        score=True,
    )
    empty = [("k", 2.5)]
    result = ava.evaluate(gt, pred, LABELS, protocol=P2020, empty_keyframes=empty)
    # Ranked: FP (0.95), TP (0.9) -> precision 1/2 at recall 1.
    assert ap_of(result, 1) == 0.5
    assert result["per_class"]["1"]["num_det"] == 2
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol=P2020), 1) == 1.0  # no empty rows
    # The 2019 protocol counts both unlisted-frame detections as FPs.
    int_gt, int_pred = gt.assign(timestamp=[1]), pred.assign(timestamp=[2, 9, 1])
    assert ap_of(ava.evaluate(int_gt, int_pred, LABELS, protocol="activitynet"), 1) == 1 / 3


def test_frame_listed_only_with_unevaluated_classes_counts_its_detections_as_fps():
    gt = table([("k", 1.0, FULL, 1, -1), ("k", 2.0, FULL, 7, -1)], score=False)  # 7: not in the map
    pred = table([("k", 2.0, FULL, 1, 0.95), ("k", 1.0, FULL, 1, 0.9)], score=True)
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol=P2020), 1) == 0.5
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol="mmaction2"), 1) == 1.0


def test_class_without_detections_scores_zero_in_the_mean():
    gt = table([("k", 0.5, FULL, 1, -1), ("k", 0.5, RIGHT, 2, -1)], score=False)
    pred = table([("k", 0.5, FULL, 1, 0.9), ("k", 0.5, FULL, 80, 0.8)], score=True)
    result = ava.evaluate(gt, pred, LABELS, protocol=P2020)
    assert ap_of(result, 1) == 1.0
    assert result["per_class"]["2"] == {"name": "sit", "ap": 0.0, "num_gt": 1, "num_det": 0}
    assert ap_of(result, 80) is None  # detections but no gt: no AP
    assert result["mAP"] == 0.5
    assert result["protocol"] == P2020


def test_top_50_is_taken_before_invalid_boxes_are_dropped():
    gt = table([("k", 1.0, LEFT, 1, -1)], score=False)
    flat = [("k", 1.0, (0.2, 0.2, 0.2, 0.9), 1, 0.9 - i * 0.001) for i in range(50)]
    pred = table(flat + [("k", 1.0, LEFT, 1, 0.1)], score=True)
    # The 50 zero-area rows fill the heap and are then removed: the hit never enters.
    for protocol in ("activitynet", P2020):
        int_pred = pred if protocol == P2020 else pred.assign(timestamp=1)
        int_gt = gt if protocol == P2020 else gt.assign(timestamp=1)
        assert ap_of(ava.evaluate(int_gt, int_pred, LABELS, protocol=protocol), 1) == 0.0


def test_protocol_arguments_are_checked():
    gt = table([("k", 1.0, FULL, 1, -1)], score=False)
    pred = table([("k", 1.0, FULL, 1, 0.9)], score=True)
    with pytest.raises(InputError, match="no exclusions|has none"):
        ava.evaluate(gt, pred, LABELS, excluded=[("k", 1)], protocol=P2020)
    with pytest.raises(InputError, match="only in the activitynet-2020"):
        ava.evaluate(gt, pred, LABELS, protocol="activitynet", empty_keyframes=[("k", 2)])
    with pytest.raises(InputError, match="timestamp is not an integer"):
        ava.evaluate(gt.assign(timestamp=1.5), pred, LABELS, protocol="activitynet")


# --- a loop over detections that follows the 2020 reference step by step --------------------------


def _key(video, timestamp):
    return f"{video},{float(timestamp):.6f}"


def _iou_yxyx(a, b):
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _voc_ap(flags, n_gt):
    tp = np.cumsum(flags)
    precision = tp / np.arange(1, len(flags) + 1)
    recall = tp / n_gt
    precision = np.concatenate([[0.0], precision, [0.0]])
    recall = np.concatenate([[0.0], recall, [1.0]])
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    changed = np.flatnonzero(recall[1:] != recall[:-1]) + 1
    return float(np.sum((recall[changed] - recall[changed - 1]) * precision[changed]))


def reference_2020_map(gt, empty, pred, class_ids):
    listed = {_key(v, t) for v, t in empty}
    truth = defaultdict(list)
    for r in gt.itertuples(index=False):
        listed.add(_key(r.video, r.timestamp))
        if r.action in class_ids:
            truth[_key(r.video, r.timestamp)].append((r.action, (r.y1, r.x1, r.y2, r.x2)))
    entries = {}
    for r in pred.itertuples(index=False):
        if r.action not in class_ids:
            continue
        heap = entries.setdefault(_key(r.video, r.timestamp), [])
        entry = (r.score, r.action, r.y1, r.x1, r.y2, r.x2)
        if len(heap) < 50:
            heapq.heappush(heap, entry)
        elif r.score > heap[0][0]:
            heapq.heapreplace(heap, entry)
    scores, flags = defaultdict(list), defaultdict(list)
    for key, heap in entries.items():
        if key not in listed:
            continue
        dets = [d for d in sorted(heap, key=lambda d: -d[0]) if d[2] < d[4] and d[3] < d[5]]
        for label in class_ids:
            boxes = [box for action, box in truth.get(key, []) if action == label]
            matched = [False] * len(boxes)
            for det in (d for d in dets if d[1] == label):
                hit = False
                if boxes:
                    ious = [_iou_yxyx(det[2:], box) for box in boxes]
                    best = int(np.argmax(ious))
                    if ious[best] >= 0.5 and not matched[best]:
                        matched[best] = hit = True
                scores[label].append(det[0])
                flags[label].append(hit)
    n_gt = Counter(action for rows in truth.values() for action, _ in rows)
    aps = {}
    for label in class_ids:
        if n_gt[label]:
            order = np.argsort(-np.array(scores[label]), kind="stable")
            aps[label] = _voc_ap(np.array(flags[label], dtype=float)[order], n_gt[label])
    return float(np.mean(list(aps.values()))), aps


def test_equals_the_reference_loop_on_a_random_fractional_case():
    gt, pred, label_map, _ = ava_case(seed=11, videos=6, timestamps=12)
    rng = np.random.default_rng(0)
    # Kinetics-style seconds with decimals; the same second maps to the same fraction everywhere.
    fraction = {t: f for t, f in zip(range(902, 914), rng.choice([0.0, 0.5, 0.25, 0.333333], 12))}
    gt = gt.assign(timestamp=[t - 900 + fraction[t] for t in gt["timestamp"]])
    pred = pred.assign(timestamp=[t - 900 + fraction[t] for t in pred["timestamp"]])
    pred["score"] = pred["score"] + rng.uniform(0, 1e-5, len(pred))  # tie-free
    # One frame per video becomes an empty keyframe; a few detections land on unlisted frames.
    keys = gt[["video", "timestamp"]].drop_duplicates()
    emptied = keys.groupby("video").head(1)
    drop = gt.merge(emptied, how="left", indicator=True)["_merge"].eq("both").to_numpy()
    gt = gt[~drop].reset_index(drop=True)
    stray = pred.sample(20, random_state=1).assign(timestamp=77.125)
    pred = pd.concat([pred, stray], ignore_index=True)
    empty = list(emptied.itertuples(index=False, name=None))
    result = ava.evaluate(gt, pred, label_map, protocol=P2020, empty_keyframes=empty)
    expected_map, expected = reference_2020_map(gt, empty, pred, set(label_map))
    got = {int(k): e["ap"] for k, e in result["per_class"].items() if e["ap"] is not None}
    assert got.keys() == expected.keys()
    for class_id, value in expected.items():
        assert got[class_id] == pytest.approx(value, abs=1e-12)
    assert result["mAP"] == pytest.approx(expected_map, abs=1e-12)
    assert 0.05 < result["mAP"] < 0.95  # a case that separates hits from misses


# --- files and CLI ---------------------------------------------------------------------------------

MAP = 'item {\n  name: "stand"\n  id: 1\n}\nitem {\n  name: "sit"\n  id: 2\n}\n'
GT_2020 = (
    "kin_a,6.5,0.1,0.1,0.5,0.9,1,-1\n"
    "kin_a,7,0.1,0.1,0.5,0.9,2\n"
    "kin_b,3.25\n"
    "avaVideo123,0902,0.2,0.2,0.6,0.6,1,0\n"
)
PRED_2020 = (
    "kin_a,6.500000,0.1,0.1,0.5,0.9,1,0.9\n"
    "kin_b,3.25,0.1,0.1,0.5,0.9,1,0.95\n"
    "kin_c,1.5,0.1,0.1,0.5,0.9,1,0.99\n"
    "avaVideo123,902,0.2,0.2,0.6,0.6,1,0.8\n"
    "kin_a,7.0,0.1,0.1,0.5,0.9,2,0.7\n"
)


@pytest.fixture
def files(write_files):
    return write_files({"map.pbtxt": MAP, "gt.csv": GT_2020, "pred.csv": PRED_2020})


def test_reader_splits_empty_keyframes(files):
    gt, empty = ava.read_csv_gt_2020(files["gt.csv"])
    assert gt["timestamp"].tolist() == [6.5, 7.0, 902.0]
    assert list(empty.itertuples(index=False, name=None)) == [("kin_b", 3.25)]
    assert ava.read_csv_pred(files["pred.csv"], fractional=True)["timestamp"].iloc[0] == 6.5


def test_prediction_rows_of_2_and_7_columns_as_the_2020_reader(files):
    files["pred.csv"].write_text("kin_a,6.5\nkin_a,6.5,0.1,0.1,0.5,0.9,1\nkin_b,3.25,0,0,1,1,2,0.25\n")
    pred = ava.read_csv_pred(files["pred.csv"], fractional=True)
    assert pred[["video", "timestamp", "action", "score"]].values.tolist() == [
        ["kin_a", 6.5, 1, 1.0],
        ["kin_b", 3.25, 2, 0.25],
    ]
    with pytest.raises(InputError, match=r"pred.csv:1: expected 8 columns, got 2"):
        ava.read_csv_pred(files["pred.csv"])


def test_cli_scores_the_2020_files(files, run_main, tmp_path):
    out = tmp_path / "r.json"
    done = run_main(
        ava.main,
        "--gt",
        files["gt.csv"],
        "--pred",
        files["pred.csv"],
        "--label-map",
        files["map.pbtxt"],
        "--protocol",
        P2020,
        "--json",
        out,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    # class 1: kin_c is not in the gt file (ignored); ranked FP (kin_b, an empty keyframe), TP,
    # TP over 2 gt: precision 1/2, 2/3 at recall 1/2, 1; the envelope makes both 2/3.
    assert result["per_class"]["1"]["ap"] == pytest.approx(2 / 3, abs=1e-12)
    assert result["per_class"]["2"]["ap"] == 1.0
    assert "activitynet-2020" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--exclude", "gt.csv"], "--exclude: the activitynet-2020 protocol has no exclusions"),
        ([], "gt.csv:2: expected 2 or 7 or 8 columns, got 3"),
    ],
)
def test_cli_bad_input_is_one_line(files, run_main, args, message):
    if not args:
        files["gt.csv"].write_text("kin_a,6.5\nkin_a,6.5,0.1\n")
    args = [files[a] if a in files else a for a in args]
    done = run_main(
        ava.main,
        "--gt",
        files["gt.csv"],
        "--pred",
        files["pred.csv"],
        "--label-map",
        files["map.pbtxt"],
        "--protocol",
        P2020,
        *args,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and line.endswith(message)


def test_fractional_predictions_round_trip_through_the_writer(tmp_path):
    pred = table(
        [
            ("kin_a", 6.5, FULL, 1, 0.9),
            ("ava00000001", 902, LEFT, 2, 0.5),
            ("kin_b", 1.333333, RIGHT, 1, 0.25),
        ],
        score=True,
    )
    path = tmp_path / "p.csv"
    ava.write_csv_pred(path, pred)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("kin_a,6.5,")
    assert lines[1].startswith("ava00000001,0902,") and lines[2].startswith("kin_b,1.333333,")
    back = ava.read_csv_pred(path, fractional=True)
    assert back["timestamp"].tolist() == [6.5, 902.0, 1.333333]
