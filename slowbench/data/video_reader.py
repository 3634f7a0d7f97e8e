"""Random access to the frames of a video file with PyAV: frame `i` is the `i`-th frame in
presentation order, 0-based (Decord's numbering, which mmaction2's video datasets use).

`VideoIndex.read(path)` demuxes the file once (no decoding) and lists every frame's presentation
timestamp and whether it is a keyframe; `VideoReader(path, index).frames(indices)` then seeks to
the nearest keyframe at or before each run of wanted frames and decodes forward only as far as the
last one, so a clip costs a few GOPs of decoding, not the whole video.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .errors import DataError


def _open(path: Path) -> av.container.InputContainer:
    """`av.open` whose failures become one-line `DataError`s naming the file."""
    if not path.is_file():
        raise DataError(f"{path}: video file is missing")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable video ({_reason(error)})") from None
    if not container.streams.video:
        container.close()
        raise DataError(f"{path}: has no video stream")
    if container.streams.video[0].codec_context is None:  # a codec FFmpeg does not know
        container.close()
        raise DataError(f"{path}: the video stream's codec cannot be decoded")
    return container


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error).splitlines()[0]


@dataclass(frozen=True)
class VideoIndex:
    """Every frame of a video's first video stream, in presentation order.

    pts: int64 [N] presentation timestamps (units of `time_base`), increasing; last_keyframe:
    int64 [N], the last keyframe at or before each frame (0 before the first keyframe); size:
    (width, height) of the coded frames; last_duration: how long the last frame is shown, in
    `time_base` units (the container's value, else the median frame spacing, else 0).
    What ffmpeg's frame-rate conversion reads (`ffmpeg_rate`): durations: int64 [N], each frame's
    own packet duration (`time_base` units, 0 where the container gives none); start_time: the
    file's start in microseconds (FFmpeg's `AVFormatContext.start_time`, 0 if unknown); streams:
    how many streams the file holds (audio and data included); guessed_rate: FFmpeg's guess of
    the frame rate (`av_guess_frame_rate`), None if it has none.
    """

    path: Path
    pts: np.ndarray
    last_keyframe: np.ndarray
    time_base: Fraction
    size: tuple[int, int]
    last_duration: int
    durations: np.ndarray
    start_time: int
    streams: int
    guessed_rate: Fraction | None

    @classmethod
    def read(cls, path) -> VideoIndex:
        """Demuxes `path` (reads every packet, decodes none). Packets that FFmpeg marks as
        discarded (before the start of an edit list) produce no frame and are left out."""
        path = Path(path)
        container = _open(path)
        try:
            stream = container.streams.video[0]
            pts, key, durations = [], [], []
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue
                stamp = packet.pts if packet.pts is not None else packet.dts
                if stamp is None:
                    raise DataError(f"{path}: a video packet has no timestamp")
                pts.append(stamp)
                key.append(packet.is_keyframe)
                durations.append(packet.duration or 0)
            size = (stream.codec_context.width, stream.codec_context.height)
            time_base = stream.time_base
            start_time = container.start_time or 0
            streams = len(container.streams)
            guessed_rate = stream.guessed_rate or None
        except av.FFmpegError as error:
            raise DataError(f"{path}: unreadable video data ({_reason(error)})") from None
        finally:
            container.close()
        if not pts:
            raise DataError(f"{path}: the video stream has no frames")
        order = np.argsort(np.asarray(pts, dtype=np.int64), kind="stable")
        pts = np.asarray(pts, dtype=np.int64)[order]
        if np.any(np.diff(pts) == 0):
            raise DataError(f"{path}: two frames share a presentation timestamp")
        keyframe = np.asarray(key, dtype=bool)[order]
        last_keyframe = np.maximum.accumulate(np.where(keyframe, np.arange(len(pts)), 0))
        durations = np.asarray(durations, dtype=np.int64)[order]
        last_duration = int(durations[-1]) or (int(np.median(np.diff(pts))) if len(pts) > 1 else 0)
        return cls(
            path=path,
            pts=pts,
            last_keyframe=last_keyframe,
            time_base=time_base,
            size=size,
            last_duration=last_duration,
            durations=durations,
            start_time=start_time,
            streams=streams,
            guessed_rate=guessed_rate,
        )

    def __len__(self) -> int:
        return len(self.pts)

    @property
    def seconds(self) -> np.ndarray:
        """float64 [N]: each frame's presentation time in seconds."""
        return self.pts * float(self.time_base)

    def keyframe_before(self, index: int) -> int:
        """The last keyframe at or before frame `index` in presentation order (0 if none)."""
        return int(self.last_keyframe[index])


class VideoReader:
    """Decodes frames of one video by index to RGB uint8 [H, W, 3] (full resolution).

    `index` (from `VideoIndex.read`) can be cached and reused: the reader opens the file itself.
    `threads` is the decoder's thread count (1 inside DataLoader workers, which already use
    every core).
    """

    def __init__(self, path, index: VideoIndex | None = None, *, threads: int = 1):
        self.path = Path(path)
        self.index = index if index is not None else VideoIndex.read(self.path)
        self.threads = threads

    def __len__(self) -> int:
        return len(self.index)

    def frames(self, indices) -> np.ndarray:
        """uint8 [T, H, W, 3] RGB frames at `indices` (any order, repeats allowed, each in
        [0, len)). Each distinct frame is decoded once."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise DataError(
                f"{self.path}: frame indices {indices.min()}..{indices.max()} outside "
                f"the video's {len(self)} frames"
            )
        wanted = sorted(set(indices.tolist()))
        decoded = self._decode(wanted)
        return (
            np.stack([decoded[i] for i in indices.tolist()])
            if wanted
            else np.zeros((0, self.index.size[1], self.index.size[0], 3), np.uint8)
        )

    def iter_frames(self, start: int = 0):
        """Yields (index, uint8 [H, W, 3] RGB) for frames `start`, `start` + 1, ... to the end,
        decoding forward from the keyframe before `start` (one pass, for whole-video work)."""
        for position, frame in self.iter_decoded(start):
            yield position, frame.to_ndarray(format="rgb24")

    def iter_decoded(self, start: int = 0):
        """`iter_frames` with the decoder's own frames (`av.VideoFrame`, its pixel format and
        range), for work that must see the decoded planes themselves (ffmpeg's JPEG writing)."""
        with self._decoding() as (container, stream):
            pts = self.index.pts
            if start > 0:
                container.seek(
                    int(pts[self.index.keyframe_before(start)]), stream=stream, backward=True, any_frame=False
                )
            expected = start
            for frame in container.decode(stream):
                stamp = self._timestamp(frame)
                position = int(np.searchsorted(pts, stamp))
                if position >= len(pts) or pts[position] != stamp or position < expected:
                    continue  # not an indexed frame, or before `start`
                if position > expected:
                    break  # a frame went missing
                yield position, frame
                expected += 1
        if expected < len(self):
            raise DataError(
                f"{self.path}: frame {expected} could not be decoded (truncated or corrupt file?)"
            )

    def iter_picked(self, picks: np.ndarray):
        """Yields (decoded frame, count) for every distinct index of `picks` (int [K], non-decreasing,
        repeats allowed; count: how often it stands there), in one forward pass from `picks[0]`
        that stops after the last pick and never holds more than one frame."""
        position = 0
        for index, frame in self.iter_decoded(int(picks[0])):
            count = 0
            while position < len(picks) and picks[position] == index:
                count, position = count + 1, position + 1
            if count:
                yield frame, count
            if position == len(picks):
                return

    def _timestamp(self, frame) -> int:
        stamp = frame.pts if frame.pts is not None else frame.dts
        if stamp is None:
            raise DataError(f"{self.path}: a decoded frame has no timestamp")
        return stamp

    @contextmanager
    def _decoding(self):
        """(container, its first video stream) with this reader's thread count; FFmpeg errors
        inside become one-line `DataError`s naming the file."""
        container = _open(self.path)
        try:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = self.threads
            yield container, stream
        except av.FFmpegError as error:
            raise DataError(f"{self.path}: unreadable video data ({_reason(error)})") from None
        finally:
            container.close()

    def _decode(self, wanted: list[int]) -> dict[int, np.ndarray]:
        with self._decoding() as (container, stream):
            remaining = {int(self.index.pts[i]): i for i in wanted}
            out: dict[int, np.ndarray] = {}
            while remaining:
                self._decode_run(container, stream, remaining, out)
            return out

    def _decode_run(self, container, stream, remaining: dict[int, int], out: dict[int, np.ndarray]) -> None:
        """Seeks to the keyframe before the first missing frame and decodes forward, moving the
        wanted frames from `remaining` (pts -> index) to `out`, until done or until the next
        wanted frame is better reached by seeking to a later keyframe.

        A seek that lands past the first missing frame (a container index that disagrees with
        the packets) is retried from earlier keyframes, down to the first frame.
        """
        pts = self.index.pts
        first = min(remaining.values())
        start = self.index.keyframe_before(first)
        while True:
            container.seek(int(pts[start]), stream=stream, backward=True, any_frame=False)
            landed = decoded_any = False
            for frame in container.decode(stream):
                stamp = self._timestamp(frame)
                if not landed:
                    if stamp > pts[first]:
                        break  # the seek went too far
                    landed = True
                if stamp in remaining:
                    out[remaining.pop(stamp)] = frame.to_ndarray(format="rgb24")
                    if not remaining:
                        return
                    decoded_any = True
                position = int(np.searchsorted(pts, stamp, side="right")) - 1
                # Seek again only after a frame of this run: where the container's index
                # disagrees with the packets' key flags, a seek can land before the keyframe
                # asked for, and returning then would repeat this run forever.
                if decoded_any and self.index.keyframe_before(min(remaining.values())) > position:
                    return
            else:
                if landed or start == 0:
                    raise DataError(
                        f"{self.path}: frame {min(remaining.values())} could not be "
                        f"decoded (truncated or corrupt file?)"
                    )
            if start == 0:
                raise DataError(
                    f"{self.path}: frame {first} could not be decoded (seeking "
                    f"to the first frame lands past it)"
                )
            start = self.index.keyframe_before(start - 1)
