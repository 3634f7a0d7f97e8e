"""Video files as a clip source for the datasets (the frame-folder counterpart is `FrameFolders`).

Both sources answer `has_video`, `count`, `location` and `read_clip(video, indices, rule)`;
`VideoOrFrames` picks, per video, the video file when it exists and the frame folder otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .clip_geometry import ClipGeometry
from .frame_decode import FrameFolders, GeometryRule
from .planar_clip import channels_first
from .resize_crop_flip import resize_crop_flip
from .video_reader import VideoIndex, VideoReader

Clip = tuple[np.ndarray, tuple[int, int], "ClipGeometry | None", np.ndarray]


class VideoFiles:
    """`<root>/<video>` files (a `suffix` is appended to names without it).

    Frame index `i` is the video's `i`-th frame in presentation order, 0-based. Each video's
    index of frame timestamps is read once per process and cached (DataLoader workers each
    build their own; no open file is shared across processes).
    """

    def __init__(self, root, *, suffix: str = ".mp4", threads: int = 1):
        self.root = Path(root)
        self.suffix = suffix
        self.threads = threads
        self._indexes: dict[str, VideoIndex] = {}

    def location(self, video: str) -> Path:
        return self.root / (video if video.endswith(self.suffix) else video + self.suffix)

    def has_video(self, video: str) -> bool:
        return self.location(video).is_file()

    def index(self, video: str) -> VideoIndex:
        if video not in self._indexes:
            self._indexes[video] = VideoIndex.read(self.location(video))
        return self._indexes[video]

    def count(self, video: str) -> int:
        return len(self.index(video))

    def read_clip(
        self, video: str, indices: np.ndarray, geometry_rule: GeometryRule | None, *, fast: bool = False
    ) -> Clip:
        """(uint8 [T, h, w, 3] RGB clip, original (height, width), geometry, frame numbers [T]).

        Indices are clamped to the video's frames; a repeated index is decoded once. Decoded
        frames go through the reference's `resize_crop_flip`, as frame folders' do. Frame numbers
        are 1-based (`index + 1`), the `img_%05d.jpg` number of the same frame after extraction,
        so both sources report the same numbers. `fast` (a JPEG option) changes nothing here.
        """
        index = self.index(video)
        clamped = np.clip(np.asarray(indices, dtype=np.int64), 0, len(index) - 1)
        distinct, inverse = np.unique(clamped, return_inverse=True)
        full = VideoReader(index.path, index, threads=self.threads).frames(distinct)
        height, width = full.shape[1:3]
        geometry = None if geometry_rule is None else geometry_rule(width, height)
        clip = full if geometry is None else resize_crop_flip(full, geometry)
        planes = channels_first([clip[position] for position in inverse.reshape(-1)])
        return planes.transpose(1, 2, 3, 0), (height, width), geometry, clamped + 1


class VideoOrFrames:
    """Per video, the video file of `videos` when present, else the frame folder of `frames`."""

    def __init__(self, videos: VideoFiles, frames: FrameFolders):
        self.videos = videos
        self.frames = frames
        self.root = f"{videos.root} or {frames.root}"

    def _source(self, video: str):
        return self.videos if self.videos.has_video(video) else self.frames

    def location(self, video: str) -> Path:
        return self._source(video).location(video)

    def has_video(self, video: str) -> bool:
        return self.videos.has_video(video) or self.frames.has_video(video)

    def count(self, video: str) -> int:
        return self._source(video).count(video)

    def read_clip(
        self, video: str, indices: np.ndarray, geometry_rule: GeometryRule | None, *, fast: bool = False
    ) -> Clip:
        return self._source(video).read_clip(video, indices, geometry_rule, fast=fast)
