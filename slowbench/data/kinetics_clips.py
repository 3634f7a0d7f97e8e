"""The Kinetics part of AVA-Kinetics: its annotation release, the Kinetics-700 videos it needs and
the clips cut from them (mmaction2 `tools/data/ava_kinetics`: `cut_kinetics.py`,
`prepare_annotation.py`).

A Kinetics video `<youtube_id>_<start:06d>_<end:06d>.mp4` holds seconds [start, end) of a YouTube
video. Its annotated keyframes (seconds of the YouTube video, strictly inside the window) are cut
to the clip [max(start, first - 2), min(end, last + 2)] (first / last keyframe, rounded outwards
to whole seconds), re-timed to 30 fps with the frames of the reference's
`ffmpeg -ss S -t D -accurate_seek -i V -r 30 -avoid_negative_ts 1 OUT.mp4` (`ffmpeg_rate`); clip frame
k shows about YouTube second clip_start + k / 30, so the keyframe t is clip frame 30 (t -
clip_start), 0-based, as the reference's AVA-Kinetics dataset reads it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from eval.ava.io import read_gt_rows

from .ffmpeg_rate import rate_sources
from .video_reader import VideoIndex, VideoReader
from .video_writer import FFMPEG_DEFAULT_X264, encode_frames

CLIP_FPS = 30
CONTEXT_S = 2  # seconds kept on each side of the first / last keyframe
EVEN_FORMATS = ("yuv420p", "yuvj420p")  # what libx264 takes from a decoder unconverted


@dataclass(frozen=True)
class ReleaseRow:
    """One line of `kinetics_{train,val}_v1.0.csv`: `youtube_id,seconds[,x1,y1,x2,y2,label[,..]]`.

    `fields` are the line's columns as written; a 2-column line is a keyframe without actions.
    """

    youtube_id: str
    seconds: int | float
    fields: tuple
    line: int

    @property
    def is_empty(self) -> bool:
        return len(self.fields) == 2


def read_release_csv(path) -> list[ReleaseRow]:
    """The rows of an AVA-Kinetics release CSV, read and checked by `eval.ava.read_gt_rows` (a
    malformed line is one error naming it), each with its columns as written."""
    rows = read_gt_rows(path)
    texts = Path(path).read_text(encoding="utf-8").split("\n")  # numbered as read_gt_rows numbers them
    release = []
    for video, seconds, line in zip(
        rows["video"].tolist(), rows["timestamp"].tolist(), rows["line"].tolist()
    ):
        fields = tuple(value.strip() for value in texts[line - 1].split(","))
        release.append(ReleaseRow(video, int(seconds) if seconds.is_integer() else seconds, fields, line))
    return release


@dataclass(frozen=True)
class SourceVideo:
    """A Kinetics-700 video file and the YouTube seconds [start, end) its name says it holds."""

    path: Path
    youtube_id: str
    start: int
    end: int


def find_kinetics_videos(folder) -> dict[str, list[SourceVideo]]:
    """`<youtube_id>_<start>_<end>.mp4` files anywhere under `folder` (Kinetics lists keep them in
    class sub-folders), by YouTube id, each id's videos sorted by start. Other files are skipped."""
    videos: dict[str, list[SourceVideo]] = {}
    for root, _, names in os.walk(folder):
        for name in names:
            stem, suffix = os.path.splitext(name)
            parts = stem.rsplit("_", 2)
            if suffix != ".mp4" or len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
                continue
            video = SourceVideo(Path(root) / name, parts[0], int(parts[1]), int(parts[2]))
            videos.setdefault(video.youtube_id, []).append(video)
    for found in videos.values():
        found.sort(key=lambda video: (video.start, video.end, str(video.path)))
    return videos


@dataclass
class ClipPlan:
    """A clip to cut: YouTube seconds [start, end] of `source`, holding `keyframes` (seconds)."""

    source: SourceVideo
    start: int
    end: int
    keyframes: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.source.youtube_id}_{self.start:06d}_{self.end:06d}"


def plan_clips(keyframes: dict[str, set], videos: dict[str, list[SourceVideo]]):
    """Assigns every keyframe (youtube id -> seconds) to the first video whose window holds it
    strictly inside, as the reference does -> (plans by (youtube id, seconds), ids without any
    video, (youtube id, seconds) outside every video of that id)."""
    plans, missing, outside = {}, [], []
    for youtube_id, seconds in sorted(keyframes.items()):
        candidates = videos.get(youtube_id)
        if not candidates:
            missing.append(youtube_id)
            continue
        per_video: dict[int, list] = {}
        for second in sorted(seconds):
            index = next((i for i, video in enumerate(candidates) if video.start < second < video.end), None)
            if index is None:
                outside.append((youtube_id, second))
            else:
                per_video.setdefault(index, []).append(second)
        for index, held in per_video.items():
            video = candidates[index]
            plan = ClipPlan(
                video,
                max(video.start, math.floor(min(held)) - CONTEXT_S),
                min(video.end, math.ceil(max(held)) + CONTEXT_S),
                held,
            )
            plans.update({(youtube_id, second): plan for second in held})
    return plans, missing, outside


class ShortVideo(Exception):
    """The decoded video ends before one of the clip's keyframes."""


def cut_clip(plan: ClipPlan, out: Path) -> Path:
    """Writes `plan`'s clip as an H.264 mp4 at 30 fps, as the reference's ffmpeg cut does: its
    frames, fed to libx264 as decoded (no colour conversion) with the settings that command uses
    (x264's defaults: CRF 23, preset medium), on one encoder thread: x264's output depends on its
    thread count (the command's default is 1.5 per core, so its clips differ from machine to
    machine), and one thread makes every clip reproducible; the pixels equal the command's with
    `-threads 1`. No audio. Complete or absent (a temp file, then renamed); an existing `out` is
    kept. One clip is cut per process and core, so one thread wastes no core.

    A source that ends early gives a shorter clip; one that ends before a keyframe raises
    `ShortVideo`. Unreadable files raise `DataError` naming them.
    """
    if out.is_file():
        return out
    index = VideoIndex.read(plan.source.path)
    picks = source_frames(index, plan)
    out.parent.mkdir(parents=True, exist_ok=True)
    picked = VideoReader(plan.source.path, index).iter_picked(picks)
    frames = (frame for frame, copies in picked for _ in range(copies))
    encode_frames(
        out,
        (_encodable(frame) for frame in frames),
        CLIP_FPS,
        options=FFMPEG_DEFAULT_X264,
        threads=1,
    )
    return out


def source_frames(index: VideoIndex, plan: ClipPlan) -> np.ndarray:
    """Source frame index [K] of each 30 fps clip frame, as the reference's
    `ffmpeg -ss (plan.start - source start) -t (plan.end - plan.start) -i V -r 30` picks them. A
    source that ends before a keyframe raises `ShortVideo`."""
    seconds = index.seconds - index.seconds[0]
    duration = seconds[-1] + index.last_duration * float(index.time_base)
    late = max(plan.keyframes) - plan.source.start
    if late >= duration:
        raise ShortVideo(
            f"{plan.source.path}: {duration:.2f} s long, shorter than its annotated "
            f"window (keyframe at {late:g} s from its start)"
        )
    return rate_sources(
        index,
        Fraction(CLIP_FPS),
        start=plan.start - plan.source.start,
        duration=plan.end - plan.start,
    )


def _encodable(frame: av.VideoFrame) -> av.VideoFrame:
    """A decoded 4:2:0 frame of even size as it is; any other as yuv420p converted by swscale,
    with a copy of its last column or row where a size is odd (H.264 in 4:2:0 needs even sizes;
    boxes are normalised, so they move by under a pixel)."""
    if frame.format.name in EVEN_FORMATS and frame.width % 2 == 0 and frame.height % 2 == 0:
        return frame
    image = frame.to_ndarray(format="rgb24")
    height, width = image.shape[:2]
    padded = np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    return av.VideoFrame.from_ndarray(padded, format="rgb24").reformat(format="yuv420p")
