"""Model outputs -> AVA detection rows and MultiSports [N, 8] frame detections, by hand."""

import numpy as np
import pytest
import torch

from slowbench.engine.detections import ava_detections, multisports_frame_dets, normalised_boxes
from slowbench.errors import DataError


def test_ava_rows_keep_scores_strictly_above_threshold_and_skip_column_zero():
    proposals = np.array(
        [[10, 20, 110, 220], [0, 0, 200, 100]], dtype=np.float32
    )  # pixels of 200x400 (w x h)
    scores = np.array([[0.9, 0.002, 0.5, 0.0021], [0.9, 0.7, 0.001, 0.12345678]])
    meta = {"video": "vidA", "timestamp": 902, "img_shape": (400, 200)}
    df = ava_detections([(proposals, scores, meta)])
    assert list(df.columns) == ["video", "timestamp", "x1", "y1", "x2", "y2", "action", "score"]
    got = sorted(df.itertuples(index=False, name=None), key=lambda r: (r[6], r[2]))
    assert got == [
        ("vidA", 902, 0.0, 0.0, 1.0, 0.25, 1, 0.7),
        ("vidA", 902, 0.05, 0.05, 0.55, 0.55, 2, 0.5),
        ("vidA", 902, 0.0, 0.0, 1.0, 0.25, 3, 0.1235),
        ("vidA", 902, 0.05, 0.05, 0.55, 0.55, 3, 0.0021),
    ]


def test_ava_no_detections_gives_typed_empty_frame():
    df = ava_detections(
        [(np.zeros((0, 4)), np.zeros((0, 81)), {"video": "v", "timestamp": 1, "img_shape": (8, 8)})]
    )
    assert len(df) == 0 and df["timestamp"].dtype == np.int64 and list(df.columns)[-1] == "score"


GT = {"test_videos": [["sport/a", "sport/b"]], "resolution": {"sport/a": (100, 50), "sport/b": (720, 1280)}}


def test_multisports_one_row_per_proposal_with_argmax_class_in_gt_pixels():
    proposals = np.array([[0, 0, 64, 32], [32, 16, 64, 64]], dtype=np.float32)  # of a 64x128 (h x w) input
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    meta = {"video": "sport/b.mp4", "timestamp": 17, "img_shape": (64, 128)}
    dets = multisports_frame_dets([(proposals, scores, meta)], GT)
    np.testing.assert_allclose(
        dets, [[1, 17, 1, 0.7, 0, 0, 640, 360], [1, 17, 0, 0.5, 320, 180, 640, 720]], rtol=1e-6
    )


def test_multisports_empty_and_unknown_video():
    assert multisports_frame_dets([], GT).shape == (0, 8)
    meta = {"video": "sport/zzz.mp4", "timestamp": 1, "img_shape": (8, 8)}
    with pytest.raises(DataError, match="sport/zzz"):
        multisports_frame_dets([(np.zeros((1, 4)), np.ones((1, 3)), meta)], GT)


def test_boxes_are_normalised_by_the_network_input_size():
    boxes = np.array([[34.0, 25.6, 340.0, 256.0]])
    np.testing.assert_allclose(normalised_boxes(boxes, (256, 340)), [[0.1, 0.1, 1.0, 1.0]])


def test_ava_boxes_follow_the_reference_arithmetic():
    """The reference divides its float32 RoIs by the input size in torch (float32) and prints %.4f."""
    h, w = 256, 455
    proposals = (np.random.default_rng(0).random((20000, 4)) * [w, h, w, h]).astype(np.float32)
    scores = np.full((len(proposals), 2), 0.5, dtype=np.float32)
    rows = ava_detections([(proposals, scores, {"video": "v", "timestamp": 902, "img_shape": (h, w)})])
    divided = (torch.from_numpy(proposals) / torch.tensor([w, h, w, h], dtype=torch.float32)).numpy()
    expected = np.array([[float(f"{value:.4f}") for value in box] for box in divided])
    np.testing.assert_array_equal(rows[["x1", "y1", "x2", "y2"]].to_numpy(), expected)
    in_float64 = np.round(proposals.astype(np.float64) / [w, h, w, h], 4)
    assert (in_float64 != expected).any()  # the float32 division is what makes them equal
