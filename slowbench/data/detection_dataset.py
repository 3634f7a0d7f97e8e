"""One split of an AVA / AVA-Kinetics / MultiSports style dataset as a torch Dataset of clips."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from eval.ignored import ignoring_message

from .annotations import Keyframe, select_proposals
from .clip_geometry import ClipGeometry, inference_geometry, train_geometry
from .dataset_files import DatasetFiles
from .errors import DataError, DataWarning
from .frame_sampling import sample_frame_indices
from .pipeline_config import PipelineConfig


class DetectionDataset(torch.utils.data.Dataset):
    """Annotated frames -> dicts with `clip` uint8 [3, T, H, W] RGB, `proposals` float32 [n, 4],
    `gt_boxes` float32 [m, 4] (pixels of the returned clip), `gt_labels` float32 [m, C], `meta`.

    `meta`: video, timestamp, img_key, img_shape (h, w) of the clip, original_shape (h, w),
    scale_factor (sx, sy), crop (x, y, w, h) in the resized frame, flipped, frame_inds [T] (file
    numbers read; for a video, index + 1, the number of the same frame once extracted),
    proposals_normalized float64 [n, 4] and proposal_scores [n] (for mapping
    predictions back: at test time boxes / (w, h, w, h) of img_shape are normalised), entity_ids,
    plus `timeline.extra_meta(keyframe)` (MultiSports: video_index, frame, resolution).
    `timeline` is one of `slowbench.data.timelines` (frame indexing rules of the dataset);
    `frames` a clip source: `FrameFolders`, `VideoFiles` or `VideoOrFrames`.
    """

    def __init__(
        self,
        keyframes: list[Keyframe],
        *,
        frames,
        proposals: dict[str, np.ndarray],
        timeline,
        pipeline: PipelineConfig,
        test_mode: bool,
        num_classes: int,
        source: str,
        files: DatasetFiles | None = None,
    ):
        self.files = files  # where the split came from (the evaluator reads gt / label map there)
        self.frames = frames
        self.proposals = proposals
        self.timeline = timeline
        self.pipeline = pipeline
        self.test_mode = test_mode
        self.num_classes = num_classes
        self.keyframes = _keep_videos_with_frames(keyframes, frames, source)
        _warn_about_proposals(self.keyframes, proposals, timeline, files.proposals if files else "proposals")

    def __len__(self) -> int:
        return len(self.keyframes)

    def frame_indices(self, keyframe: Keyframe) -> np.ndarray:
        """The sampled indices [T] of a keyframe (jittered unless `test_mode`)."""
        return sample_frame_indices(
            timestamp=keyframe.timestamp,
            timestamp_start=self.timeline.timestamp_start(keyframe.video),
            fps=self.timeline.fps,
            start_index=self.timeline.start_index,
            clip_len=self.pipeline.clip_len,
            frame_interval=self.pipeline.frame_interval,
            shot=self.timeline.shot(keyframe.video),
            jitter=not self.test_mode,
        )

    def geometry(self, width: int, height: int) -> ClipGeometry:
        cfg = self.pipeline
        if self.test_mode:
            return inference_geometry(width, height, short_side=cfg.test_short_side)
        return train_geometry(
            width, height, scale_range=cfg.train_scale, crop_size=cfg.crop_size, flip=cfg.flip
        )

    def __getitem__(self, index: int) -> dict:
        keyframe = self.keyframes[index]
        frames, (height, width), geometry, numbers = self.frames.read_clip(
            keyframe.video, self.frame_indices(keyframe), self.geometry, fast=self.pipeline.fast_decode
        )
        clip = torch.from_numpy(np.ascontiguousarray(frames.transpose(3, 0, 1, 2)))  # no copy
        proposals, scores = select_proposals(
            self.proposals.get(self.timeline.proposal_key(keyframe.video, keyframe.timestamp))
        )
        meta = {
            "video": keyframe.video,
            "timestamp": keyframe.timestamp,
            "img_key": keyframe.img_key,
            "img_shape": tuple(clip.shape[2:]),
            "original_shape": (height, width),
            "scale_factor": geometry.scale_factor,
            "crop": geometry.crop,
            "flipped": geometry.flipped,
            "frame_inds": numbers,
            "proposals_normalized": proposals,
            "proposal_scores": scores,
            "entity_ids": list(keyframe.entity_ids),
        }
        meta.update(self.timeline.extra_meta(keyframe))
        return {
            "clip": clip,
            "proposals": torch.from_numpy(geometry.map_boxes(proposals)),
            "gt_boxes": torch.from_numpy(geometry.map_boxes(keyframe.boxes)),
            "gt_labels": torch.from_numpy(keyframe.labels.copy()),
            "meta": meta,
        }


def _keep_videos_with_frames(keyframes: list[Keyframe], frames, source: str) -> list[Keyframe]:
    """Drops keyframes whose video has no frames (no video file, no folder, or no img_*.jpg in
    it), with one counted warning.

    Real downloads often miss a few videos; training on the rest is the reference practice.
    An empty result is an error naming the annotation file.
    """
    if not keyframes:
        raise DataError(f"{source}: the split has no annotated frames (after exclusions)")
    present = {video: frames.has_video(video) for video in {k.video for k in keyframes}}
    kept = [keyframe for keyframe in keyframes if present[keyframe.video]]
    missing = sorted(video for video, ok in present.items() if not ok)
    if not kept:
        raise DataError(
            f"{source}: none of its {len(present)} videos has frames under "
            f"{frames.root} (e.g. {frames.location(missing[0])})"
        )
    if missing:
        warnings.warn(
            f"{source}: skipped {len(keyframes) - len(kept)} of {len(keyframes)} annotated frames "
            f"because {len(missing)} of {len(present)} videos have no frames under "
            f"{frames.root} (first: {missing[0]})",
            DataWarning,
            stacklevel=3,
        )
    return kept


def _warn_about_proposals(keyframes: list[Keyframe], proposals: dict, timeline, where) -> None:
    """One counted warning for annotated frames without proposals (their whole frame stands in,
    the reference's rule: often a sign of keys written another way, e.g. `vid,902` for
    `vid,0902`) and one for proposals of frames that are not annotated (read, never used)."""
    keys = [timeline.proposal_key(k.video, k.timestamp) for k in keyframes]
    missing = [key for key in keys if len(proposals.get(key, ())) == 0]
    if missing:
        warnings.warn(
            f"{where}: no proposals for annotated frames: {len(missing)} of {len(keys)}, whose whole "
            f"frame stands in (the reference's rule) (first: {missing[0]})",
            DataWarning,
            stacklevel=3,
        )
    unused = proposals.keys() - set(keys)
    if unused:
        warnings.warn(
            ignoring_message(where, "proposals of frames without annotations", len(unused), min(unused)),
            DataWarning,
            stacklevel=3,
        )
