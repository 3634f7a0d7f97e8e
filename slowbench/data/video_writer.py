"""Encoding frames into a video file with PyAV (H.264 in mp4 by default), atomically: RGB arrays
(`encode_video`) or decoded frames as they are (`encode_frames`, no colour conversion)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from eval.atomic import atomic_write

# x264 defaults with a constant quality close to visually lossless.
DEFAULT_OPTIONS = {"crf": "17", "preset": "fast"}
# What `ffmpeg -i V -r 30 OUT.mp4` gives libx264 when told nothing: x264's own defaults.
FFMPEG_DEFAULT_X264 = {"crf": "23", "preset": "medium"}
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
    decoded = (av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24") for frame in frames)
    return encode_frames(path, decoded, fps, codec=codec, options=options, pix_fmt="yuv420p")


def encode_frames(
    path,
    frames: Iterable[av.VideoFrame],
    fps,
    *,
    codec: str = "libx264",
    options: dict | None = None,
    pix_fmt: str | None = None,
    threads: int | None = None,
) -> int:
    """Writes `frames` (all one size) to `path` at `fps`, one output frame each, as `encode_video`
    does; `pix_fmt` None keeps the frames' own pixel format (decoded YUV goes in unconverted, as
    ffmpeg passes a decoder's frames to the encoder). `threads`: the encoder's frame threads (None:
    PyAV's default slice threads); x264's output depends on the count, so a fixed count makes the
    file reproducible. Returns the number of frames."""
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
            if threads is not None:
                stream.thread_type, stream.thread_count = "FRAME", threads
            for frame in frames:
                if count == 0:
                    stream.width, stream.height = frame.width, frame.height
                    stream.pix_fmt = pix_fmt or frame.format.name
                # A decoded frame's picture type would force the encoder's choice (ffmpeg resets it).
                frame.pts, frame.time_base, frame.pict_type = count, 1 / rate, 0
                container.mux(stream.encode(frame))
                count += 1
            container.mux(stream.encode())

    atomic_write(path, write)
    return count
