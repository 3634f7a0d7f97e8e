"""The reference clip sampling around an annotated frame (mmaction2 `SampleAVAFrames`)."""

from __future__ import annotations

import numpy as np
import torch


def sample_frame_indices(
    *,
    timestamp: int | float,
    timestamp_start: int,
    fps: int,
    start_index: int,
    clip_len: int,
    frame_interval: int,
    shot: tuple[int, int],
    jitter: bool,
) -> np.ndarray:
    """Frame indices [clip_len] of the clip centred on `timestamp`, as the reference computes them.

    # A fractional (AVA-Kinetics) timestamp takes the nearest frame; whole seconds are exact.
    center = round(fps * (timestamp - timestamp_start)) + start_index; indices run from
    center - (clip_len // 2) * interval in steps of `frame_interval`; with `jitter` (training) each
    gets its own offset in [-interval // 2, (interval + 1) // 2); they are clipped to
    [shot[0], shot[1] - 1] and `start_index` is added again (the reference's double offset, which
    puts the AVA centre on img_{30 (t - 900) + 2}).
    """
    # A fractional (AVA-Kinetics) timestamp takes the nearest frame; whole seconds are exact.
    center = round(fps * (timestamp - timestamp_start)) + start_index
    first = center - (clip_len // 2) * frame_interval
    indices = first + frame_interval * np.arange(clip_len, dtype=np.int64)
    if jitter:
        # torch's RNG, not numpy's: DataLoader seeds it per worker, numpy's global state it does not.
        low, high = -(frame_interval // 2), (frame_interval + 1) // 2
        indices = indices + torch.randint(low, high, (clip_len,)).numpy()
    return np.clip(indices, shot[0], shot[1] - 1) + start_index
