"""JPEG frames as ``ffmpeg -i VIDEO -q:v Q img_%05d.jpg`` writes them: FFmpeg's mjpeg encoder (through
PyAV) fed the planes that the ffmpeg command feeds it.

The command's encoder takes full-range YUV only (yuvj420p, yuvj422p, yuvj444p), so for a decoder's
limited-range 8-bit yuv420p / yuv422p / yuv444p the filter graph inserts a scaler that converts the
range and keeps the chroma subsampling. In FFmpeg 5.1 (Debian 12's, and the releases before it)
that conversion is swscale's fixed-point `lumRangeToJpeg` / `chrRangeToJpeg` on 15-bit samples,
rounded back to 8 bits; swscale's 2024 rework of range conversion changed the chroma rounding, so
the FFmpeg 8.0 that PyAV 16 bundles writes chroma one level off in about half the pixels. This
module applies 5.1's arithmetic itself, as two 256-entry lookup tables. Full-range frames keep their planes; any other pixel format (RGB frames
after `--short-side`, 10-bit video) goes through the bundled FFmpeg's own `scale` filter.

`-q:v Q` fixes the quantiser at Q, but the encoder's default qmin of 2 makes Q = 1 the same as 2.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

QUALITY_RANGE = (1, 31)  # ffmpeg's -q:v for mjpeg; 1 is the reference's
FULL_RANGE = {"yuv420p": "yuvj420p", "yuv422p": "yuvj422p", "yuv444p": "yuvj444p"}
JPEG_RANGE = 2  # AVCOL_RANGE_JPEG
ENCODER_QMIN = 2  # libavcodec's default qmin, which -q:v 1 is clipped to


def _range_table(limit: int, scale: int, offset: int, shift: int) -> np.ndarray:
    """uint8 [256]: swscale's limited -> full range step on 8-bit samples (as 15-bit: x << 7,
    then (min(x, limit) * scale - offset) >> shift, then rounded back: (y + 64) >> 7, clipped)."""
    fixed = np.minimum(np.arange(256, dtype=np.int64) << 7, limit) * scale - offset
    return np.clip(((fixed >> shift) + 64) >> 7, 0, 255).astype(np.uint8)


LUMA_TO_FULL = _range_table(30189, 19077, 39057361, 14)
CHROMA_TO_FULL = _range_table(30775, 4663, 9289992, 12)
IDENTITY = np.arange(256, dtype=np.uint8)


def full_range_planes(frame: av.VideoFrame) -> av.VideoFrame:
    """A decoded 8-bit yuv420p/422p/444p frame as its yuvj twin: limited-range planes converted as
    ffmpeg 5.1's scaler converts them (see the module docstring), full-range ones copied."""
    limited = frame.color_range != JPEG_RANGE
    out = av.VideoFrame(frame.width, frame.height, FULL_RANGE[frame.format.name])
    for number, (source, target) in enumerate(zip(frame.planes, out.planes)):
        table = (LUMA_TO_FULL if number == 0 else CHROMA_TO_FULL) if limited else IDENTITY
        rows = np.frombuffer(source, np.uint8).reshape(source.height, source.line_size)
        view = np.frombuffer(target, np.uint8).reshape(target.height, target.line_size)
        view[:, : target.width] = table[rows[:, : source.width]]
    out.color_range = JPEG_RANGE
    return out


class _ScaleFilter:
    """The bundled FFmpeg's conversion of any other pixel format to the encoder's formats (the
    `scale` filter that ffmpeg's format negotiation inserts, with its default flags)."""

    def __init__(self, frame: av.VideoFrame):
        self.graph = av.filter.Graph()
        source = self.graph.add_buffer(
            width=frame.width, height=frame.height, format=frame.format.name, time_base=Fraction(1, 1)
        )
        scale = self.graph.add("scale")
        formats = self.graph.add("format", "pix_fmts=" + "|".join(FULL_RANGE.values()))
        sink = self.graph.add("buffersink")
        source.link_to(scale)
        scale.link_to(formats)
        formats.link_to(sink)
        self.graph.configure()

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        frame.pts, frame.time_base = 0, Fraction(1, 1)
        self.graph.push(frame)
        return self.graph.vpull()


class JpegWriter:
    """Encodes decoded frames (any size; one size per writer) to JPEG bytes at ffmpeg's -q:v
    `quality`, one frame at a time (mjpeg is intra-only: equal frames give equal bytes)."""

    def __init__(self, quality: int = QUALITY_RANGE[0]):
        if not QUALITY_RANGE[0] <= quality <= QUALITY_RANGE[1]:
            raise ValueError(f"JpegWriter: quality {quality} outside ffmpeg's -q:v range {QUALITY_RANGE}")
        self.quantiser = max(quality, ENCODER_QMIN)
        self.encoder = None
        self.scale = None
        self.count = 0

    def encode(self, frame: av.VideoFrame) -> bytes:
        """The JPEG file of one decoded (or `av.VideoFrame.from_ndarray`) frame."""
        planes = self._full_range(frame)
        if self.encoder is None:
            self.encoder = self._open(planes)
        planes.pts, planes.time_base, planes.pict_type = self.count, self.encoder.time_base, 0
        self.count += 1
        (packet,) = self.encoder.encode(planes)
        return bytes(packet)

    def write(self, frame: av.VideoFrame, path: Path) -> None:
        Path(path).write_bytes(self.encode(frame))

    def _full_range(self, frame: av.VideoFrame) -> av.VideoFrame:
        name = frame.format.name
        if name in FULL_RANGE.values():
            return frame
        if name in FULL_RANGE:
            return full_range_planes(frame)
        if self.scale is None:
            self.scale = _ScaleFilter(frame)
        return self.scale(frame)

    def _open(self, planes: av.VideoFrame) -> av.CodecContext:
        encoder = av.CodecContext.create("mjpeg", "w")
        encoder.width, encoder.height = planes.width, planes.height
        encoder.pix_fmt = planes.format.name
        encoder.color_range = JPEG_RANGE
        encoder.time_base = Fraction(1, 30)  # any: each JPEG stands alone
        encoder.qscale = True  # a fixed quantiser, between qmin and qmax
        encoder.qmin = encoder.qmax = self.quantiser
        # One thread: with slice threads FFmpeg's mjpeg falls back to its default Huffman tables
        # (files ~10% larger than the command's, same pixels).
        encoder.thread_count = 1
        encoder.open()
        return encoder
