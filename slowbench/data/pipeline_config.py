"""Clip sampling and augmentation settings of one dataset split."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class PipelineConfig:
    """What `build_dataset` does to frames after reading them.

    Train: random short side in `train_scale` (inclusive), random `crop_size` square crop,
    horizontal flip with probability 0.5 when `flip`. Test: short side `test_short_side`, no crop,
    no flip. Frames are decoded and resized exactly as mmaction2 does (OpenCV), unless
    `fast_decode`: Pillow then decodes JPEGs at 1/2, 1/4 or 1/8 scale when the target is at least
    that much smaller and resizes only the crop, up to 1.4x faster at 720p but tens of grey levels
    off the reference's pixels at edges (official checkpoints then no longer see their inputs).
    """

    clip_len: int
    frame_interval: int
    train_scale: tuple[int, int] = (256, 320)
    crop_size: int = 256
    test_short_side: int = 256
    flip: bool = True
    fast_decode: bool = False

    def __post_init__(self):
        if self.clip_len < 1 or self.frame_interval < 1:
            raise ValueError(
                f"PipelineConfig: clip_len ({self.clip_len}) and frame_interval "
                f"({self.frame_interval}) must be >= 1"
            )
        low, high = self.train_scale
        if not 0 < low <= high:
            raise ValueError(f"PipelineConfig: train_scale {self.train_scale} must be 0 < low <= high")
        # The short side bounds both sides from below, so low >= crop keeps every crop inside.
        if self.crop_size > low:
            raise ValueError(
                f"PipelineConfig: crop_size {self.crop_size} exceeds the smallest train short side {low}"
            )
        if self.test_short_side < 1:
            raise ValueError(f"PipelineConfig: test_short_side {self.test_short_side} must be >= 1")

    @classmethod
    def from_row(cls, row) -> PipelineConfig:
        """The reference pipeline of a model-zoo row: 256-320 rescale, 256 crop, flip; test 256."""
        return cls(clip_len=row.clip_len, frame_interval=row.frame_interval)

    @classmethod
    def for_synthetic(cls, row, *, short_side: int = 96) -> PipelineConfig:
        """The reference pipeline scaled to the small synthetic frames (short side `short_side`)."""
        return cls(
            clip_len=row.clip_len,
            frame_interval=row.frame_interval,
            train_scale=(short_side, short_side * 5 // 4),
            crop_size=short_side,
            test_short_side=short_side,
        )

    @classmethod
    def from_saved(cls, fields: dict) -> PipelineConfig:
        """The pipeline recorded in a checkpoint's meta (`dataclasses.asdict` of one).

        Checkpoints written before the OpenCV pipeline became the default name the Pillow path's
        switch `reduced_decode`; it is read as `fast_decode`. Unknown fields raise ValueError.
        """
        fields = dict(fields)
        if "reduced_decode" in fields:
            fields["fast_decode"] = bool(fields.pop("reduced_decode"))
        unknown = sorted(set(fields) - {field.name for field in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown pipeline field(s) {', '.join(unknown)}")
        if "train_scale" in fields:
            fields["train_scale"] = tuple(fields["train_scale"])
        return cls(**fields)

    def replace(self, **changes) -> PipelineConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
