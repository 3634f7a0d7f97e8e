"""A split of a dataset file (`DatasetSpec`) as a `DetectionDataset`: its keyframes, proposals and
clip source.

Keyframes format: the CSV rows (`eval.ava.read_gt_rows`), every label id in `labels`, boxes in
[0, 1] or (`boxes = "pixels"`) divided by each video's frame size, rows of labels outside
`classes` dropped (mmaction2's `custom_classes`), excluded keyframes dropped. Tubes format: every
annotated frame of the gt tubes of the split's videos (as MultiSports' CSVs list them), boxes
divided by the pickle's `resolution`. Proposals: the split's pickle (keys `video,TTTT` as AVA's,
`video,FFFF` with the 1-based frame number for tubes), or the annotated boxes with score 1.
"""

from __future__ import annotations

import numpy as np

from eval.ava.io import read_exclusions, read_gt_rows
from eval.multisports.io import check_tube

from .annotations import Keyframe, keyframes_from_rows, read_proposals
from .build import without_excluded
from .dataset_file import DatasetSpec
from .detection_dataset import DetectionDataset
from .errors import DataError
from .frame_template import FrameTemplate, VideoTemplate
from .pipeline_config import PipelineConfig
from .timelines import MultiSportsTimeline, SecondsTimeline

_BOX = ("x1", "y1", "x2", "y2")


def clip_source(spec: DatasetSpec) -> FrameTemplate | VideoTemplate:
    """The frames or videos the dataset file names."""
    return FrameTemplate(spec.frames) if spec.frames else VideoTemplate(spec.videos)


def split_videos(spec: DatasetSpec, split: str) -> list[str]:
    """Tubes: the split's video list of the gt pickle (`train_videos` / `test_videos`)."""
    return list(spec.gt["train_videos" if split == "train" else "test_videos"][0])


def load_dataset_split(
    spec: DatasetSpec, split: str, pipeline: PipelineConfig, *, test_mode: bool | None = None
) -> DetectionDataset:
    """The `split` ("train" / "val") of the dataset file; `test_mode` defaults to split != "train"."""
    frames = clip_source(spec)
    keyframes = read_keyframes(spec, split, frames)
    if spec.format == "tubes":
        timeline = MultiSportsTimeline(frames, spec.gt, split)
        source = str(spec.gt_file)
    else:
        timeline = SecondsTimeline(frames, fps=spec.fps, timestamp_start=spec.timestamp_start)
        source = str(spec.split(split).annotations)
    return DetectionDataset(
        keyframes,
        frames=frames,
        proposals=read_split_proposals(spec, split, keyframes, frames),
        timeline=timeline,
        pipeline=pipeline,
        test_mode=split != "train" if test_mode is None else test_mode,
        num_classes=spec.columns.width,
        source=source,
    )


def read_keyframes(spec: DatasetSpec, split: str, frames) -> list[Keyframe]:
    """The split's keyframes, boxes normalised, labels as head columns."""
    if spec.format == "tubes":
        return tube_keyframes(spec, split)
    files = spec.split(split)
    rows = read_keyframe_rows(spec, split, frames)
    keyframes = keyframes_from_rows(rows, spec.columns.width, files.annotations, spec.columns)
    if files.exclusions is not None:
        keyframes = without_excluded(keyframes, read_exclusions(files.exclusions), files.exclusions)
    return keyframes


def read_keyframe_rows(spec: DatasetSpec, split: str, frames) -> dict:
    """The split's CSV rows (`read_gt_rows` columns), checked against the dataset file, with boxes
    in [0, 1]; rows of videos that have no frames keep their boxes as given."""
    path = spec.split(split).annotations
    rows = read_gt_rows(path, unit_boxes=False)
    line, action, timestamp = rows["line"], rows["action"], rows["timestamp"]
    _first(
        path,
        line,
        (action >= 0) & ~np.isin(action, list(spec.labels)),
        lambda i: (f"label {action[i]} is not in the labels file {spec.labels_file}"),
    )
    _first(
        path,
        line,
        timestamp < spec.timestamp_start,
        lambda i: (
            f"timestamp {timestamp[i]:g} is before timestamp_start = {spec.timestamp_start:g} of {spec.path}"
        ),
    )
    fractional = np.flatnonzero(timestamp != np.floor(timestamp))
    if split == "val" and spec.protocol != "activitynet-2020" and fractional.size:
        raise DataError(
            f"{spec.path}: protocol: {spec.protocol!r} keys frames by whole seconds, but "
            f"{path}:{line[fractional[0]]} has the timestamp {timestamp[fractional[0]]:g}; "
            'set protocol = "activitynet-2020"'
        )
    checked = rows["action"] >= 0
    if spec.boxes == "pixels":
        divided, known = _divided(rows, rows["video"], frames)
        rows, checked = {**rows, **divided}, checked & known
        units = 'the video\'s frame size (boxes = "pixels")'
    else:
        units = f'[0, 1] (boxes = "normalized" in {spec.path}; boxes in pixels need boxes = "pixels")'
    outside = checked & ((np.minimum(rows["x1"], rows["y1"]) < 0) | (np.maximum(rows["x2"], rows["y2"]) > 1))
    _first(path, line, outside, lambda i: f"box outside {units}")
    return rows


def _first(path, lines: np.ndarray, bad: np.ndarray, problem) -> None:
    """A DataError `path:line: problem(row)` for the first bad row."""
    rows = np.flatnonzero(bad)
    if rows.size:
        raise DataError(f"{path}:{lines[rows[0]]}: {problem(rows[0])}")


def _divided(boxes: dict, videos: np.ndarray, frames) -> tuple[dict, np.ndarray]:
    """(the x1, y1, x2, y2 columns divided by the frame size of each row's video, bool [N]: the
    row's video has frames). A video without frames keeps its boxes as given: it is skipped
    later, with a warning."""
    scale = np.ones((len(videos), 4))
    known = np.zeros(len(videos), dtype=bool)
    for video in dict.fromkeys(videos.tolist()):
        if frames.has_video(video):
            rows = videos == video
            width, height = frames.frame_size(video)
            scale[rows], known[rows] = (width, height, width, height), True
    return {name: boxes[name] / scale[:, index] for index, name in enumerate(_BOX)}, known


def tube_keyframes(spec: DatasetSpec, split: str) -> list[Keyframe]:
    """Every annotated frame of the split's tubes of the evaluated labels (every `frame_step`-th of
    a tube: frames f with (f - 1) % step == 0), in video then frame order: boxes divided by the
    video's `resolution` (h, w); one box per distinct box with a multi-hot label (tubes of two labels
    on one box share it); entity ids number the tubes."""
    gt, columns, step = spec.gt, spec.columns, spec.split(split).frame_step
    keyframes = []
    for video in split_videos(spec, split):
        where = f"{spec.gt_file}: key 'gttubes'['{video}']"
        nframes = gt["nframes"].get(video)
        if not isinstance(nframes, (int, np.integer)) or video not in gt["resolution"]:
            raise DataError(
                f"{spec.gt_file}: video {video!r} of the {split} list has no 'nframes' or 'resolution'"
            )
        height, width = (float(v) for v in gt["resolution"][video])
        frames: dict[int, dict[tuple, list]] = {}
        entity = 0
        for label, tubes in gt["gttubes"].get(video, {}).items():
            column = int(columns.columns_of([label])[0])
            for number, tube in enumerate(tubes):
                check_tube(tube, 5, f"{where}[{label!r}][{number}]", int(nframes))
                entity += 1
                if column < 0:
                    continue
                for frame, *box in np.asarray(tube, dtype=np.float64).tolist():
                    if (int(frame) - 1) % step:
                        continue
                    box = tuple(np.array(box) / (width, height, width, height))
                    frames.setdefault(int(frame), {}).setdefault(box, [entity, []])[1].append(column)
        for frame in sorted(frames):
            boxes = frames[frame]
            labels = np.zeros((len(boxes), columns.width), dtype=np.float32)
            for index, (_, box_columns) in enumerate(boxes.values()):
                labels[index, box_columns] = 1.0
            keyframes.append(
                Keyframe(
                    video=video,
                    timestamp=frame,
                    boxes=np.array(list(boxes), dtype=np.float64).reshape(-1, 4),
                    labels=labels,
                    entity_ids=[entity for entity, _ in boxes.values()],
                )
            )
    return keyframes


def read_split_proposals(spec: DatasetSpec, split: str, keyframes: list[Keyframe], frames) -> dict:
    """`image key -> float [N, 5]` normalised proposals: the split's pickle (boxes divided by the
    frame size when `boxes = "pixels"`), or the keyframes' boxes with score 1."""
    path = spec.split(split).proposals if split in spec.splits else None
    if path is None:
        return {
            k.img_key: np.concatenate([k.boxes, np.ones((len(k.boxes), 1))], axis=1)
            for k in keyframes
            if len(k.boxes)
        }
    pixels = spec.boxes == "pixels" and spec.format == "keyframes"
    proposals = {}
    for key, value in read_proposals(path).items():
        video = key.rpartition(",")[0]
        if pixels:
            if not frames.has_video(video):  # skipped with its keyframes
                continue
            width, height = frames.frame_size(video)
            value = np.concatenate([value[:, :4] / (width, height, width, height), value[:, 4:]], axis=1)
        if value[:, :4].size and (value[:, :4].min() < 0 or value[:, :4].max() > 1):
            unit = (
                "the frame size"
                if pixels
                else '[0, 1] (boxes = "pixels" in the dataset file for pixel proposals)'
            )
            raise DataError(f"{path}: proposals of {key!r} lie outside {unit}")
        proposals[key] = value
    return proposals
