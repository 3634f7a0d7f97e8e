"""Person boxes for the demo, from any source: a CSV, or a dataset split's proposals / ground truth.

No person detector is bundled (none can be downloaded here). A box source is a `TimedBoxes`: boxes
at frame positions of the video; any detector's output converted to the CSV below plugs in.

CSV (`--boxes`): one box per line, `frame_or_seconds, x1, y1, x2, y2[, score]`. An optional header
line names the first column `frame` (0-based frame index, the default) or `seconds`. Coordinates
are normalised to [0, 1] when every coordinate of the file is within [0, 1], else pixels of the
video. Scores default to 1.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from slowbench.data.annotations import read_annotations, read_proposals, select_proposals
from slowbench.data.dataset_split import clip_source, read_keyframes, read_split_proposals
from slowbench.errors import DataError, InputError


@dataclass
class BoxesAt:
    """Boxes at one frame position: normalised float64 [n, 4] (x1, y1, x2, y2), scores [n] and
    (ground truth only) label ids per box."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: list = field(default_factory=list)


@dataclass
class TimedBoxes:
    """Boxes at frame positions (0-based, possibly fractional) of one video."""

    positions: np.ndarray
    entries: list[BoxesAt]
    source: str

    def nearest(self, frame: int, max_gap: float) -> BoxesAt | None:
        """The entry nearest to `frame` if within `max_gap` frames, else None."""
        if not len(self.positions):
            return None
        index = int(np.argmin(np.abs(self.positions - frame)))
        return self.entries[index] if abs(self.positions[index] - frame) <= max_gap else None

    @property
    def spacing(self) -> float:
        """The median distance between consecutive positions (0 for one entry)."""
        return float(np.median(np.diff(self.positions))) if len(self.positions) > 1 else 0.0


def above_threshold(boxes: TimedBoxes, threshold: float) -> tuple[TimedBoxes, int]:
    """The boxes scoring above `threshold` (the reference demo's `det_score_thr`: score > thr)
    and how many were dropped; a time whose boxes all drop stays, with none."""
    entries, dropped = [], 0
    for entry in boxes.entries:
        keep = entry.scores > threshold
        dropped += int((~keep).sum())
        labels = [labels for labels, kept in zip(entry.labels, keep) if kept]
        entries.append(BoxesAt(entry.boxes[keep], entry.scores[keep], labels))
    return TimedBoxes(boxes.positions, entries, boxes.source), dropped


def read_boxes_csv(path, *, fps: float, size: tuple[int, int]) -> TimedBoxes:
    """`--boxes` CSV -> TimedBoxes for a video of `size` (width, height) at `fps`."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as file:
            rows = [
                (number, row)
                for number, row in enumerate(csv.reader(file), start=1)
                if row and not row[0].strip().startswith("#")
            ]
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the boxes CSV ({error})") from None
    unit = "frame"
    if rows and rows[0][1][0].strip().lower() in ("frame", "seconds"):
        unit = rows.pop(0)[1][0].strip().lower()
    parsed = [_parse_box_row(row, f"{path}:{number}") for number, row in rows]
    if not parsed:
        raise InputError(f"{path}: no boxes")
    coordinates = np.array([box for _, box, _ in parsed])
    scale = 1.0 if coordinates.min() >= 0 and coordinates.max() <= 1 else np.array([*size, *size])
    grouped: dict[float, list] = {}
    for (number, _), (when, box, score) in zip(rows, parsed):
        box = np.asarray(box) / scale
        if box.min() < 0 or box[2] > 1 or box[3] > 1:
            pixels = [round(float(v), 2) for v in box * np.array([*size, *size])]
            raise InputError(f"{path}:{number}: box {pixels} lies outside the {size[0]}x{size[1]} frame")
        position = when * fps if unit == "seconds" else when
        grouped.setdefault(position, []).append((box, score))
    positions = np.array(sorted(grouped), dtype=np.float64)
    entries = [
        BoxesAt(np.array([b for b, _ in grouped[p]]), np.array([s for _, s in grouped[p]])) for p in positions
    ]
    return TimedBoxes(positions, entries, str(path))


def _parse_box_row(row: list[str], where: str):
    if len(row) not in (5, 6):
        raise InputError(f"{where}: expected frame_or_seconds,x1,y1,x2,y2[,score], got {len(row)} columns")
    try:
        values = [float(value) for value in row]
    except ValueError as error:
        raise InputError(f"{where}: {error}") from None
    when, box = values[0], values[1:5]
    score = values[5] if len(row) == 6 else 1.0
    if not np.isfinite(values).all() or when < 0:
        raise InputError(f"{where}: values must be finite and the time >= 0")
    if box[2] <= box[0] or box[3] <= box[1]:
        raise InputError(f"{where}: box {box} needs x2 > x1 and y2 > y1")
    return when, box, score


def split_boxes(
    files, video: str, *, dataset: str, fps: float, num_classes: int, ground_truth: bool, columns=None
) -> TimedBoxes | None:
    """The proposals (or, with `ground_truth`, the annotations) of `video` in a split's files,
    or None when the split does not list the video. `columns`: `--classes` of the checkpoint.

    Positions: AVA second s is frame (s - 900) x fps of a video cut at 900 s (as extracted frames
    are); MultiSports frame number f (1-based) is frame f - 1.
    """

    def position(timestamp: int) -> float:
        return (timestamp - 900) * fps if dataset != "multisports" else timestamp - 1

    if ground_truth:
        keyframes = read_annotations(files.annotations, num_classes, columns)
        return keyframe_boxes(keyframes, video, position, str(files.annotations))
    prefix = f"{video},"
    proposals = {
        key: value for key, value in read_proposals(files.proposals).items() if key.startswith(prefix)
    }
    try:
        timed = sorted((int(key[len(prefix) :]), value) for key, value in proposals.items())
    except ValueError:
        raise DataError(f"{files.proposals}: a key of {video!r} has no integer timestamp") from None
    return proposal_boxes(timed, position, str(files.proposals))


def keyframe_boxes(keyframes, video: str, position, source: str) -> TimedBoxes | None:
    """The annotated boxes of `video`'s keyframes at `position(timestamp)`, labels as head
    columns; None when no keyframe is of `video`."""
    keyframes = sorted((k for k in keyframes if k.video == video), key=lambda k: k.timestamp)
    if not keyframes:
        return None
    entries = [
        BoxesAt(k.boxes, np.ones(len(k.boxes)), [list(np.flatnonzero(row)) for row in k.labels])
        for k in keyframes
    ]
    return TimedBoxes(np.array([position(k.timestamp) for k in keyframes], np.float64), entries, source)


def proposal_boxes(timed, position, source: str) -> TimedBoxes | None:
    """(timestamp, proposals [N, 5] or None) pairs in time order as TimedBoxes at
    `position(timestamp)`, filtered as the reference filters proposals (`select_proposals`);
    None when there are none."""
    if not timed:
        return None
    entries = [BoxesAt(*select_proposals(value)) for _, value in timed]
    return TimedBoxes(np.array([position(t) for t, _ in timed], np.float64), entries, source)


def dataset_boxes(spec, split: str, video: str, *, ground_truth: bool) -> TimedBoxes | None:
    """`split_boxes` for a dataset file's split: its proposals (the annotated boxes when it has
    none) or annotations; a keyframe at second t is frame (t - timestamp_start) x fps, a tube
    frame f is frame f - 1. None when the split does not have `video`."""
    frames = clip_source(spec)
    keyframes = read_keyframes(spec, split, frames)

    def position(timestamp) -> float:
        if spec.format == "tubes":
            return timestamp - 1
        return (timestamp - spec.timestamp_start) * spec.fps

    files = spec.splits.get(split)
    if ground_truth or files is None or files.proposals is None:
        source = str(spec.gt_file if spec.format == "tubes" else files.annotations)
        return keyframe_boxes(keyframes, video, position, source)
    proposals = read_split_proposals(spec, split, keyframes, frames)
    timed = sorted(
        ((k.timestamp, proposals.get(k.img_key)) for k in keyframes if k.video == video), key=lambda t: t[0]
    )
    return proposal_boxes(timed, position, str(files.proposals))
