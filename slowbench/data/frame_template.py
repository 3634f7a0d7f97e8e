"""Clip sources named by a path template (a dataset file's `frames` or `videos` key).

`FrameTemplate("frames/{video}/img_{frame:05d}.jpg")` reads JPEG/PNG frames numbered from 1;
`VideoTemplate("videos/{video}.mp4")` reads video files. Both answer what `FrameFolders` and
`VideoFiles` answer (`has_video`, `count`, `location`, `read_clip`) plus `frame_size`, so a
`DetectionDataset` takes either. Frame index `i` (0-based) is frame number `i + 1` of a template
and the `i`-th frame of a video, so both give the same clip for the same frames.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DataError
from .frame_decode import GeometryRule, decode_clip
from .video_files import VideoFiles


def template_fields(template: str) -> set[str]:
    """The names of the `{...}` fields of `template` (ValueError for a malformed one)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


class FrameTemplate:
    """Frames at `template.format(video=..., frame=n)`, n = 1 .. count, counted once per video.

    The count is the last n whose file exists, found by doubling then bisecting (a few dozen
    `stat` calls), so frames must be numbered without gaps from 1.
    """

    def __init__(self, template: str):
        self.template = template
        self._counts: dict[str, int] = {}
        self._sizes: dict[str, tuple[int, int]] = {}

    @property
    def root(self) -> str:
        return self.template

    def path(self, video: str, number: int) -> Path:
        return Path(self.template.format(video=video, frame=number))

    def location(self, video: str) -> Path:
        return self.path(video, 1)

    def has_video(self, video: str) -> bool:
        return self.path(video, 1).is_file()

    def count(self, video: str) -> int:
        """The number of frames of `video` (a DataError when frame 1 is missing)."""
        if video not in self._counts:
            if not self.has_video(video):
                raise DataError(f"{self.location(video)}: frame 1 of video {video!r} is missing")
            low, high = 1, 2
            while self.path(video, high).is_file():
                low, high = high, high * 2
            while high - low > 1:  # frame `low` exists, frame `high` does not
                middle = (low + high) // 2
                low, high = (middle, high) if self.path(video, middle).is_file() else (low, middle)
            self._counts[video] = low
        return self._counts[video]

    def frame_size(self, video: str) -> tuple[int, int]:
        """(width, height) of the video's first frame (read once)."""
        if video not in self._sizes:
            path = self.location(video)
            try:
                with Image.open(path) as image:
                    self._sizes[video] = image.size
            except (OSError, SyntaxError, ValueError) as error:
                raise DataError(f"{path}: unreadable frame ({error})") from None
        return self._sizes[video]

    def read_clip(
        self, video: str, indices: np.ndarray, geometry_rule: GeometryRule | None, *, fast: bool = False
    ):
        """(uint8 [T, h, w, 3] RGB clip, original (height, width), geometry, frame numbers [T]) of
        0-based `indices`, clamped to the video's frames; `fast` as in `decode_clip`."""
        numbers = np.clip(np.asarray(indices, dtype=np.int64) + 1, 1, self.count(video))
        clip, original, geometry = decode_clip(
            [self.path(video, int(number)) for number in numbers], geometry_rule, fast=fast
        )
        return clip, original, geometry, numbers


class VideoTemplate(VideoFiles):
    """Video files at `template.format(video=...)`, read as `VideoFiles` reads them."""

    def __init__(self, template: str, *, threads: int = 1):
        super().__init__(Path(template).parent, suffix="", threads=threads)
        self.template = template

    def location(self, video: str) -> Path:
        return Path(self.template.format(video=video))

    def frame_size(self, video: str) -> tuple[int, int]:
        """(width, height) of the video's frames."""
        return self.index(video).size
