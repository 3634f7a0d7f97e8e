"""Which source frame each output frame of ``ffmpeg [-ss S] [-t D] -i VIDEO -r F OUT`` shows, from
the video's index alone (no decoding): FFmpeg's constant-rate video sync, as fftools 5.1 does it
(`ffmpeg.c`: `do_video_out`, `adjust_frame_pts_to_encoder_tb`; `ffmpeg_opt.c`: the sync method
and input offset; `ffmpeg_filter.c` + `libavfilter/trim.c`: -ss/-t). The reference's recipes
(`ffmpeg -i V -r 30 -q:v 1 img_%05d.jpg`, `cut_videos.sh`, `cut_kinetics.py`) write to the image2
and mp4 muxers, neither of which declares variable frame rates, so `-r` means this sync.

1. Offset: timestamps are shifted so that the file's start time plus S is 0.
2. Trim: with -ss, frames before 0 are dropped; with -t, frames from D after the first kept one.
3. Each frame's time in output ticks (1/F s) on a 2^-16 tick grid, nudged 2^-17 away from 0
   (fftools' precision), and its duration in ticks: its packet's, rounded, if that is > 0, else
   the guessed frame rate's, at most one tick.
4. Sync: with drift = time - next output tick, a frame that starts inside the previous output
   tick is clipped to it; it is then written round(drift + duration) times (none below -1.1, once
   up to 1.1), the first round(drift - 0.6) of them repeating the previous frame when the drift
   exceeds 1.1 (a gap). At the end, the last frame is repeated the median of the last three gap
   repeats. A video-only file ("VSCFR": one stream) starts the output at its first frame instead
   of repeating it back to tick 0.

Not modelled: fftools' guard against duplicating over 3 240 000 frames in one step (a 30-hour gap).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .video_reader import VideoIndex

MICROSECOND = Fraction(1, 1_000_000)  # AV_TIME_BASE_Q
MIDPOINT_NUDGE = 2.0**-17


def rate_sources(
    index: VideoIndex, rate: Fraction, *, start: float | None = None, duration: float | None = None
) -> np.ndarray:
    """int64 [K]: the source frame (position in `index`) of output frame k of
    ``ffmpeg [-ss start] [-t duration] -i VIDEO -r rate OUT`` (start, duration in seconds; None:
    option absent)."""
    offset_us = index.start_time + (0 if start is None else round(start * 1_000_000))
    pts = index.pts - _rescale(offset_us, MICROSECOND, index.time_base)
    kept = _trimmed(
        pts,
        drop_negative=start is not None,
        limit=None
        if duration is None
        else _rescale(round(duration * 1_000_000), MICROSECOND, index.time_base),
    )
    ticks = [_output_ticks(int(p), index.time_base, rate) for p in pts[kept]]
    lengths = [_frame_ticks(int(d), index, rate) for d in index.durations[kept]]
    shown = video_sync(ticks, lengths, start_at_first_frame=index.streams == 1)
    return kept[np.asarray(shown, dtype=np.int64)]


def _rescale(value: int, source: Fraction, target: Fraction) -> int:
    """`av_rescale_q`: value x source / target, rounded to the nearest, halves away from 0."""
    exact = value * source / target
    magnitude = (2 * abs(exact.numerator) + exact.denominator) // (2 * exact.denominator)
    return magnitude if exact >= 0 else -magnitude


def _trimmed(pts: np.ndarray, *, drop_negative: bool, limit: int | None) -> np.ndarray:
    """Positions that the `trim` filter passes: with -ss, pts >= 0; with -t (`limit`, in pts
    units), pts - (first passed pts) < limit, the first failure ending the stream."""
    kept = np.flatnonzero(pts >= 0) if drop_negative else np.arange(len(pts))
    if limit is not None and len(kept):
        over = np.flatnonzero(pts[kept] - pts[kept[0]] >= limit)
        kept = kept[: over[0]] if len(over) else kept
    return kept


def _output_ticks(pts: int, time_base: Fraction, rate: Fraction) -> float:
    """A frame's time in output ticks as fftools computes it (`float_pts`)."""
    extra_bits = min(max(29 - (rate.numerator.bit_length() - 1), 0), 16)
    fine = _rescale(pts, time_base, Fraction(rate.denominator, rate.numerator << extra_bits))
    ticks = fine / (1 << extra_bits)
    return ticks + (MIDPOINT_NUDGE if ticks > 0 else -MIDPOINT_NUDGE)


def _frame_ticks(packet_duration: int, index: VideoIndex, rate: Fraction) -> float:
    """A frame's duration in output ticks: its packet's, rounded (`lrintf`), when that is > 0,
    else 1 / (guessed rate x tick), at most one tick (fftools' double arithmetic)."""
    tick = rate.denominator / rate.numerator
    own = _lrintf(packet_duration * (index.time_base.numerator / index.time_base.denominator) / tick)
    if own > 0:
        return float(own)
    guessed = index.guessed_rate
    fallback = 1 / (guessed.numerator / guessed.denominator * tick) if guessed else 0.0
    return min(fallback, 1 / (rate.numerator / rate.denominator * tick))


def _lrintf(value: float) -> int:
    """C's `lrintf`: to single precision, then to the nearest integer, halves to even."""
    return round(float(np.float32(value)))


def video_sync(ticks: list[float], durations: list[float], *, start_at_first_frame: bool) -> list[int]:
    """fftools' CFR sync (VSCFR with `start_at_first_frame`): for frames at `ticks` lasting
    `durations` (output ticks), the input position shown by each output frame."""
    shown: list[int] = []
    next_tick = 0
    gap_repeats = [0, 0, 0]  # the last three frames' repeats of their previous frame
    for position, (tick, duration) in enumerate(zip(ticks, durations)):
        drift = tick - next_tick
        delta = drift + duration
        if drift < 0 < delta:  # starts inside the last output tick: clipped to the next
            tick, duration, drift = next_tick, duration + drift, 0.0
        if start_at_first_frame and not shown and drift >= 0.5:
            delta, drift, next_tick = duration, 0.0, round(tick)
        count, repeats = 1, 0
        if delta < -1.1:
            count = 0
        elif delta > 1.1:
            count = _lrintf(delta)
            if drift > 1.1:
                repeats = _lrintf(drift - 0.6)
        repeats = min(repeats, count)
        gap_repeats = [repeats, *gap_repeats[:2]]
        shown += [max(position - 1, 0)] * repeats + [position] * (count - repeats)
        next_tick += count
    if ticks:
        shown += [len(ticks) - 1] * sorted(gap_repeats)[1]
    return shown
