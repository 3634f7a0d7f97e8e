"""eval.ava.evaluate on hand-computed cases, both protocols, and against a per-detection loop."""

import heapq
import re
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from benchmarks.eval_cases import ava_case, naive_ava_map
from eval import ava
from eval.ava import evaluation
from eval.errors import InputError, InputWarning

LABELS = {1: "stand", 2: "sit", 80: "watch"}
FULL = (0.0, 0.0, 1.0, 1.0)
LEFT = (0.0, 0.0, 0.5, 1.0)  # IoU with FULL is exactly 0.5 (in float32 and float64)
RIGHT = (0.6, 0.0, 1.0, 1.0)  # IoU with LEFT is 0


def table(rows, *, score):
    columns = ["video", "timestamp", "x1", "y1", "x2", "y2", "action", "score" if score else "person"]
    data = [(v, t, *box, a, s) for v, t, box, a, s in rows]
    return pd.DataFrame(data, columns=columns).astype({"timestamp": np.int64, "action": np.int64})


def ap_of(result, class_id):
    return result["per_class"][str(class_id)]["ap"]


def test_duplicates_and_iou_exactly_half():
    gt = table([("a", 1, FULL, 1, 0), ("b", 1, LEFT, 1, 0)], score=False)
    pred = table(
        [
            ("a", 1, FULL, 1, 0.9),  # TP
            ("a", 1, FULL, 1, 0.8),  # duplicate of a matched box: FP
            ("b", 1, FULL, 1, 0.7),
        ],  # IoU exactly 0.5 counts: TP
        score=True,
    )
    for protocol in ava.PROTOCOLS:
        result = ava.evaluate(gt, pred, LABELS, protocol=protocol)
        # precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> 0.5 * 1 + 0.5 * 2/3
        assert ap_of(result, 1) == pytest.approx(0.5 + 0.5 * 2 / 3, abs=1e-12)
        assert result["per_class"]["1"]["num_det"] == 3


def test_no_fallback_to_second_best_gt():
    gt = table([("a", 1, FULL, 1, 0), ("a", 1, LEFT, 1, 1)], score=False)
    pred = table([("a", 1, FULL, 1, 0.9), ("a", 1, FULL, 1, 0.8), ("a", 1, LEFT, 1, 0.7)], score=True)
    result = ava.evaluate(gt, pred, LABELS)
    # The second FULL has IoU 0.5 with the free LEFT box but its best box is the matched FULL:
    # an FP (no fallback). Ranks: TP, FP, TP (LEFT) with 2 gt.
    assert ap_of(result, 1) == pytest.approx(0.5 + 0.5 * 2 / 3, abs=1e-12)


def test_class_without_gt_and_class_without_detections():
    gt = table([("a", 1, FULL, 1, 0), ("a", 1, RIGHT, 2, 0)], score=False)
    pred = table([("a", 1, FULL, 1, 0.9), ("a", 1, FULL, 80, 0.9)], score=True)
    mm = ava.evaluate(gt, pred, LABELS, protocol="mmaction2")
    assert ap_of(mm, 1) == 1.0
    assert ap_of(mm, 2) is None  # gt but no detection: left out of the mean
    assert ap_of(mm, 80) is None  # detections but no gt: no AP
    assert mm["mAP"] == 1.0
    assert mm["categories"] == {
        "person_movement": 1.0,
        "object_manipulation": None,
        "person_interaction": None,
    }
    an = ava.evaluate(gt, pred, LABELS, protocol="activitynet")
    assert ap_of(an, 2) == 0.0  # ActivityNet scores it 0 and keeps it in the mean
    assert an["mAP"] == 0.5
    assert an["per_class"]["2"] == {"name": "sit", "ap": 0.0, "num_gt": 1, "num_det": 0}


def test_excluded_timestamps_differ_between_protocols():
    gt = table([("a", 1, FULL, 1, 0), ("b", 2, FULL, 1, 0)], score=False)
    pred = table([("a", 1, FULL, 1, 0.9), ("b", 2, FULL, 1, 0.8)], score=True)
    mm = ava.evaluate(gt, pred, LABELS, excluded={("b", 2)}, protocol="mmaction2")
    # mmaction2: the excluded frame is not evaluated but its gt still counts: recall 1/2.
    assert mm["per_class"]["1"]["num_gt"] == 2 and mm["per_class"]["1"]["num_det"] == 1
    assert ap_of(mm, 1) == 0.5
    an = ava.evaluate(gt, pred, LABELS, excluded={("b", 2)}, protocol="activitynet")
    assert an["per_class"]["1"]["num_gt"] == 1 and ap_of(an, 1) == 1.0


def test_detections_on_frames_without_gt():
    gt = table([("a", 1, FULL, 1, 0)], score=False)
    pred = table([("z", 9, FULL, 1, 0.95), ("a", 1, FULL, 1, 0.9)], score=True)
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol="mmaction2"), 1) == 1.0  # ignored
    # ActivityNet: an FP ranked first -> precision 1/2 at recall 1.
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol="activitynet"), 1) == 0.5


def test_ties_are_stable_reverse_concatenation_order():
    gt = table([("a", 1, FULL, 1, 0), ("b", 1, FULL, 2, 0)], score=False)
    tp_then_fp = table([("a", 1, FULL, 1, 0.5), ("b", 1, FULL, 1, 0.5)], score=True)
    # mmaction2 concatenates in gt-file frame order (a, b); ties go in reverse: FP (b) first.
    assert ap_of(ava.evaluate(gt, tp_then_fp, LABELS), 1) == 0.5
    assert ap_of(ava.evaluate(gt, tp_then_fp.iloc[::-1], LABELS), 1) == 0.5
    # ActivityNet concatenates in detection-file frame order.
    gt_b = table([("a", 1, FULL, 1, 0), ("b", 1, RIGHT, 2, 0)], score=False)
    assert ap_of(ava.evaluate(gt_b, tp_then_fp, LABELS, protocol="activitynet"), 1) == 0.5
    assert ap_of(ava.evaluate(gt_b, tp_then_fp.iloc[::-1], LABELS, protocol="activitynet"), 1) == 1.0


def test_mmaction2_ties_scores_equal_in_float32():
    gt = table([("a", 1, FULL, 1, 0), ("b", 1, RIGHT, 2, 0)], score=False)
    pred = table([("a", 1, FULL, 1, 0.5 + 1e-9), ("b", 1, FULL, 1, 0.5)], score=True)
    # float32: a tie, broken in reverse gt-frame order -> the FP on b first.
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol="mmaction2"), 1) == 0.5
    # float64: the TP is strictly better.
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol="activitynet"), 1) == 1.0


def test_activitynet_top_50_and_zero_area():
    gt = table([("a", 1, LEFT, 1, 0)], score=False)
    misses = [("a", 1, RIGHT, 1, 0.9 - i * 0.001) for i in range(50)]
    pred = table(misses + [("a", 1, LEFT, 1, 0.1)], score=True)
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol="activitynet"), 1) == 0.0
    assert ap_of(ava.evaluate(gt, pred, LABELS, protocol="mmaction2"), 1) == pytest.approx(1 / 51)
    flat = table([("a", 1, (0.2, 0.2, 0.2, 0.9), 1, 0.9), ("a", 1, LEFT, 1, 0.5)], score=True)
    assert ap_of(ava.evaluate(gt, flat, LABELS, protocol="activitynet"), 1) == 1.0  # dropped
    assert ap_of(ava.evaluate(gt, flat, LABELS, protocol="mmaction2"), 1) == 0.5  # an FP


def test_activitynet_heap_with_tied_scores_matches_heapq():
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(70):
        x = rng.integers(0, 5) / 10
        rows.append(
            ("a", 1, (x, 0.0, x + 0.5, 1.0), int(rng.choice([1, 2])), float(rng.choice([0.3, 0.5, 0.7])))
        )
    pred = table(rows, score=True)
    frame = np.zeros(len(pred), dtype=np.int64)
    kept = evaluation._activitynet_top(frame, pred, np.ones(len(pred), dtype=bool))
    heap = []
    for i, r in enumerate(pred.itertuples(index=False)):
        entry = (r.score, r.action, r.y1, r.x1, r.y2, r.x2, i)
        if len(heap) < 50:
            heapq.heappush(heap, entry)
        elif r.score > heap[0][0]:
            heapq.heapreplace(heap, entry)
    assert sorted(np.flatnonzero(kept).tolist()) == sorted(e[-1] for e in heap)


@pytest.mark.parametrize("protocol", ["mmaction2", "activitynet"])
def test_no_prediction_is_a_warning_and_every_class_with_gt_scores_0(protocol):
    gt = table([("a", 1, FULL, 1, 0)], score=False)
    with pytest.warns(InputWarning, match="^pred: no prediction takes part in the evaluation; every class"):
        result = ava.evaluate(gt, table([], score=True), LABELS, protocol=protocol)
    assert result["mAP"] == 0.0 and ap_of(result, 1) == 0.0 and ap_of(result, 2) is None


def test_a_gt_without_a_label_map_class_is_an_error():
    one = table([("a", 1, FULL, 1, 0.9)], score=True)
    for gt in (table([], score=False), table([("a", 1, FULL, 7, 0)], score=False)):
        for protocol in ava.PROTOCOLS:
            with pytest.raises(InputError, match="^gt: no row of a label-map class to evaluate"):
                ava.evaluate(gt, one, LABELS, protocol=protocol)
    with pytest.raises(InputError, match="^label map: no class to evaluate$"):
        ava.evaluate(table([("a", 1, FULL, 1, 0)], score=False), one, {})


def test_unknown_classes_warn_once_and_are_ignored():
    gt = table([("a", 1, FULL, 1, 0), ("a", 1, FULL, 7, 0)], score=False)
    pred = table([("a", 1, FULL, 1, 0.9), ("a", 1, FULL, 7, 0.99), ("a", 1, FULL, 9, 0.99)], score=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ava.evaluate(gt, pred, LABELS)
    messages = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    assert messages == [
        "gt: ignoring rows whose action id is not in the label map: 1 (first: a,0001 action 7)",
        "pred: ignoring rows whose action id is not in the label map: 2 (first: a,0001 action 7)",
    ]
    assert ap_of(result, 1) == 1.0 and set(result["per_class"]) == {"1", "2", "80"}
    assert {kind: entry["count"] for kind, entry in result["ignored"].items()} == {
        "gt_class_not_in_label_map": 1,
        "pred_class_not_in_label_map": 2,
    }


def test_plain_column_mapping_is_accepted():
    gt = table([("a", 1, FULL, 1, 0)], score=False)
    pred = {
        "video": ["a"],
        "timestamp": [1],
        "x1": [0.0],
        "y1": [0.0],
        "x2": [1.0],
        "y2": [1.0],
        "action": [1],
        "score": [0.3],
    }
    assert ava.evaluate(gt.drop(columns="person").to_dict("list"), pred, LABELS)["mAP"] == 1.0


@pytest.mark.parametrize(
    "column, value, problem",
    [
        ("score", np.nan, "score is not a finite number"),
        ("x2", -0.5, "inverted box"),
        ("y2", 1.5, "outside [0, 1]"),
        ("action", 1.5, "action is not an integer"),
    ],
)
def test_bad_in_memory_rows_name_the_row(column, value, problem):
    gt = table([("a", 1, FULL, 1, 0)], score=False)
    pred = table([("a", 1, FULL, 1, 0.9), ("a", 1, FULL, 1, 0.8)], score=True)
    pred[column] = pred[column].astype(np.float64)
    pred.loc[1, column] = value
    with pytest.raises(InputError, match=rf"pred: row 1: .*{re.escape(problem)}"):
        ava.evaluate(gt, pred, LABELS)
    with pytest.raises(InputError, match="protocol"):
        ava.evaluate(gt, pred.iloc[:1], LABELS, protocol="pascal")


def test_matches_per_detection_loop_on_a_random_case():
    gt, pred, label_map, excluded = ava_case(seed=5, videos=8)
    pred["score"] += np.random.default_rng(0).uniform(0, 1e-5, len(pred))  # tie-free
    result = ava.evaluate(gt, pred, label_map, excluded)
    expected_map, expected = naive_ava_map(gt, pred, label_map, excluded)
    got = {int(k): e["ap"] for k, e in result["per_class"].items() if e["ap"] is not None}
    assert set(got) == set(expected)
    for class_id, value in expected.items():
        assert got[class_id] == pytest.approx(value, abs=1e-12)
    assert result["mAP"] == pytest.approx(expected_map, abs=1e-12)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
@pytest.mark.parametrize("protocol", ava.PROTOCOLS)
def test_classes_split_over_processes_give_the_same_result(protocol):
    """Ties included (4-decimal scores): matching and ranking do not depend on other classes."""
    gt, pred, label_map, excluded = ava_case(seed=3, videos=6)
    if protocol == ava.FRACTIONAL:
        excluded = ()
    tables = [
        ava.check_columns(table, name, with_score=name == "pred")
        for table, name in ((gt, "gt"), (pred, "pred"))
    ]
    results = [
        ava.evaluate_tables(
            *tables, label_map, excluded, protocol, keep_curves=True, errors=True, workers=workers
        )
        for workers in (1, 2, 3, 7)
    ]
    assert results[0]["errors"]["total"]["fp"] > 0 and results[0]["mAP"] > 0
    for result in results[1:]:
        np.testing.assert_equal(result, results[0])
