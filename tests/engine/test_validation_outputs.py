"""slowbench.test's outputs without a model: `--dump DIR/` (the official MultiSports pair) and
`--report DIR` (eval's HTML report) from hand-made val predictions."""

import pickle
import re
import types

import numpy as np
import pytest

from slowbench.engine.scoring import check_dump_path, evaluate_predictions, write_dump
from slowbench.errors import InputError, InputWarning
from slowbench.model_zoo import get_row

MULTISPORTS = get_row("multisports-k400-r50-4x16")
AVA = get_row("ava22-k700-16x4")
LABELS = ["aerobic jump", "aerobic spin", "basketball pass"]


@pytest.fixture
def multisports_val(tmp_path):
    """A gt pickle with one 20-frame tube of label 0, and predictions that find it on every frame
    of a 64x128 (h x w) network input (the gt video is 720 x 1280)."""
    frames = np.arange(1, 21, dtype=np.float32)[:, None]
    tube = np.concatenate([frames, np.tile([[100, 100, 300, 400]], (20, 1))], 1).astype(np.float32)
    gt = {
        "labels": LABELS,
        "test_videos": [["sport/v0"]],
        "nframes": {"sport/v0": 30},
        "resolution": {"sport/v0": (720, 1280)},
        "gttubes": {"sport/v0": {0: [tube]}},
    }
    (tmp_path / "gt.pkl").write_bytes(pickle.dumps(gt))
    box = np.array([[10.0, 100 * 64 / 720, 30.0, 400 * 64 / 720]], dtype=np.float32)
    predictions = [
        (
            box,
            np.array([[0.8 - 0.01 * f, 0.1, 0.1]]),
            {"video": "sport/v0.mp4", "timestamp": f, "img_shape": (64, 128)},
        )
        for f in range(1, 21)
    ]
    return types.SimpleNamespace(gt_pickle=tmp_path / "gt.pkl"), predictions


def test_dump_directory_writes_the_official_pair(multisports_val, tmp_path):
    files, predictions = multisports_val
    out = write_dump(MULTISPORTS, files, predictions, f"{tmp_path}/official/")
    with open(out / "frame_detections.pkl", "rb") as file:
        frames = pickle.load(file)
    with open(out / "video_detections.pkl", "rb") as file:
        tubes = pickle.load(file)
    assert isinstance(frames, np.ndarray) and frames.shape == (20, 8)
    np.testing.assert_array_equal(frames[:, :3], [[0, f, 0] for f in range(1, 21)])
    np.testing.assert_allclose(frames[0, 4:], [100, 100, 300, 400], rtol=1e-5)
    assert set(tubes) == {0, 1, 2} and tubes[1] == [] and len(tubes[0]) == 1
    video, score, boxes = tubes[0][0]
    assert video == "sport/v0" and type(score) is float
    assert boxes.dtype == np.float32 and boxes.shape == (20, 6)
    np.testing.assert_array_equal(boxes[:, 0], np.arange(1, 21))


def test_report_holds_the_returned_metrics(multisports_val, tmp_path, capsys):
    files, predictions = multisports_val
    metrics = evaluate_predictions(MULTISPORTS, files, predictions, report=tmp_path / "report")
    assert metrics["frame_mAP"] == 1.0 and metrics["video_mAP"]["0.5"] == 1.0
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    headline = re.search(r"frame-mAP@0.5</td><td data-value=\"([^\"]+)\"", page)
    assert float(headline.group(1)) == metrics["frame_mAP"]
    assert "error analysis mean cls+time+loc" in page
    assert "wrote" in capsys.readouterr().out


def test_ava_report(tmp_path):
    (tmp_path / "gt.csv").write_text("v0,0902,0.1,0.1,0.5,0.9,1,0\nv0,0902,0.6,0.1,0.9,0.9,2,1\n")
    (tmp_path / "map.txt").write_text("1: stand\n2: sit\n")
    files = types.SimpleNamespace(
        annotations=tmp_path / "gt.csv", label_map=tmp_path / "map.txt", exclusions=None
    )
    scores = np.zeros((2, 81))
    scores[0, 1], scores[1, 1], scores[1, 2] = 0.9, 0.95, 0.7  # the second box is sitting
    proposals = np.array([[10, 10, 50, 90], [60, 10, 90, 90]], dtype=np.float32)
    predictions = [(proposals, scores, {"video": "v0", "timestamp": 902, "img_shape": (100, 100)})]
    metrics = evaluate_predictions(AVA, files, predictions, report=tmp_path / "report")
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert metrics["mAP"] == 0.75  # stand: FP on the sitting person, then TP; sit: TP
    assert re.search(r"frame-mAP</td><td data-value=\"0.75\"", page)
    assert "sit (1)" in page  # the stand FP sits on a person who sits


def test_dump_path_rules():
    assert check_dump_path(MULTISPORTS, "out/").name == "out"
    with pytest.raises(InputError, match="a directory DIR/"):
        check_dump_path(MULTISPORTS, "out.csv")
    with pytest.raises(InputError, match=r"\.csv file"):
        check_dump_path(AVA, "out/")


def test_the_evaluation_of_val_predictions_names_what_it_ignored(tmp_path):
    """slowbench.test's evaluation follows eval's rule: predictions that take no part are counted
    in one warning (naming the gt file and "val predictions") and in the result's "ignored"."""
    (tmp_path / "val.csv").write_text("v1,0902,0.1,0.1,0.5,0.5,1,0\n")
    (tmp_path / "map.txt").write_text("1: stand\n")
    files = types.SimpleNamespace(
        annotations=tmp_path / "val.csv", label_map=tmp_path / "map.txt", exclusions=None
    )
    box = np.array([[0.1 * 128, 0.1 * 64, 0.5 * 128, 0.5 * 64]], dtype=np.float32)
    scores = np.zeros((1, 81))
    scores[0, 1] = 0.9
    predictions = [
        (box, scores, {"video": "v1", "timestamp": 902, "img_shape": (64, 128)}),
        (box, scores, {"video": "v1", "timestamp": 903, "img_shape": (64, 128)}),  # no gt there
    ]
    with pytest.warns(InputWarning) as caught:
        result = evaluate_predictions(AVA, files, predictions)
    assert [str(w.message) for w in caught] == [
        "val predictions: ignoring rows on frames without gt of a label-map class: 1 (first: v1,0903 action 1)"
    ]
    assert result["mAP"] == 1.0 and result["ignored"]["pred_frame_without_gt"]["count"] == 1
