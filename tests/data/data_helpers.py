"""Shared helpers of the data tests: a duck-typed zoo row and frame-folder writers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Row:
    """The fields of a model-zoo row that the data package reads."""

    name: str
    dataset: str
    num_classes: int
    clip_len: int
    frame_interval: int


AVA_ROW = Row("test-ava21", "ava21", 81, 4, 16)
KINETICS_ROW = Row("test-ava-kinetics", "ava-kinetics", 81, 4, 16)
MULTISPORTS_ROW = Row("test-multisports", "multisports", 66, 4, 16)


def write_numbered_frames(folder: Path, count: int, size=(64, 48)) -> None:
    """`img_00001.jpg` .. : frame n is uniform grey level 2 n (mod 256), to check which frame
    landed where after decoding (JPEG keeps a flat image within +-1)."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, count + 1):
        level = (2 * number) % 256
        Image.new("RGB", size, (level, level, level)).save(folder / f"img_{number:05d}.jpg", quality=95)


def write_linked_frames(folder: Path, count: int, size) -> None:
    """`count` frame files that are hard links of one JPEG of `size` (w, h): fast large layouts."""
    folder.mkdir(parents=True, exist_ok=True)
    first = folder / "img_00001.jpg"
    Image.fromarray(np.full((size[1], size[0], 3), 100, np.uint8)).save(first)
    for number in range(2, count + 1):
        (folder / f"img_{number:05d}.jpg").hardlink_to(first)
