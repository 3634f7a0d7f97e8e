"""Everything a dataset file's data must satisfy, checked before any training: `check_dataset`.

Per split: the CSV rows or gt tubes as `dataset_split` reads them (labels, timestamps, boxes), the
frame template or video template against the first video, every video's length against its last
keyframe (and, given a row, that keyframe's whole clip), and the proposals. The first problem is
one `DataError` line naming the file and key (or line); what was read is returned as counts for
`python -m slowbench.data.check` to print.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .dataset_file import DatasetSpec
from .dataset_split import clip_source, read_keyframes, read_split_proposals, split_videos
from .errors import DataError


@dataclass
class SplitSummary:
    """What one split holds. `boxes_per_class`: label id -> boxes labelled with it (evaluated
    labels only); `missing_videos`: annotated videos without frames (skipped when training)."""

    name: str
    videos: int = 0
    frames: int = 0
    keyframes: int = 0
    boxes: int = 0
    tubes: int | None = None
    boxes_per_class: dict = field(default_factory=dict)
    missing_videos: list = field(default_factory=list)
    proposals: str = ""


def clip_reach(clip_len: int, frame_interval: int) -> int:
    """How many frames past its keyframe a row's (unjittered) clip reads: 16 for 4x16."""
    return (clip_len - 1 - clip_len // 2) * frame_interval


def check_dataset(
    spec: DatasetSpec, splits=None, *, clip: tuple[int, int] | None = None
) -> list[SplitSummary]:
    """Checks `splits` (default: those the file has) and returns their summaries. `clip`:
    (clip_len, frame_interval) of the row to train or test; without it only the keyframes
    themselves must lie inside their videos."""
    return [check_split(spec, name, clip) for name in (splits or list(spec.splits) or ["val"])]


def check_split(spec: DatasetSpec, name: str, clip: tuple[int, int] | None) -> SplitSummary:
    """Checks one split (see the module docstring) and counts what it holds."""
    frames = clip_source(spec)
    keyframes = read_keyframes(spec, name, frames)
    where = spec.gt_file if spec.format == "tubes" else spec.split(name).annotations
    if not keyframes:
        raise DataError(f"{where}: the {name} split has no annotated frames of the evaluated classes")
    _check_template(
        spec, frames, split_videos(spec, name)[0] if spec.format == "tubes" else keyframes[0].video, where
    )
    last = {}
    for keyframe in keyframes:
        last[keyframe.video] = max(last.get(keyframe.video, keyframe.timestamp), keyframe.timestamp)
    summary = SplitSummary(name, videos=len(last), keyframes=len(keyframes))
    summary.boxes = sum(len(keyframe.boxes) for keyframe in keyframes)
    labelled = np.sum([keyframe.labels.sum(axis=0) for keyframe in keyframes], axis=0)
    summary.boxes_per_class = dict(zip(spec.columns.ids, labelled[spec.columns.first :].astype(int).tolist()))
    for video, timestamp in last.items():
        if not frames.has_video(video):
            summary.missing_videos.append(video)
            continue
        count = frames.count(video)
        summary.frames += count
        _check_length(spec, where, video, timestamp, count, clip)
    if spec.format == "tubes":
        tubes = [spec.gt["gttubes"].get(video, {}) for video in split_videos(spec, name)]
        summary.tubes = sum(len(by_label.get(label, ())) for by_label in tubes for label in spec.columns.ids)
    files = spec.splits.get(name)
    summary.proposals = (
        str(files.proposals) if files is not None and files.proposals else "the annotated boxes"
    )
    read_split_proposals(spec, name, keyframes, frames)
    return summary


def _check_template(spec: DatasetSpec, frames, first: str, where) -> None:
    """The frame or video template must find the split's first video."""
    if not frames.has_video(first):
        key = "frames" if spec.frames else "videos"
        raise DataError(
            f"{spec.path}: {key}: {frames.template!r} matches no frame of {first!r}, the first "
            f"video of {where} (looked for {frames.location(first)})"
        )


def _check_length(spec: DatasetSpec, where, video: str, timestamp, count: int, clip) -> None:
    """A video must hold its last keyframe (tubes: all the pickle's `nframes`), and for keyframes
    the whole clip of the row around it."""
    if spec.format == "tubes":
        nframes = int(spec.gt["nframes"][video])
        if count < nframes:
            raise DataError(
                f"{spec.path}: {'frames' if spec.frames else 'videos'}: video {video!r} has {count} "
                f"frames, but {spec.gt_file} gives it {nframes} (nframes)"
            )
        return
    center = round((timestamp - spec.timestamp_start) * spec.fps)
    reach = clip_reach(*clip) if clip else 0
    if center + reach >= count:
        needs = f"frame {center + reach + 1}" + (f" ({clip[0]}x{clip[1]} clip)" if clip else "")
        raise DataError(
            f"{where}: video {video!r} has {count} frames, but its last keyframe at {timestamp:g} s "
            f"(frame {center + 1} at fps = {spec.fps:g}, timestamp_start = {spec.timestamp_start:g}) "
            f"needs {needs}: check fps and timestamp_start in {spec.path}, or drop that keyframe"
        )


def format_summary(spec: DatasetSpec, summaries: list[SplitSummary]) -> str:
    """The summary `python -m slowbench.data.check` prints: the settings, then one block per split."""
    source = spec.frames or spec.videos
    lines = [
        f"{spec.path}: format {spec.format}, "
        + (
            f"fps {spec.fps:g}, timestamp_start {spec.timestamp_start:g}, boxes {spec.boxes}, protocol {spec.protocol}, "
            if spec.format == "keyframes"
            else f"gt {spec.gt_file}, "
        )
        + f"{'frames' if spec.frames else 'videos'} {source}",
        f"head: {spec.columns.width} columns"
        + (" (column 0: background)" if spec.columns.first else "")
        + f", {len(spec.columns.ids)} of {len(spec.labels)} labels"
        + (f" (classes {list(spec.classes)})" if spec.classes else ""),
    ]
    for summary in summaries:
        found = summary.videos - len(summary.missing_videos)
        tubes = f", {summary.tubes} tubes" if summary.tubes is not None else ""
        lines.append(
            f"{summary.name}: {summary.videos} videos ({found} with frames, {summary.frames} frames), "
            f"{summary.keyframes} keyframes{tubes}, {summary.boxes} boxes; proposals: {summary.proposals}"
        )
        if summary.missing_videos:
            lines.append(
                f"  no frames (skipped): {', '.join(summary.missing_videos[:5])}"
                + (" ..." if len(summary.missing_videos) > 5 else "")
            )
        for label, count in summary.boxes_per_class.items():
            lines.append(f"  {label:>5} {spec.labels[label]}: {count} boxes")
    return "\n".join(lines)
