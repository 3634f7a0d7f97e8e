"""`build_dataset`: a model-zoo row's split in its reference layout -> a `DetectionDataset`."""

from __future__ import annotations

import warnings
from pathlib import Path

from eval import safe_pickle
from eval.ava.io import read_exclusions
from eval.ignored import ignoring_message

from .annotations import read_annotations, read_proposals
from .dataset_files import DatasetFiles, check_split, dataset_files
from .detection_dataset import DetectionDataset
from .errors import DataError, DataWarning
from .frame_decode import FrameFolders
from .label_columns import LabelColumns
from .pipeline_config import PipelineConfig
from .timelines import AvaTimeline, KineticsTimeline, MultiSportsTimeline
from .video_files import VideoFiles, VideoOrFrames


def _check_normalised(proposals: dict, path: Path) -> None:
    for key, value in proposals.items():
        boxes = value[:, :4]
        if boxes.size and (boxes.min() < 0 or boxes.max() > 1):
            raise DataError(f"{path}: proposals of {key!r} are not normalised to [0, 1]")


def without_excluded(keyframes: list, excluded: set, path: Path) -> list:
    """The keyframes not on an excluded (video, timestamp), with one counted warning for the rest."""
    kept = [k for k in keyframes if (k.video, k.timestamp) not in excluded]
    dropped = [k.img_key for k in keyframes if (k.video, k.timestamp) in excluded]
    if dropped:
        warnings.warn(
            ignoring_message(path, "annotated frames on excluded timestamps", len(dropped), dropped[0]),
            DataWarning,
            stacklevel=3,
        )
    return kept


def read_multisports_gt(path) -> dict:
    """The MultiSports GT pickle (restricted unpickler), checked for the keys the data needs."""
    gt = safe_pickle.load(path)
    if not isinstance(gt, dict) or not {"nframes", "resolution"} <= gt.keys():
        raise DataError(f"{path}: not a MultiSports GT dict (needs 'nframes' and 'resolution')")
    return gt


def load_split(
    files: DatasetFiles,
    *,
    dataset: str,
    split: str,
    num_classes: int,
    pipeline: PipelineConfig,
    test_mode: bool,
    columns: LabelColumns | None = None,
) -> DetectionDataset:
    """A split from explicit file paths (`build_dataset` uses the reference names).

    AVA: exclusions (when the file exists) drop annotated frames; AVA v2.x proposals must be
    normalised. MultiSports: per video, the mp4 file when present, else 1-based JPEG files; the
    GT pickle is optional here. `columns` (`--classes`): only those labels, as head columns
    (`read_annotations`); `num_classes` is then `columns.width`.
    """
    check_split(split)
    for path in (files.annotations, files.proposals):
        if not path.is_file():
            raise DataError(f"{path}: missing {dataset} {split} file")
    if not files.has_frames():
        videos = "" if files.videos is None else f" (or videos folder {files.videos})"
        raise DataError(f"{files.frames}: missing frames folder{videos}")
    keyframes = read_annotations(files.annotations, num_classes, columns)
    if files.exclusions is not None and files.exclusions.is_file():
        keyframes = without_excluded(keyframes, read_exclusions(files.exclusions), files.exclusions)
    proposals = read_proposals(files.proposals)
    if dataset in ("ava21", "ava22"):
        _check_normalised(proposals, files.proposals)
        frames, timeline = FrameFolders(files.frames), AvaTimeline(start_index=1)
    elif dataset == "ava-kinetics":
        # Kinetics clips as videos (0-based frames, as the reference's Decord reads them), AVA
        # movies as frame folders.
        frames, timeline = FrameFolders(files.frames), KineticsTimeline()
        if files.videos is not None:
            frames = VideoOrFrames(VideoFiles(files.videos, suffix=".mp4"), frames)
    elif dataset == "multisports":
        frames = FrameFolders(files.frames, number_offset=1, suffix_to_strip=".mp4")
        if files.videos is not None:
            frames = VideoOrFrames(VideoFiles(files.videos, suffix=".mp4"), frames)
        gt = None
        if files.gt_pickle is not None and files.gt_pickle.is_file():
            gt = read_multisports_gt(files.gt_pickle)
        timeline = MultiSportsTimeline(frames, gt, split)
    else:
        raise ValueError(f"unknown dataset {dataset!r}")
    return DetectionDataset(
        keyframes,
        frames=frames,
        proposals=proposals,
        timeline=timeline,
        pipeline=pipeline,
        test_mode=test_mode,
        num_classes=num_classes,
        source=str(files.annotations),
        files=files,
    )


def build_dataset(
    row,
    data_root,
    split: str,
    pipeline: PipelineConfig | None = None,
    *,
    test_mode: bool | None = None,
    columns: LabelColumns | None = None,
) -> DetectionDataset:
    """The `split` ("train"/"val") of `row.dataset` under `data_root` in the reference layout.

    `pipeline` defaults to `PipelineConfig.from_row(row)`; `test_mode` defaults to split != "train"
    (test mode: no frame jitter, short-side resize only); `columns` as in `load_split`.
    """
    pipeline = pipeline or PipelineConfig.from_row(row)
    return load_split(
        dataset_files(row, data_root, split),
        dataset=row.dataset,
        split=split,
        num_classes=row.num_classes,
        pipeline=pipeline,
        test_mode=split != "train" if test_mode is None else test_mode,
        columns=columns,
    )
