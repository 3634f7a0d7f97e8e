"""No quiet answers: input that is read but takes no part in a result is counted and named in one
`warning:` line per kind (and in --json's "ignored"); an evaluation that cannot mean anything is
one `error:` line and exit status 2; an empty but valid one is a warning and scores 0."""

import json
import pickle

import numpy as np
import pytest

from eval import ava, multisports
from eval.errors import InputError, InputWarning

LABEL_MAP = "1: stand\n2: sit\n3: walk\n"
GT = "vidA,0902,0.1,0.1,0.5,0.9,1,0\nvidA,0902,0.1,0.1,0.5,0.9,2,0\nvidB,0903,0.2,0.2,0.6,0.6,1,1\n"


def ava_run(run_main, tmp_path, gt, pred, *extra, exclude=None):
    """python -m eval.ava in-process on these texts: (CompletedProcess, --json result or None)."""
    paths = {name: tmp_path / name for name in ("gt.csv", "pred.csv", "map.txt", "excluded.csv", "r.json")}
    for name, text in (("gt.csv", gt), ("pred.csv", pred), ("map.txt", LABEL_MAP), ("excluded.csv", exclude)):
        if text is not None:
            paths[name].write_text(text)
    args = ["--gt", paths["gt.csv"], "--pred", paths["pred.csv"], "--label-map", paths["map.txt"]]
    args += ["--exclude", paths["excluded.csv"]] if exclude is not None else []
    done = run_main(ava.main, *args, *extra, "--json", paths["r.json"])
    result = json.loads(paths["r.json"].read_text()) if paths["r.json"].exists() else None
    return done, result, paths


def warnings_of(done):
    return done.stderr.splitlines()


def test_an_empty_gt_file_is_an_error(run_main, tmp_path):
    done, result, paths = ava_run(run_main, tmp_path, "", "vidA,0902,0.1,0.1,0.5,0.9,1,0.9\n")
    assert done.returncode == 2 and result is None
    assert (
        done.stderr
        == f"error: {paths['gt.csv']}: no row of a label-map class to evaluate (0 rows; their actions: none)\n"
    )


def test_a_gt_of_other_classes_is_an_error(run_main, tmp_path):
    done, _, paths = ava_run(run_main, tmp_path, GT.replace(",1,", ",7,").replace(",2,", ",8,"), "")
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {paths['gt.csv']}: no row of a label-map class to evaluate (3 rows; their actions: 7, 8)\n"
    )


def test_predictions_of_another_split_are_named_and_score_zero(run_main, tmp_path):
    """The issue's case: every prediction row lies on a frame the gt does not have."""
    pred = "vidC,0902,0.1,0.1,0.5,0.9,1,0.9\nvidC,0903,0.1,0.1,0.5,0.9,2,0.8\n"
    done, result, paths = ava_run(run_main, tmp_path, GT, pred)
    assert done.returncode == 0
    assert warnings_of(done) == [
        f"warning: {paths['pred.csv']}: ignoring rows on frames without gt of a label-map class: 2 "
        "(first: vidC,0902 action 1)",
        f"warning: {paths['pred.csv']}: no prediction takes part in the evaluation; every class with gt scores AP 0",
    ]
    assert (
        result["mAP"] == 0.0
        and result["per_class"]["1"]["ap"] == 0.0
        and result["per_class"]["3"]["ap"] is None
    )
    assert result["ignored"] == {
        "pred_frame_without_gt": {
            "count": 2,
            "what": "rows on frames without gt of a label-map class",
            "first": "vidC,0902 action 1",
        }
    }
    assert "frame-mAP            0.0000" in done.stdout


def test_every_kind_of_ignored_row_has_its_line_and_count(run_main, tmp_path):
    gt = GT + "vidA,0905,0.1,0.1,0.5,0.9,1,0\nvidA,0902,0.1,0.1,0.5,0.9,9,0\n"
    pred = (
        "vidA,0902,0.1,0.1,0.5,0.9,1,0.9\n"  # evaluated
        "vidA,0902,0.1,0.1,0.5,0.9,9,0.9\n"  # class outside the label map
        "vidA,0905,0.1,0.1,0.5,0.9,1,0.9\n"  # excluded frame
        "vidZ,0902,0.1,0.1,0.5,0.9,1,0.9\n"  # no gt there
    )
    done, result, paths = ava_run(run_main, tmp_path, gt, pred, exclude="vidA,0905\n")
    gt_path, pred_path = paths["gt.csv"], paths["pred.csv"]
    assert done.returncode == 0
    assert warnings_of(done) == [
        f"warning: {gt_path}: ignoring rows whose action id is not in the label map: 1 (first: vidA,0902 action 9)",
        f"warning: {pred_path}: ignoring rows whose action id is not in the label map: 1 (first: vidA,0902 action 9)",
        f"warning: {pred_path}: ignoring rows on excluded frames: 1 (first: vidA,0905 action 1)",
        f"warning: {pred_path}: ignoring rows on frames without gt of a label-map class: 1 (first: vidZ,0902 action 1)",
        f"warning: {gt_path}: ignoring classes with gt but no detection on an evaluated frame, left out of the "
        "mean: 1 (first: 2 sit)",
    ]
    counts = {kind: entry["count"] for kind, entry in result["ignored"].items()}
    assert counts == {
        "gt_class_not_in_label_map": 1,
        "pred_class_not_in_label_map": 1,
        "pred_excluded": 1,
        "pred_frame_without_gt": 1,
        "gt_class_without_detection": 1,
    }
    # Under ActivityNet the excluded gt is removed too, and a class without detections scores 0.
    done, result, _ = ava_run(
        run_main, tmp_path, gt, pred, "--protocol", "activitynet", exclude="vidA,0905\n"
    )
    assert (
        f"warning: {gt_path}: ignoring rows on excluded frames: 1 (first: vidA,0905 action 1)"
        in warnings_of(done)
    )
    assert "gt_class_without_detection" not in result["ignored"] and result["per_class"]["2"]["ap"] == 0.0


def test_activitynet_top_50_and_boxes_without_area(run_main, tmp_path):
    rows = [f"vidA,0902,0.1,0.1,0.5,0.9,1,{0.5 + i / 1000:.4f}\n" for i in range(52)]
    rows.append("vidA,0902,0.3,0.1,0.3,0.9,1,0.9999\n")  # no area
    done, result, paths = ava_run(run_main, tmp_path, GT, "".join(rows), "--protocol", "activitynet")
    assert warnings_of(done) == [
        f"warning: {paths['pred.csv']}: ignoring rows beyond their frame's top 50 scores: 3 "
        "(first: vidA,0902 action 1)",
        f"warning: {paths['pred.csv']}: ignoring rows whose box has no area: 1 (first: vidA,0902 action 1)",
    ]
    assert result["ignored"]["pred_beyond_top_50"]["count"] == 3


def test_2020_rows_on_frames_absent_from_the_gt_file(run_main, tmp_path):
    pred = "vidA,902.5,0.1,0.1,0.5,0.9,1,0.9\nvidA,0902,0.1,0.1,0.5,0.9,1,0.8\n"
    done, result, paths = ava_run(run_main, tmp_path, GT, pred, "--protocol", "activitynet-2020")
    assert warnings_of(done) == [
        f"warning: {paths['pred.csv']}: ignoring rows on frames absent from the gt file: 1 (first: vidA,902.5 action 1)"
    ]
    assert result["ignored"]["pred_frame_not_in_gt"]["count"] == 1


def test_the_python_api_warns_and_returns_the_counts():
    table = {
        "video": np.array(["a", "b"], dtype=object),
        "timestamp": np.array([1, 1]),
        "x1": np.array([0.1, 0.1]),
        "y1": np.array([0.1, 0.1]),
        "x2": np.array([0.5, 0.5]),
        "y2": np.array([0.5, 0.5]),
        "action": np.array([1, 1]),
    }
    pred = {**table, "score": np.array([0.9, 0.8])}
    with pytest.warns(
        InputWarning, match=r"^p\.csv: ignoring rows on frames without gt of a label-map class: 1 "
    ):
        result = ava.evaluate({k: v[:1] for k, v in table.items()}, pred, {1: "x"}, names=("g.csv", "p.csv"))
    assert result["ignored"]["pred_frame_without_gt"]["count"] == 1 and result["mAP"] == 1.0


# --------------------------------------------------------------------------------------------
# MultiSports


def tube(first, last, box=(0.0, 0.0, 10.0, 10.0)):
    return np.array([[f, *box] for f in range(first, last + 1)], dtype=np.float32)


def ms_gt(tubes, videos=("v0", "v1"), labels=("aerobic jump", "aerobic kick jump", "basketball dunk")):
    return {
        "labels": list(labels),
        "test_videos": [list(videos)],
        "nframes": {v: 40 for v in videos},
        "gttubes": {"v0": tubes},
        "resolution": {v: (100, 100) for v in videos},
    }


def ms_run(run_main, tmp_path, gt, preds):
    (tmp_path / "gt.pkl").write_bytes(pickle.dumps(gt))
    (tmp_path / "p.pkl").write_bytes(pickle.dumps(preds))
    done = run_main(
        multisports.main, tmp_path / "p.pkl", "--gt", tmp_path / "gt.pkl", "--json", tmp_path / "r.json"
    )
    result = json.loads((tmp_path / "r.json").read_text()) if (tmp_path / "r.json").exists() else None
    return done, result


def det(video, frame, label, score=0.9):
    return [video, frame, label, score, 0, 0, 10, 10]


def test_multisports_detections_that_take_no_part(run_main, tmp_path):
    gt = ms_gt({0: [tube(1, 20)]})
    preds = np.array([det(0, 1, 0), det(0, 2, 1), det(1, 3, 2), det(0, 4, 7)], dtype=np.float64)
    done, result = ms_run(run_main, tmp_path, gt, preds)
    p = tmp_path / "p.pkl"
    assert done.returncode == 0
    assert warnings_of(done) == [
        f"warning: {p}: ignoring detections with labels outside 0..2: 1 (first: row 3, label 7)",
        f"warning: {p}: ignoring detections of labels without gt tubes in the test videos or never evaluated "
        "(the six skipped names): 2 (first: v0 frame 2 label 1)",
    ]
    assert {kind: entry["count"] for kind, entry in result["ignored"].items()} == {
        "detections_label_not_in_gt": 1,
        "detections_label_not_evaluated": 2,
    }


def test_multisports_no_detection_is_a_warning_and_zero(run_main, tmp_path):
    done, result = ms_run(run_main, tmp_path, ms_gt({0: [tube(1, 20)]}), np.zeros((0, 8)))
    assert done.returncode == 0
    assert warnings_of(done) == [
        f"warning: {tmp_path / 'p.pkl'}: no detection of an evaluated label; every frame-AP is 0"
    ]
    assert result["frame_mAP"] == 0.0 and result["video_mAP"]["0.5"] == 0.0 and result["ignored"] == {}


@pytest.mark.parametrize(
    "gt, message",
    [
        (ms_gt({0: [tube(1, 20)]}, videos=()), "key 'test_videos': no test video to evaluate"),
        (ms_gt({}), "no gt tube of an evaluated label in the test videos"),
        (ms_gt({1: [tube(1, 20)]}), "no gt tube of an evaluated label in the test videos"),  # a skipped name
    ],
    ids=["no-test-video", "no-tube", "only-skipped-labels"],
)
def test_multisports_evaluations_that_cannot_mean_anything_are_errors(run_main, tmp_path, gt, message):
    done, result = ms_run(run_main, tmp_path, gt, np.zeros((0, 8)))
    assert done.returncode == 2 and result is None
    assert done.stderr == f"error: {tmp_path / 'gt.pkl'}: {message}\n"


def test_multisports_given_tubes_of_other_labels(tmp_path):
    gt = ms_gt({0: [tube(1, 20)]})
    scored = np.c_[tube(1, 20), np.ones(20)]
    video_dets = {0: [("v0", 0.9, scored)], 2: [("v1", 0.5, scored)], 9: [("v1", 0.5, scored)] * 2}
    with pytest.warns(InputWarning) as caught:
        result = multisports.evaluate(gt, np.array([det(0, 1, 0)], dtype=np.float64), video_dets)
    assert [str(w.message) for w in caught] == [
        "frame_dets: video_dets: ignoring tubes of labels outside 0..2: 2 (first: label 9)",
        "frame_dets: video_dets: ignoring tubes of labels without gt tubes in the test videos or never "
        "evaluated (the six skipped names): 1 (first: label 2)",
    ]
    assert {kind: e["count"] for kind, e in result["ignored"].items()} == {
        "tubes_label_not_in_gt": 2,
        "tubes_label_not_evaluated": 1,
    }
    assert result["video_mAP"]["0.5"] == 1.0


def test_multisports_api_raises_for_a_gt_without_evaluated_tubes():
    with pytest.raises(InputError, match="^gt: no gt tube of an evaluated label"):
        multisports.evaluate(ms_gt({}), np.zeros((0, 8)))
