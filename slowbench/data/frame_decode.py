"""JPEG frame folders: counting frames, and decoding a clip straight to its target size."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from .errors import DataError

SizeRule = Callable[[int, int], tuple[int, int]]  # (width, height) -> (new_width, new_height)


def _open_rgb(path: Path, size: tuple[int, int] | None, reduced: bool) -> np.ndarray:
    """Decodes one frame to RGB uint8 [h, w, 3], resized (bilinear) to `size` = (w, h) when given."""
    try:
        with Image.open(path) as image:
            if size is not None and reduced and image.format == "JPEG":
                # DCT-domain downscale by 1/2..1/8 while the result stays >= size: most of the win.
                image.draft("RGB", size)
            image = image.convert("RGB")
            if size is not None and image.size != tuple(size):
                image = image.resize(size, Image.BILINEAR)
            return np.asarray(image)
    except FileNotFoundError:
        raise DataError(f"{path}: frame file is missing") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise DataError(f"{path}: unreadable frame ({error})") from None


def frame_size(path: Path) -> tuple[int, int]:
    """(width, height) of a frame from its header, without decoding the pixels."""
    try:
        with Image.open(path) as image:
            return image.size
    except FileNotFoundError:
        raise DataError(f"{path}: frame file is missing") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise DataError(f"{path}: unreadable frame ({error})") from None


def decode_clip(paths: list[Path], size_rule: SizeRule | None = None, *,
                reduced: bool = True) -> tuple[np.ndarray, tuple[int, int]]:
    """Decodes frames -> (uint8 [T, h, w, 3] RGB, original (height, width)).

    The output size is `size_rule(width, height)` of the first frame (None keeps it); every
    frame is resized to it. A path repeated in `paths` is decoded once. `reduced` allows
    reduced-scale JPEG decoding (see `PipelineConfig.reduced_decode`).
    """
    width, height = frame_size(paths[0])
    size = None if size_rule is None else size_rule(width, height)
    if size == (width, height):
        size = None
    decoded: dict[Path, np.ndarray] = {}
    frames = []
    for path in paths:
        if path not in decoded:
            decoded[path] = _open_rgb(path, size, reduced)
        frames.append(decoded[path])
    shapes = {frame.shape for frame in frames}
    if len(shapes) != 1:
        raise DataError(f"{paths[0].parent}: frames of one clip differ in size {sorted(shapes)}")
    return np.stack(frames), (height, width)


class FrameFolders:
    """`<frames>/<video>/img_%05d.jpg` folders with lazily counted, cached frame numbers.

    `number_offset` maps a sampled frame index to the file number (0 for AVA, whose indices
    already include the start index; 1 for MultiSports, whose indices are 0-based video frames).
    """

    def __init__(self, frames: Path, *, number_offset: int = 0, suffix_to_strip: str = ""):
        self.frames = Path(frames)
        self.number_offset = number_offset
        self.suffix_to_strip = suffix_to_strip
        self._counts: dict[str, int] = {}

    def folder(self, video: str) -> Path:
        if self.suffix_to_strip and video.endswith(self.suffix_to_strip):
            video = video[:-len(self.suffix_to_strip)]
        return self.frames / video

    def has_video(self, video: str) -> bool:
        return self.folder(video).is_dir()

    def count(self, video: str) -> int:
        """Number of `img_*.jpg` files of the video (frames are numbered 1..count)."""
        if video not in self._counts:
            folder = self.folder(video)
            try:
                names = os.listdir(folder)
            except OSError as error:
                raise DataError(f"{folder}: cannot list frames ({error.strerror})") from None
            count = sum(name.startswith("img_") and name.endswith(".jpg") for name in names)
            if count == 0:
                raise DataError(f"{folder}: no img_*.jpg frames")
            self._counts[video] = count
        return self._counts[video]

    def paths(self, video: str, indices: np.ndarray) -> list[Path]:
        """File paths of sampled indices, clamped to the frames that exist (1..count).

        The reference clips indices only to the nominal shot (27000 frames for AVA); clamping to
        the extracted frames as well turns its FileNotFoundError near a clip end into edge repeats.
        """
        numbers = np.clip(np.asarray(indices) + self.number_offset, 1, self.count(video))
        folder = self.folder(video)
        return [folder / f"img_{int(number):05d}.jpg" for number in numbers]
