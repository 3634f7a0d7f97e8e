"""Geometry of the reference augmentations: rescale sizes, crop offsets, and the matching box maps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def rescale_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """(new_w, new_h) with the short side at `short_side`, aspect kept, mmcv's `int(x * s + 0.5)`."""
    scale = short_side / min(width, height)
    return int(width * scale + 0.5), int(height * scale + 0.5)


@dataclass(frozen=True)
class ClipGeometry:
    """How a clip of original size (w, h) became the returned one.

    Resize to `resized` = (w', h'), then crop `crop` = (x, y, w'', h'') from it, then optionally a
    horizontal flip. `random_crop`: the crop is a `RandomCrop` step (training), whose box clipping
    applies even when the crop spans the whole resized frame; at test time there is no crop step
    (`crop` is the whole frame, boxes are not clipped). Frames follow in `resize_crop_flip` (or
    the fast path of `frame_decode`), boxes with `map_boxes`.
    """

    original: tuple[int, int]
    resized: tuple[int, int]
    crop: tuple[int, int, int, int]
    flipped: bool
    random_crop: bool

    @property
    def scale_factor(self) -> tuple[float, float]:
        return self.resized[0] / self.original[0], self.resized[1] / self.original[1]

    def map_boxes(self, normalised: np.ndarray) -> np.ndarray:
        """Normalised boxes [n, 4] (any float dtype, as stored) -> float32 pixels of the returned clip.

        The reference's arithmetic: `normalised * (w, h, w, h)` in float64, rounded to float32
        once; times the float32 scale factors (w'/w, h'/h); a random crop subtracts its offset
        and clips x to [0, w''-1], y to [0, h''-1] (boxes are never dropped, so one cropped away
        becomes degenerate); a flip maps x1' = w'' - x2, x2' = w'' - x1. Each float32 step is
        correctly rounded, as numpy's are in the reference.
        """
        width, height = self.original
        pixels = np.asarray(normalised, dtype=np.float64).reshape(-1, 4) * np.array(
            [width, height, width, height], dtype=np.float64
        )
        sx, sy = self.scale_factor
        out = pixels.astype(np.float32) * np.array([sx, sy, sx, sy], dtype=np.float32)
        x, y, crop_w, crop_h = self.crop
        if self.random_crop:
            out -= np.array([x, y, x, y], dtype=np.float32)
            out[:, 0::2] = np.clip(out[:, 0::2], 0, crop_w - 1)
            out[:, 1::2] = np.clip(out[:, 1::2], 0, crop_h - 1)
        if self.flipped:
            out = np.stack([crop_w - out[:, 2], out[:, 1], crop_w - out[:, 0], out[:, 3]], axis=1)
        return out.astype(np.float32)

    @property
    def output_size(self) -> tuple[int, int]:
        """(width, height) of the returned clip."""
        return self.crop[2], self.crop[3]

    @property
    def source_box(self) -> tuple[float, float, float, float]:
        """The crop as a region (x1, y1, x2, y2) of the original frame."""
        sx, sy = self.scale_factor
        x, y, width, height = self.crop
        return x / sx, y / sy, (x + width) / sx, (y + height) / sy


def _randint(low: int, high: int) -> int:
    """Uniform integer in [low, high) from torch's RNG (seeded per DataLoader worker)."""
    return int(torch.randint(low, high, ()).item())


def train_geometry(
    width: int, height: int, *, scale_range: tuple[int, int], crop_size: int, flip: bool
) -> ClipGeometry:
    """RandomRescale(scale_range) -> RandomCrop(crop_size) -> Flip(0.5) as the reference draws them."""
    resized = rescale_size(width, height, _randint(scale_range[0], scale_range[1] + 1))
    offsets = [_randint(0, side - crop_size) if side > crop_size else 0 for side in resized]
    flipped = flip and _randint(0, 2) == 1
    return ClipGeometry(
        original=(width, height),
        resized=resized,
        crop=(offsets[0], offsets[1], crop_size, crop_size),
        flipped=flipped,
        random_crop=True,
    )


def inference_geometry(width: int, height: int, *, short_side: int) -> ClipGeometry:
    """Resize(short side `short_side`), no crop, no flip."""
    resized = rescale_size(width, height, short_side)
    return ClipGeometry(
        original=(width, height), resized=resized, crop=(0, 0, *resized), flipped=False, random_crop=False
    )
