"""From model outputs to the evaluators' inputs, as mmaction2 writes its test results: AVA detection
rows (boxes in [0, 1], scores above 0.002, both rounded to 4 decimals) and MultiSports ``[N, 8]``
frame detections (argmax class, GT pixel units).

A prediction is one val sample: its proposals ``[n, 4]`` in the pixels of the network input, the model's
scores ``[n, num_classes]`` and the sample's ``meta`` (``video``, ``timestamp``, ``img_shape`` = (h, w)).
"""

import numpy as np
import pandas as pd

from slowbench.errors import DataError

AVA_ACTION_THR = 0.002
AVA_COLUMNS = ["video", "timestamp", "x1", "y1", "x2", "y2", "action", "score"]
MULTISPORTS_COLUMNS = 8  # video_idx, frame, label, score, x1, y1, x2, y2


def normalised_boxes(proposals, img_shape) -> np.ndarray:
    """``[n, 4]`` pixel boxes of an ``(h, w)`` input -> float32 boxes in [0, 1] units.

    The division is in float32, as the reference's RoI head divides its float32 RoIs by the input
    size (float64 would move about one coordinate in 10^4 across a 4th-decimal boundary).
    """
    h, w = img_shape
    return np.asarray(proposals, dtype=np.float32).reshape(-1, 4) / np.array([w, h, w, h], dtype=np.float32)


def ava_detections(predictions, *, action_thr: float = AVA_ACTION_THR, label_ids=None) -> pd.DataFrame:
    """AVA detection rows: every (proposal, class column >= 1) with score > ``action_thr`` (strictly).

    Boxes and scores are rounded to 4 decimals as the reference writes them (``%.4f``) before evaluating,
    so in-memory evaluation equals evaluating the dumped CSV. Column 0 is the background column. The
    action is the column, or ``label_ids[column]`` (``LabelColumns.label_ids()``: mmaction2's
    ``custom_classes[column]``).
    """
    parts = []
    for proposals, scores, meta in predictions:
        scores = np.asarray(scores, dtype=np.float64)
        boxes = normalised_boxes(proposals, meta["img_shape"])
        box_idx, cls = np.nonzero(scores[:, 1:] > action_thr)
        cls = cls + 1
        if box_idx.size == 0:
            continue
        part = pd.DataFrame(np.round(boxes[box_idx].astype(np.float64), 4), columns=["x1", "y1", "x2", "y2"])
        part.insert(0, "timestamp", meta["timestamp"])  # seconds: int, or float (AVA-Kinetics)
        part.insert(0, "video", str(meta["video"]))
        part["action"] = (cls if label_ids is None else np.asarray(label_ids)[cls]).astype(np.int64)
        part["score"] = np.round(scores[box_idx, cls], 4)
        parts.append(part)
    if not parts:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(AVA_COLUMNS, ["object", "int64"] + ["float64"] * 4 + ["int64", "float64"])
            }
        )
    return pd.concat(parts, ignore_index=True)[AVA_COLUMNS]


def multisports_video_name(video: str) -> str:
    """The GT pickle's video name for a dataset video id (the CSVs carry a ``.mp4`` suffix)."""
    return video[:-4] if video.endswith(".mp4") else video


def multisports_frame_dets(predictions, gt: dict, label_ids=None) -> np.ndarray:
    """``[N, 8]`` frame detections: one per proposal, its argmax column's label (the column, or
    ``label_ids[column]``) and that score, GT pixel units."""
    videos = {name: i for i, name in enumerate(gt["test_videos"][0])}
    rows = []
    for proposals, scores, meta in predictions:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape[0] == 0:
            continue
        name = multisports_video_name(str(meta["video"]))
        if name not in videos:
            raise DataError(f"video {name!r} of the val split is not in the GT pickle's test_videos")
        h, w = gt["resolution"][name]
        boxes = normalised_boxes(proposals, meta["img_shape"]) * np.array([w, h, w, h], dtype=np.float32)
        block = np.empty((scores.shape[0], MULTISPORTS_COLUMNS), dtype=np.float64)
        block[:, 0] = videos[name]
        block[:, 1] = int(meta["timestamp"])
        best = scores.argmax(axis=1)
        block[:, 2] = best if label_ids is None else np.asarray(label_ids)[best]
        block[:, 3] = scores.max(axis=1)
        block[:, 4:] = boxes
        rows.append(block)
    return np.concatenate(rows) if rows else np.zeros((0, MULTISPORTS_COLUMNS))
