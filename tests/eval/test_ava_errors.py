"""eval.ava --errors: what each false positive is, by hand and on a generated case."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.eval_cases import ava_case
from eval import ava
from eval.ava.error_analysis import FP_KINDS

LABELS = {1: "stand", 2: "sit", 80: "watch"}
P1 = (0.0, 0.0, 0.4, 1.0)  # does stand and watch
P2 = (0.6, 0.0, 1.0, 1.0)  # does sit


def table(rows, *, score):
    columns = ["video", "timestamp", "x1", "y1", "x2", "y2", "action", "score" if score else "person"]
    data = [(v, t, *box, a, s) for v, t, box, a, s in rows]
    return pd.DataFrame(data, columns=columns).astype({"timestamp": np.int64, "action": np.int64})


GT = table([("a", 1, P1, 1, 0), ("a", 1, P1, 80, 0), ("a", 1, P2, 2, 1), ("c", 1, P1, 1, 0)], score=False)
PRED = table(
    [
        ("a", 1, P1, 1, 0.9),  # TP
        ("a", 1, P1, 1, 0.8),  # duplicate of the matched P1
        ("a", 1, P2, 1, 0.7),  # classification: P2 sits
        ("a", 1, (0.0, 0.0, 0.4, 0.3), 1, 0.6),  # localisation: IoU 0.3 with P1
        ("a", 1, (0.42, 0.0, 0.58, 0.2), 1, 0.5),  # background: touches nobody
        ("a", 1, (0.6, 0.0, 1.0, 0.3), 1, 0.45),  # background: IoU 0.3 with P2, who does not stand
        ("b", 1, P1, 1, 0.4),  # frame without gt: ignored / FP (ActivityNet)
        ("a", 1, P1, 2, 0.3),  # sit on P1: classification (P1 stands, watches)
    ],
    score=True,
)


@pytest.mark.parametrize("protocol, background, missed_stand", [("mmaction2", 2, 1), ("activitynet", 3, 1)])
def test_one_of_each_kind_hand_computed(protocol, background, missed_stand):
    result = ava.evaluate(GT, PRED, LABELS, protocol=protocol, errors=True)
    stand = result["errors"]["per_class"]["1"]
    assert (
        stand["tp"],
        stand["duplicate"],
        stand["localisation"],
        stand["classification"],
        stand["background"],
        stand["missed"],
    ) == (1, 1, 1, 1, background, missed_stand)
    assert stand["confused_with"] == {"sit": 1}
    sit = result["errors"]["per_class"]["2"]
    assert (sit["tp"], sit["classification"], sit["missed"]) == (0, 1, 1)
    assert sit["confused_with"] == {"stand": 1, "watch": 1}
    for class_id, entry in result["errors"]["per_class"].items():
        assert entry["fp"] == sum(entry[kind] for kind in FP_KINDS)
        assert entry["fp"] == result["per_class"][class_id]["num_det"] - entry["tp"]
    assert result["errors"]["total"]["fp"] == (3 + background) + 1  # stand + sit


def test_excluded_gt_is_missed_only_where_it_counts_in_recall():
    excluded = {("c", 1)}
    mm = ava.evaluate(GT, PRED, LABELS, excluded, protocol="mmaction2", errors=True)
    anet = ava.evaluate(GT, PRED, LABELS, excluded, protocol="activitynet", errors=True)
    assert mm["errors"]["per_class"]["1"]["missed"] == 1  # excluded gt still counts
    assert anet["errors"]["per_class"]["1"]["missed"] == 0  # removed from the gt


@pytest.mark.parametrize("protocol", ava.PROTOCOLS)
def test_kinds_sum_to_the_false_positives_of_the_ap(protocol):
    gt, pred, label_map, excluded = ava_case(seed=3, videos=10)
    excluded = () if protocol == "activitynet-2020" else excluded  # it has no exclusions
    result = ava.evaluate(gt, pred, label_map, excluded, protocol=protocol, errors=True)
    errors = result["errors"]
    for class_id, entry in errors["per_class"].items():
        num_det = result["per_class"][class_id]["num_det"]
        assert entry["fp"] == sum(entry[kind] for kind in FP_KINDS) == num_det - entry["tp"]
        assert entry["missed"] == result["per_class"][class_id]["num_gt"] - entry["tp"]
        assert sum(entry["confused_with"].values()) >= min(entry["classification"], 1)
    assert all(errors["total"][kind] > 0 for kind in FP_KINDS)
    # The TPs are those of the AP: recall at the last detection = tp / num_gt.
    plain = ava.evaluate(gt, pred, label_map, excluded, protocol=protocol, keep_curves=True)
    for class_id, entry in plain["per_class"].items():
        if entry.get("recall") is not None and entry["recall"].size:
            assert entry["recall"][-1] * entry["num_gt"] == pytest.approx(errors["per_class"][class_id]["tp"])


def test_cli_errors_table_and_json(tmp_path, run_main):
    label_map = tmp_path / "map.txt"
    label_map.write_text("".join(f"{k}: {v}\n" for k, v in LABELS.items()))
    GT.to_csv(tmp_path / "gt.csv", header=False, index=False)
    ava.write_csv_pred(tmp_path / "pred.csv", PRED)
    done = run_main(
        ava.main,
        "--gt",
        tmp_path / "gt.csv",
        "--pred",
        tmp_path / "pred.csv",
        "--label-map",
        label_map,
        "--errors",
        "--json",
        tmp_path / "r.json",
    )
    assert done.returncode == 0, done.stderr
    assert "classification" in done.stdout and "sit (1)" in done.stdout
    errors = json.loads((tmp_path / "r.json").read_text())["errors"]
    assert errors["per_class"]["1"]["classification"] == 1
    assert errors["iou_thr"] == 0.5 and errors["localisation_min_iou"] == 0.1
