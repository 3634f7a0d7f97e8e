"""JPEG frame folders: counting frames, and decoding a clip as the reference does (or faster).

Faithful (the default): every distinct frame is decoded in full by OpenCV (`cv2.imdecode` with
`IMREAD_COLOR`, mmcv's `imfrombytes`), then `resize_crop_flip` makes the reference's pixels.
Fast (`PipelineConfig.fast_decode`): Pillow decodes JPEGs at a reduced DCT scale and resizes
only the crop: up to 1.4x faster at 720p (OpenCV's full decode is about as fast as Pillow's
half-size one) and tens of grey levels off the reference's pixels at edges.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .clip_geometry import ClipGeometry
from .errors import DataError
from .planar_clip import channels_first
from .resize_crop_flip import resize_crop_flip

GeometryRule = Callable[[int, int], ClipGeometry]  # (width, height) -> what to make of the clip


def _read_bgr(path: Path) -> np.ndarray:
    """One frame as mmcv's cv2 backend decodes it: uint8 [H, W, 3] BGR (grey and CMYK JPEGs are
    converted by OpenCV, EXIF orientation applied). Unreadable files raise a `DataError`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: frame file is missing") from None
    except OSError as error:
        raise DataError(f"{path}: unreadable frame ({error.strerror})") from None
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if frame is None:  # OpenCV returns None for unknown formats and truncated JPEGs
        raise DataError(f"{path}: unreadable frame (OpenCV cannot decode it: corrupt or truncated)")
    return frame


def _decode_faithful(paths: list[Path], geometry_rule: GeometryRule | None):
    """`decode_clip` on the faithful path: BGR decode, reference resize, RGB planes last."""
    position = {path: index for index, path in enumerate(dict.fromkeys(paths))}
    frames = [_read_bgr(path) for path in position]
    _check_same_size(paths, [frame.shape for frame in frames])
    height, width = frames[0].shape[:2]
    geometry = None if geometry_rule is None else geometry_rule(width, height)
    if geometry is not None:
        frames = resize_crop_flip(frames, geometry)
    planes = channels_first([frames[position[path]] for path in paths], reverse_channels=True)
    return planes.transpose(1, 2, 3, 0), (height, width), geometry


@contextmanager
def _opened(path: Path):
    """`PIL.Image.open(path)` whose failures become one-line `DataError`s naming the file."""
    try:
        with Image.open(path) as image:
            yield image
    except FileNotFoundError:
        raise DataError(f"{path}: frame file is missing") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise DataError(f"{path}: unreadable frame ({error})") from None


def _open_rgb_fast(path: Path, geometry: ClipGeometry | None) -> np.ndarray:
    """Pillow decode of one frame to RGB uint8 [h, w, 3], resized, cropped and flipped as
    `geometry` says: the JPEG decoder works at 1/2..1/8 scale while the frame stays >= the resized
    size, and the crop is cut while resizing (PIL `resize(box=...)`), so only output pixels are
    interpolated at the positions of resizing the whole frame, then cropping.
    """
    with _opened(path) as image:
        if geometry is None:
            return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        box = geometry.source_box
        if image.format == "JPEG":
            full_w, full_h = image.size
            image.draft("RGB", geometry.resized)
            rx, ry = image.size[0] / full_w, image.size[1] / full_h
            box = (box[0] * rx, box[1] * ry, box[2] * rx, box[3] * ry)
        if image.mode != "RGB":
            image = image.convert("RGB")
        if image.size != geometry.output_size or box != (0, 0, *image.size):
            image = image.resize(geometry.output_size, Image.BILINEAR, box=box)
        frame = np.asarray(image)
        return cv2.flip(frame, 1) if geometry.flipped else frame


def _decode_fast(paths: list[Path], geometry_rule: GeometryRule | None):
    """`decode_clip` on the fast path (Pillow, reduced-scale JPEG decoding, crop while resizing)."""
    with _opened(paths[0]) as image:
        width, height = image.size
    geometry = None if geometry_rule is None else geometry_rule(width, height)
    decoded: dict[Path, np.ndarray] = {}
    for path in paths:
        if path not in decoded:
            decoded[path] = _open_rgb_fast(path, geometry)
    _check_same_size(paths, [frame.shape for frame in decoded.values()])
    planes = channels_first([decoded[path] for path in paths])
    return planes.transpose(1, 2, 3, 0), (height, width), geometry


def _check_same_size(paths: list[Path], shapes: list[tuple]) -> None:
    if len(set(shapes)) != 1:
        raise DataError(f"{paths[0].parent}: frames of one clip differ in size {sorted(set(shapes))}")


def decode_clip(
    paths: list[Path], geometry_rule: GeometryRule | None = None, *, fast: bool = False
) -> tuple[np.ndarray, tuple[int, int], ClipGeometry | None]:
    """Decodes frames -> (uint8 [T, h, w, 3] RGB, original (height, width), geometry used).

    The geometry is `geometry_rule(width, height)` of the first frame (None: frames as stored);
    every frame is resized, cropped and flipped by it. A path repeated in `paths` is decoded
    once. `fast` selects the Pillow path (see the module docstring); the default gives
    mmaction2's pixels exactly. The clip is a view of a contiguous planar `[3, T, h, w]` array
    (what the models read), so `clip.transpose(3, 0, 1, 2)` needs no copy.
    """
    return (_decode_fast if fast else _decode_faithful)(paths, geometry_rule)


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

    @property
    def root(self) -> Path:
        return self.frames

    def location(self, video: str) -> Path:
        return self.folder(video)

    def folder(self, video: str) -> Path:
        if self.suffix_to_strip and video.endswith(self.suffix_to_strip):
            video = video[: -len(self.suffix_to_strip)]
        return self.frames / video

    def has_video(self, video: str) -> bool:
        """True when the video's folder holds at least one `img_*.jpg` (stops at the first)."""
        try:
            with os.scandir(self.folder(video)) as entries:
                return any(e.name.startswith("img_") and e.name.endswith(".jpg") for e in entries)
        except OSError:
            return False

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

    def read_clip(
        self, video: str, indices: np.ndarray, geometry_rule: GeometryRule | None, *, fast: bool = False
    ):
        """(uint8 [T, h, w, 3] RGB clip, original (height, width), geometry, file numbers [T])
        of the sampled indices (clamped as `paths` does); `fast` as in `decode_clip`."""
        paths = self.paths(video, indices)
        clip, original, geometry = decode_clip(paths, geometry_rule, fast=fast)
        return clip, original, geometry, np.array([int(path.stem[4:]) for path in paths])
