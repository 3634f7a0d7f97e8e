"""Annotation CSV grouping/merging, proposal selection and their bad-input errors."""

import os
import pickle

import numpy as np
import pytest

from eval.ava import read_csv_gt
from eval.errors import InputError
from slowbench.data import DataError, read_annotations, read_proposals, select_proposals


def _write(path, text):
    path.write_text(text)
    return path


def test_rows_merge_by_exact_box_equality_in_first_appearance_order(tmp_path):
    csv = _write(
        tmp_path / "a.csv",
        "\n".join(
            [
                "vidB,0903,0.1,0.2,0.3,0.4,5,7",
                "vidA,0902,0.1,0.2,0.3,0.4,1,0",
                "vidA,0902,0.1,0.2,0.3,0.4,3,9",  # same box, other entity: merged (reference rule)
                "vidA,0902,0.1,0.2,0.3,0.401,3,0",  # differs in one value: its own box
                "vidB,0903,0.1,0.2,0.3,0.4,80,7",
            ]
        )
        + "\n",
    )
    first, second = read_annotations(csv, 81)
    assert (first.video, first.timestamp, first.img_key) == ("vidB", 903, "vidB,0903")
    assert np.flatnonzero(first.labels[0]).tolist() == [5, 80]
    assert second.boxes.shape == (2, 4) and second.labels.shape == (2, 81)
    assert np.flatnonzero(second.labels[0]).tolist() == [1, 3]
    assert np.flatnonzero(second.labels[1]).tolist() == [3]
    assert second.entity_ids == [0, 0]
    assert second.boxes.dtype == np.float64 and second.labels.dtype == np.float32


@pytest.mark.parametrize(
    "line, message",
    [
        ("vid,09x2,0.1,0.2,0.3,0.4,1,0", "timestamp '09x2' is not a finite number"),
        ("vid,-1,0.1,0.2,0.3,0.4,1,0", "timestamp '-1' is negative"),
        ("vid,0902,0.1,0.2,0.3", "expected 2 or 7 or 8 columns, got 5"),
        ("vid,0902,0.1,0.2,1.3,0.4,1,0", "box outside [0, 1]"),
        ("vid,0902,0.3,0.2,0.1,0.4,1,0", "inverted box"),
        ("vid,0902,0.1,0.2,0.3,0.4,1.5,0", "action id '1.5' is not a non-negative integer"),
        ("vid,0902,0.1,0.2,0.3,0.4,81,0", "label 81 outside [0, 81)"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, line, message):
    """The evaluator's reader checks the rows (`eval.ava.read_gt_rows`), with its messages."""
    csv = _write(tmp_path / "bad.csv", "vid,0902,0.1,0.2,0.3,0.4,1,0\n" + line + "\n")
    with pytest.raises(InputError) as error:
        read_annotations(csv, 81)
    text = str(error.value)
    assert text.startswith(f"{csv}:2: ") and message in text and "\n" not in text


def test_fractional_timestamps_and_empty_keyframes(tmp_path):
    csv = _write(
        tmp_path / "k.csv",
        "kin_0000001_000010_000020,15.5,0.1,0.2,0.3,0.4,1,-1\n"
        "kin_0000002_000000_000010,4\n"
        "kin_0000001_000010_000020,0015.5,0.1,0.2,0.3,0.4,3,-1\n",
    )
    first, empty = read_annotations(csv, 81)
    assert first.timestamp == 15.5 and first.img_key == "kin_0000001_000010_000020,15.5"
    assert np.flatnonzero(first.labels[0]).tolist() == [1, 3]
    assert empty.timestamp == 4 and isinstance(empty.timestamp, int)
    assert empty.boxes.shape == (0, 4) and empty.labels.shape == (0, 81)


def test_a_row_without_person_id_reads_as_person_minus_one(tmp_path):
    csv = _write(tmp_path / "seven.csv", "vid,0902,0.1,0.2,0.3,0.4,1\nvid,0902,0.1,0.2,0.3,0.4,2,5\n")
    (keyframe,) = read_annotations(csv, 81)
    assert keyframe.entity_ids == [-1]
    assert np.flatnonzero(keyframe.labels[0]).tolist() == [1, 2]


def test_annotations_equal_the_evaluator_reading_of_the_same_file(tmp_path):
    """One parser: boxes and labels of the training data are the evaluator's gt rows."""
    csv = _write(tmp_path / "gt.csv", "v1,0902,0.1,0.2,0.3,0.4,1,0\nv2,0903,0.125,0.2,0.5,0.6,3,1\n")
    gt = read_csv_gt(csv)
    keyframes = read_annotations(csv, 81)
    np.testing.assert_array_equal(np.concatenate([k.boxes for k in keyframes]), gt[["x1", "y1", "x2", "y2"]])
    assert [int(np.flatnonzero(k.labels[0])[0]) for k in keyframes] == gt["action"].tolist()


def test_select_proposals_follows_the_reference_rule():
    rows = np.array([[0, 0, 0.5, 0.5, 0.95], [0, 0, 0.6, 0.6, 0.3], [0, 0, 0.7, 0.7, 0.99]])
    boxes, scores = select_proposals(rows)
    np.testing.assert_allclose(scores, [0.95, 0.99])  # score >= 0.9, file order kept
    np.testing.assert_array_equal(boxes, rows[[0, 2], :4])  # float64, not rounded to float32
    assert boxes.dtype == np.float64
    low = rows.copy()
    low[:, 4] = [0.2, 0.5, 0.4]  # all below 0.9: threshold drops to the best score
    boxes, scores = select_proposals(low)
    np.testing.assert_allclose(scores, [0.5])
    many = np.tile(rows[:1], (1200, 1))
    assert len(select_proposals(many)[0]) == 1000
    boxes, scores = select_proposals(rows[:, :4])  # no score column: only truncated
    assert len(boxes) == 3 and (scores == 1).all()
    boxes, scores = select_proposals(None)  # key missing: the whole frame
    np.testing.assert_array_equal(boxes, [[0, 0, 1, 1]])
    np.testing.assert_array_equal(scores, [1])


def test_read_proposals_rejects_bad_files(tmp_path):
    good = tmp_path / "good.pkl"
    good.write_bytes(pickle.dumps({"v,0902": np.zeros((2, 5))}))
    assert read_proposals(good)["v,0902"].shape == (2, 5)
    for name, value in [
        ("list.pkl", [1, 2]),
        ("shape.pkl", {"v,0902": np.zeros((2, 3))}),
        ("text.pkl", {"v,0902": np.array([["0.1", "0.1", "0.5", "0.5"]])}),
        ("nan.pkl", {"v,0902": np.array([[0.1, 0.1, np.nan, 0.5, 0.9]])}),
    ]:
        path = tmp_path / name
        path.write_bytes(pickle.dumps(value))
        with pytest.raises(DataError, match=f"^{path}: "):
            read_proposals(path)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"v,0902": os.getcwd}))  # a function: a global reference
    with pytest.raises(InputError, match=f"^{evil}: refusing"):
        read_proposals(evil)
    corrupt = tmp_path / "corrupt.pkl"
    corrupt.write_bytes(good.read_bytes()[:20])
    with pytest.raises(InputError, match=f"^{corrupt}"):
        read_proposals(corrupt)
