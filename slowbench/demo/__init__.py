"""Spatio-temporal detection on a video, drawn on its frames (`python -m slowbench.demo`).

Keyframes every `predict_stepsize` frames (each with a whole clip of the row inside the video);
for each, the row's clip around it (frames `k + interval * (i - clip_len // 2)`, the dataset's
sampling) is resized to the test short side and scored on the keyframe's person boxes. Output
frames are taken every `output_stepsize` frames from each keyframe up to the next one and carry
that keyframe's boxes, so boxes persist until the next prediction (as in mmaction2's demo).
The video is decoded in one forward pass; only the frames still needed are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from tqdm import tqdm

from slowbench.data.clip_geometry import inference_geometry, rescale_size
from slowbench.data.resize_crop_flip import resize_crop_flip
from slowbench.data.video_reader import VideoReader
from slowbench.errors import DataError

from .boxes import TimedBoxes
from .render import Detection, Painter


@dataclass(frozen=True)
class DemoPlan:
    """Which frames the demo reads and writes. keyframes: int64 [K] (0-based frame indices);
    clip_offsets: [T] frame offsets of a clip from its keyframe; output_offsets: [D] offsets
    of the output frames that show a keyframe's detections."""

    keyframes: np.ndarray
    clip_offsets: np.ndarray
    output_offsets: np.ndarray
    n_frames: int

    def clip(self, keyframe: int) -> np.ndarray:
        return keyframe + self.clip_offsets

    def outputs(self, keyframe: int) -> np.ndarray:
        frames = keyframe + self.output_offsets
        return frames[frames < self.n_frames]


def plan_keyframes(
    n_frames: int,
    *,
    clip_len: int,
    frame_interval: int,
    predict_stepsize: int,
    output_stepsize: int,
    source: str,
) -> DemoPlan:
    """Keyframes from the first whose clip starts at frame 0, every `predict_stepsize` frames,
    while the clip ends inside the video. A video shorter than one clip is a `DataError`."""
    clip_offsets = frame_interval * (np.arange(clip_len) - clip_len // 2)
    first, last = -clip_offsets[0], n_frames - 1 - clip_offsets[-1]
    if last < first:
        raise DataError(
            f"{source}: {n_frames} frames, shorter than one clip of the row "
            f"({clip_len} x {frame_interval} = {clip_offsets[-1] - clip_offsets[0] + 1}"
            f" frames)"
        )
    return DemoPlan(
        keyframes=np.arange(first, last + 1, predict_stepsize, dtype=np.int64),
        clip_offsets=clip_offsets.astype(np.int64),
        output_offsets=np.arange(0, predict_stepsize, output_stepsize, dtype=np.int64),
        n_frames=n_frames,
    )


@dataclass
class DemoSettings:
    """How keyframes are scored and labelled. `label_columns`: the score columns whose labels may be
    drawn (actions named in the label map; AVA's column 0 is background); `names`: column -> label
    name; `max_gap`: how far (in frames) a keyframe may be from its boxes' time; `out_size`: (w, h)
    of the output frames; `label_ids`: column -> label id where they differ (`--classes`, dataset
    files)."""

    short_side: int
    action_thr: float
    topk: int
    label_columns: np.ndarray
    names: dict
    max_gap: float
    out_size: tuple[int, int]
    device: torch.device
    label_ids: dict = field(default_factory=dict)


def output_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """The output frame size: the video's, or rescaled to `short_side`; even (H.264's 4:2:0)."""
    if short_side is not None:
        width, height = rescale_size(width, height, short_side)
    return max(2, width - width % 2), max(2, height - height % 2)


def run_demo(
    detector,
    reader: VideoReader,
    plan: DemoPlan,
    boxes: TimedBoxes,
    ground_truth: TimedBoxes | None,
    settings: DemoSettings,
    detections: list,
    *,
    progress: bool = True,
) -> Iterator[np.ndarray]:
    """Yields the output frames (uint8 [h, w, 3] RGB, `settings.out_size`) and appends one dict
    per scored box to `detections` (see `score_keyframe`)."""
    last_use: dict[int, int] = {}
    for order, keyframe in enumerate(plan.keyframes):
        for index in (*plan.clip(keyframe), *plan.outputs(keyframe)):
            last_use[int(index)] = order
    ready_at = [int(max(plan.clip(k).max(), plan.outputs(k).max())) for k in plan.keyframes]
    painter = Painter(*settings.out_size)
    buffer: dict[int, np.ndarray] = {}
    order = 0
    with tqdm(total=len(plan.keyframes), desc="demo", unit="keyframe", disable=not progress) as bar:
        for index, frame in reader.iter_frames(min(last_use)):
            if index in last_use:
                buffer[index] = frame
            while order < len(plan.keyframes) and ready_at[order] <= index:
                keyframe = int(plan.keyframes[order])
                found = score_keyframe(
                    detector,
                    [buffer[int(i)] for i in plan.clip(keyframe)],
                    boxes.nearest(keyframe, settings.max_gap),
                    keyframe,
                    reader,
                    settings,
                )
                detections.extend(found)
                predicted = [
                    Detection(
                        np.asarray(d["box_normalised"]),
                        [f"{label['name']} {label['score']:.2f}" for label in d["labels"]],
                    )
                    for d in found
                ]
                truth = _ground_truth(ground_truth, keyframe, settings)
                for output in plan.outputs(keyframe):
                    yield painter.draw(_resized(buffer[int(output)], settings.out_size), predicted, truth)
                for used in [i for i in buffer if last_use[i] <= order]:
                    del buffer[used]
                order += 1
                bar.update(1)
            if order == len(plan.keyframes):
                return


@torch.no_grad()
def score_keyframe(
    detector, frames: list[np.ndarray], entry, keyframe: int, reader: VideoReader, settings: DemoSettings
) -> list[dict]:
    """The detector's scores for one keyframe's clip (full-resolution frames [T] of [H, W, 3])
    on its boxes -> one dict per box: frame, seconds, box (video pixels), box_normalised,
    box_score, scores (every column), labels (columns above the threshold, best first, at most
    `topk`: id, name, score)."""
    if entry is None or not len(entry.boxes):
        return []
    height, width = frames[0].shape[:2]
    geometry = inference_geometry(width, height, short_side=settings.short_side)
    clip = resize_crop_flip(frames, geometry)
    clip = torch.from_numpy(np.ascontiguousarray(clip.transpose(3, 0, 1, 2)))[None].float()
    new_w, new_h = geometry.resized
    proposals = torch.from_numpy((entry.boxes * np.array([new_w, new_h, new_w, new_h])).astype(np.float32))
    scores = detector.predict(clip.to(settings.device), [proposals.to(settings.device)])[0]
    scores = scores.float().cpu().numpy()
    seconds = float(reader.index.seconds[keyframe] - reader.index.seconds[0])
    found = []
    for box, box_score, row in zip(entry.boxes, entry.scores, scores):
        columns = settings.label_columns[np.argsort(-row[settings.label_columns], kind="stable")]
        chosen = [c for c in columns if row[c] > settings.action_thr][: settings.topk]
        found.append(
            {
                "frame": keyframe,
                "seconds": seconds,
                "box": (box * np.array([width, height, width, height])).tolist(),
                "box_normalised": box.tolist(),
                "box_score": float(box_score),
                "scores": row.tolist(),
                "labels": [
                    {
                        "id": settings.label_ids.get(int(c), int(c)),
                        "name": settings.names.get(int(c), f"class {c}"),
                        "score": float(row[c]),
                    }
                    for c in chosen
                ],
            }
        )
    return found


def _ground_truth(ground_truth: TimedBoxes | None, keyframe: int, settings: DemoSettings) -> list[Detection]:
    entry = None if ground_truth is None else ground_truth.nearest(keyframe, settings.max_gap)
    if entry is None:
        return []
    return [
        Detection(box, ["GT " + ", ".join(settings.names.get(int(c), f"class {c}") for c in labels)])
        for box, labels in zip(entry.boxes, entry.labels)
    ]


def _resized(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
