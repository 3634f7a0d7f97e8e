"""Encoding RGB frames into a video file with PyAV (H.264 in mp4 by default), atomically."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from eval.atomic import atomic_write

# x264 defaults with a constant quality close to visually lossless.
DEFAULT_OPTIONS = {"crf": "17", "preset": "fast"}
CONTAINER_FORMATS = {
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".webm": "webm",
    ".avi": "avi",
}


def encode_video(
    path, frames: Iterable[np.ndarray], fps, *, codec: str = "libx264", options: dict | None = None
) -> int:
    """Writes uint8 [H, W, 3] RGB `frames` (even H and W, all one size) to `path` at `fps`
    (a number or a Fraction) as yuv420p; returns the number of frames.

    The container follows the extension (mp4, m4v, mov, mkv, webm, avi). The file appears only
    when complete (`eval.atomic.atomic_write`).
    """
    path = Path(path)
    container_format = CONTAINER_FORMATS.get(path.suffix.lower())
    if container_format is None:
        raise ValueError(f"encode_video: unknown video extension {path.suffix!r} of {path}")
    rate = Fraction(fps).limit_denominator(1001)
    count = 0

    def write(file) -> None:
        nonlocal count
        with av.open(file, "w", format=container_format) as container:
            stream = container.add_stream(codec, rate=rate, options=options or DEFAULT_OPTIONS)
            stream.pix_fmt = "yuv420p"
            for frame in frames:
                if count == 0:
                    stream.height, stream.width = frame.shape[:2]
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                video_frame.pts, video_frame.time_base = count, 1 / rate
                container.mux(stream.encode(video_frame))
                count += 1
            container.mux(stream.encode())

    atomic_write(path, write)
    return count
