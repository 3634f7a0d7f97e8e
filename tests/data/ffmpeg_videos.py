"""Test videos whose every frame shows its own number, and the reference's ffmpeg commands run on
them (the `ffmpeg` binary; tests that need it skip cleanly where it is absent: `needs_ffmpeg`).

A frame's number is written as 16 black / white blocks across its top half (robust to H.264 and
JPEG); the bottom half is a blurred colour texture, new each frame, so pixel comparisons see real
chroma and detail.
"""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None, reason="the ffmpeg binary is not installed (apt-get install ffmpeg)"
)
BITS = 16
SIZE = (96, 64)  # width, height
AUDIO_RATE = 8000


def numbered_image(number: int, rng: np.random.Generator, size=SIZE) -> np.ndarray:
    """uint8 [H, W, 3] RGB: `number` in blocks (bit b at row b // 8, column b % 8), texture below."""
    width, height = size
    image = cv2.GaussianBlur(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), (5, 5), 0)
    block_w, block_h = width // 8, height // 4
    for bit in range(BITS):
        row, column = divmod(bit, 8)
        level = 255 if (number >> bit) & 1 else 0
        image[row * block_h : (row + 1) * block_h, column * block_w : (column + 1) * block_w] = level
    return image


def frame_number(image: np.ndarray) -> int:
    """The number that `numbered_image` wrote into `image` (any channel order)."""
    height, width = image.shape[:2]
    block_w, block_h = width // 8, height // 4
    grey = image.astype(np.float64).mean(axis=2)
    number = 0
    for bit in range(BITS):
        row, column = divmod(bit, 8)
        inner = grey[
            row * block_h + block_h // 4 : (row + 1) * block_h - block_h // 4,
            column * block_w + block_w // 4 : (column + 1) * block_w - block_w // 4,
        ]
        number |= int(inner.mean() > 128) << bit
    return number


def write_numbered_video(
    path: Path,
    stamps,
    time_base: Fraction,
    *,
    b_frames: int = 2,
    audio: bool = False,
    pix_fmt: str = "yuv420p",
    size=SIZE,
) -> None:
    """H.264 mp4 whose frame i (`numbered_image(i)`) has pts `stamps[i]` in `time_base`, with the
    codec time base `time_base` (as encoders write a frame rate into the stream). `audio` adds a
    silent AAC stream from 0 s to past the last frame, as a movie's soundtrack."""
    rng = np.random.default_rng(len(stamps))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1 / time_base, options={"bf": str(b_frames), "g": "30"})
        stream.width, stream.height, stream.pix_fmt = *size, pix_fmt
        stream.codec_context.time_base = time_base
        sound = container.add_stream("aac", rate=AUDIO_RATE) if audio else None
        for number, stamp in enumerate(stamps):
            frame = av.VideoFrame.from_ndarray(numbered_image(number, rng, size), format="rgb24")
            frame.pts, frame.time_base = int(stamp), time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
        if sound is not None:
            _write_silence(container, sound, float(stamps[-1] * time_base) + 1)


def _write_silence(container, stream, seconds: float) -> None:
    for start in range(0, int(seconds * AUDIO_RATE), 1024):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def constant_rate_stamps(rate: Fraction, seconds: float, first: int = 0):
    """(pts list, time base) of a constant-rate video: one tick of 1 / rate per frame."""
    return list(range(first, first + int(seconds * rate))), 1 / Fraction(rate)


def run_ffmpeg(*arguments) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *map(str, arguments)], check=True)


def ffmpeg_jpegs(video: Path, folder: Path, *, before=(), after=("-r", "30"), quality=1) -> list[Path]:
    """Runs the reference's `ffmpeg [before] -i video [after] -q:v quality folder/img_%05d.jpg`;
    returns the files written, in order."""
    folder.mkdir(parents=True)
    run_ffmpeg(*before, "-i", video, *after, "-q:v", quality, folder / "img_%05d.jpg")
    return sorted(folder.glob("img_*.jpg"))


def jpeg_numbers(files) -> list[int]:
    return [frame_number(cv2.imread(str(path))) for path in files]


def decoded_frames(path: Path) -> list[np.ndarray]:
    """Every frame of a video as RGB, in presentation order."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def video_numbers(path: Path) -> list[int]:
    """The number shown by every frame of a video, in presentation order."""
    return [frame_number(image) for image in decoded_frames(path)]


def ffmpeg_version() -> str:
    output = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True, check=True).stdout
    return output.split()[2]
