"""Encoding RGB frames into a video file with PyAV (H.264 in mp4 by default), atomically."""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import av
import numpy as np

# x264 defaults with a constant quality close to visually lossless.
DEFAULT_OPTIONS = {"crf": "17", "preset": "fast"}


def encode_video(path, frames: Iterable[np.ndarray], fps, *, codec: str = "libx264",
                 options: dict | None = None) -> int:
    """Writes uint8 [H, W, 3] RGB `frames` (even H and W, all one size) to `path` at `fps`
    (a number or a Fraction) as yuv420p; returns the number of frames.

    The file appears only when complete: it is written beside `path` under a temporary name (same
    extension, which picks the container) and renamed.
    """
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    rate = Fraction(fps).limit_denominator(1001)
    count = 0
    try:
        with av.open(str(partial), "w") as container:
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
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count
