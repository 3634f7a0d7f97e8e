"""The training data's view of AVA-style annotation CSVs (read by `eval.ava.io`, the evaluator's
reader) and proposal pickles (read by `eval.safe_pickle`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eval import safe_pickle
from eval.ava.io import read_gt_rows

from .errors import DataError
from .label_columns import LabelColumns

WHOLE_FRAME = np.array([[0.0, 0.0, 1.0, 1.0]], dtype=np.float64)


@dataclass
class Keyframe:
    """The merged ground truth of one annotated frame (one `video,timestamp` key).

    boxes: float64 [m, 4] normalised (x1, y1, x2, y2), exactly as parsed (the reference scales
    them to pixels in float64 and rounds once); labels: float32 [m, num_classes] multi-hot
    with the CSV's integer label as the column; entity_ids: the first row's person id per box.
    timestamp: seconds, an int, or a float for a fractional (AVA-Kinetics) keyframe. A frame
    annotated without any action (a 2-column row) has m = 0.
    """

    video: str
    timestamp: int | float
    boxes: np.ndarray
    labels: np.ndarray
    entity_ids: list

    @property
    def img_key(self) -> str:
        return image_key(self.video, self.timestamp)


def image_key(video: str, timestamp: int | float) -> str:
    """The reference key of an annotated frame: `video,TTTT` (whole seconds zero-padded to 4
    digits; a fractional timestamp keeps its decimals)."""
    if float(timestamp).is_integer():
        return f"{video},{int(timestamp):04d}"
    return f"{video},{timestamp}"


def read_annotations(path, num_classes: int, columns: LabelColumns | None = None) -> list[Keyframe]:
    """The keyframes of an AVA-style annotation CSV (`video,timestamp,x1,y1,x2,y2,action[,person]`
    rows, read and checked by `eval.ava.read_gt_rows`): `keyframes_from_rows` of its rows."""
    return keyframes_from_rows(read_gt_rows(path), num_classes, path, columns)


def keyframes_from_rows(
    rows: dict, num_classes: int, path, columns: LabelColumns | None = None
) -> list[Keyframe]:
    """Keyframes of `read_gt_rows` rows, grouped by `video,timestamp` in order of first appearance.

    Rows of one key whose four box values are exactly equal become one box with a multi-hot label
    (the reference merges by box equality, not by person id). A 2-column row `video,timestamp`
    is a keyframe without boxes. A 7-column row has person id -1. Timestamps are ints when whole.
    Without `columns` the label id is the column and one outside `[0, num_classes)` is a
    DataError naming `path:line`. With `columns` (mmaction2's `custom_classes`), rows of other
    labels are dropped before grouping, as the reference drops them (a keyframe left without rows
    is no sample), and labels become their columns; `num_classes` must be `columns.width`.
    """
    action, line = rows["action"], rows["line"]
    if columns is not None:
        if num_classes != columns.width:
            raise ValueError(f"num_classes {num_classes} != {columns.width} columns")
        mapped = columns.columns_of(action)
        keep = (mapped >= 0) | (action < 0)
        rows = {name: values[keep] for name, values in rows.items()}
        action, line = np.where(action[keep] < 0, -1, mapped[keep]), rows["line"]
    outside = np.flatnonzero(action >= num_classes)
    if outside.size:
        first = outside[0]
        raise DataError(
            f"{path}:{line[first]}: label {action[first]} outside [0, {num_classes}) "
            f"for a {num_classes}-class dataset"
        )
    boxes = np.stack([rows[c] for c in ("x1", "y1", "x2", "y2")], axis=1)
    person = np.where(np.isnan(rows["person"]), -1, rows["person"]).astype(np.int64)
    grouped: dict[tuple, dict[tuple, list]] = {}
    for video, timestamp, box, label, entity in zip(
        rows["video"].tolist(), rows["timestamp"].tolist(), boxes.tolist(), action.tolist(), person.tolist()
    ):
        frame = grouped.setdefault((video, int(timestamp) if timestamp.is_integer() else timestamp), {})
        if label >= 0:
            frame.setdefault(tuple(box), [entity, []])[1].append(label)
    return [_keyframe(video, timestamp, boxes, num_classes) for (video, timestamp), boxes in grouped.items()]


def _keyframe(video: str, timestamp, boxes: dict, num_classes: int) -> Keyframe:
    """A `Keyframe` from {box: [person id, [labels]]}."""
    labels = np.zeros((len(boxes), num_classes), dtype=np.float32)
    for index, (_, box_labels) in enumerate(boxes.values()):
        labels[index, box_labels] = 1.0
    return Keyframe(
        video=video,
        timestamp=timestamp,
        boxes=np.array(list(boxes), dtype=np.float64).reshape(-1, 4),
        labels=labels,
        entity_ids=[entity for entity, _ in boxes.values()],
    )


def read_proposals(path) -> dict[str, np.ndarray]:
    """The proposal pickle: `video,TTTT` -> float [N, 5] (x1, y1, x2, y2, score) or [N, 4], normalised.

    Read with the restricted unpickler; a value that is not such an array of finite numbers
    raises a `DataError`. Like the reference, values are not required to lie in [0, 1].
    """
    proposals = safe_pickle.load(path)
    if not isinstance(proposals, dict):
        raise DataError(f"{path}: expected a dict of image key -> array, got {type(proposals).__name__}")
    for key, value in proposals.items():
        if not (isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[1] in (4, 5)):
            shape = getattr(value, "shape", type(value).__name__)
            raise DataError(f"{path}: proposals of {key!r} must be an [N, 4] or [N, 5] array, got {shape}")
        if value.dtype.kind not in "fiu" or not np.isfinite(value).all():
            raise DataError(
                f"{path}: proposals of {key!r} must be finite numbers, got {value.dtype} {value[:2].tolist()}"
            )
    return proposals


def select_proposals(
    proposals: np.ndarray | None, *, score_thr: float = 0.9, max_proposals: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """The reference proposal filter -> (boxes float64 [n, 4] normalised, scores float32 [n]).

    None (key missing) gives the whole frame with score 1. With scores, the threshold is
    min(score_thr, best score), so the best proposal always survives; order is kept, then at most
    `max_proposals` rows. Without scores (4 columns) the rows are only truncated (scores = 1).
    """
    if proposals is None or len(proposals) == 0:
        return WHOLE_FRAME.copy(), np.ones(1, dtype=np.float32)
    if proposals.shape[1] == 5:
        threshold = min(score_thr, float(proposals[:, 4].max()))
        proposals = proposals[proposals[:, 4] >= threshold]
        scores = proposals[:max_proposals, 4]
    else:
        scores = np.ones(len(proposals))
    return (proposals[:max_proposals, :4].astype(np.float64), scores[:max_proposals].astype(np.float32))
