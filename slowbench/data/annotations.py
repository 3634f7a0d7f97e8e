"""Readers for the AVA-style annotation CSV and proposal pickles (exclusions: `eval.ava.io`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval import safe_pickle
from eval.errors import InputError as EvalInputError

from .errors import DataError

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


def parse_timestamp(text: str) -> int | float:
    """`0902` -> 902, `6.5` -> 6.5 (seconds >= 0); ValueError otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"timestamp {text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"timestamp {text!r} is not a finite number >= 0")
    return int(value) if value.is_integer() else value


def _parse_row(fields, num_classes: int, where: str):
    if len(fields) == 2:  # an annotated frame without any action (ActivityNet 2020 form)
        try:
            return fields[0], parse_timestamp(fields[1]), None, None, None
        except ValueError as error:
            raise DataError(f"{where}: {error}") from None
    if len(fields) != 8:
        raise DataError(
            f"{where}: expected 8 comma-separated columns "
            f"(video,timestamp,x1,y1,x2,y2,label,entity), got {len(fields)}"
        )
    try:
        timestamp = parse_timestamp(fields[1])
        box = tuple(float(value) for value in fields[2:6])
        label = int(fields[6])
        entity = int(fields[7])
    except ValueError as error:
        raise DataError(f"{where}: {error}") from None
    if not all(0.0 <= value <= 1.0 for value in box):
        raise DataError(f"{where}: box {box} is not normalised to [0, 1]")
    if not 0 <= label < num_classes:
        raise DataError(
            f"{where}: label {label} outside [0, {num_classes}) for a {num_classes}-class dataset"
        )
    return fields[0], timestamp, box, label, entity


def read_annotations(path, num_classes: int) -> list[Keyframe]:
    """Groups the CSV rows by `video,timestamp` in order of first appearance.

    Rows of one key whose four box values are exactly equal become one box with a multi-hot label
    (the reference merges by box equality, not by entity id). A 2-column row `video,timestamp`
    is a keyframe without boxes. Any malformed row raises a `DataError` naming `path:line`.
    """
    path = Path(path)
    grouped: dict[tuple[str, int], dict[tuple, list]] = {}
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read annotations ({error})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        video, timestamp, box, label, entity = _parse_row(
            line.strip().split(","), num_classes, f"{path}:{number}"
        )
        boxes = grouped.setdefault((video, timestamp), {})
        if box is None:
            continue
        entry = boxes.setdefault(box, [entity, []])
        entry[1].append(label)
    keyframes = []
    for (video, timestamp), boxes in grouped.items():
        labels = np.zeros((len(boxes), num_classes), dtype=np.float32)
        for index, (_, box_labels) in enumerate(boxes.values()):
            labels[index, box_labels] = 1.0
        keyframes.append(
            Keyframe(
                video=video,
                timestamp=timestamp,
                boxes=np.array(list(boxes), dtype=np.float64).reshape(-1, 4),
                labels=labels,
                entity_ids=[entity for entity, _ in boxes.values()],
            )
        )
    return keyframes


def load_pickle(path):
    """A pickle of plain data through `eval.safe_pickle`; any failure is a one-line `DataError`."""
    try:
        return safe_pickle.load(path)
    except EvalInputError as error:  # its message starts with the path
        raise DataError(str(error)) from None


def read_proposals(path) -> dict[str, np.ndarray]:
    """The proposal pickle: `video,TTTT` -> float [N, 5] (x1, y1, x2, y2, score) or [N, 4], normalised.

    Read with the restricted unpickler; a value that is not such an array of finite numbers
    raises a `DataError`. Like the reference, values are not required to lie in [0, 1].
    """
    proposals = load_pickle(path)
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
