"""Clip indices around a keyframe, against the reference's worked examples (spec §4.5)."""

import numpy as np
import pytest
import torch

from slowbench.data.frame_sampling import sample_frame_indices

AVA = dict(timestamp_start=900, fps=30, start_index=1, shot=(0, 27000))


@pytest.mark.parametrize(
    "timestamp, clip_len, interval, expected",
    [
        (902, 32, 2, np.arange(30, 93, 2)),
        (903, 32, 2, np.arange(60, 123, 2)),
        (902, 4, 16, [30, 46, 62, 78]),
        (902, 8, 8, 62 + np.arange(-32, 25, 8)),
        (902, 16, 4, 62 + np.arange(-32, 29, 4)),
    ],
)
def test_ava_test_mode_indices(timestamp, clip_len, interval, expected):
    indices = sample_frame_indices(
        timestamp=timestamp, clip_len=clip_len, frame_interval=interval, jitter=False, **AVA
    )
    np.testing.assert_array_equal(indices, expected)


def test_ava_kinetics_and_multisports_centres():
    kinetics = sample_frame_indices(
        timestamp=902,
        timestamp_start=900,
        fps=30,
        start_index=0,
        shot=(0, 27000),
        clip_len=32,
        frame_interval=2,
        jitter=False,
    )
    np.testing.assert_array_equal(kinetics, np.arange(28, 91, 2))
    # MultiSports: fps 1 from frame 1, centre = 0-based index of the 1-based frame number.
    sports = sample_frame_indices(
        timestamp=100,
        timestamp_start=1,
        fps=1,
        start_index=0,
        shot=(0, 725),
        clip_len=4,
        frame_interval=16,
        jitter=False,
    )
    np.testing.assert_array_equal(sports, [67, 83, 99, 115])


def test_indices_are_clipped_to_the_shot():
    indices = sample_frame_indices(
        timestamp=5,
        timestamp_start=1,
        fps=1,
        start_index=0,
        shot=(0, 10),
        clip_len=4,
        frame_interval=4,
        jitter=False,
    )
    np.testing.assert_array_equal(indices, [0, 0, 4, 8])
    indices = sample_frame_indices(timestamp=1800, clip_len=4, frame_interval=16, jitter=False, **AVA)
    np.testing.assert_array_equal(indices, [26970, 26986, 27000, 27000])  # 26999 + start_index


def test_training_jitter_range_and_independence():
    torch.manual_seed(0)
    base = sample_frame_indices(timestamp=910, clip_len=4, frame_interval=16, jitter=False, **AVA)
    draws = np.stack(
        [
            sample_frame_indices(timestamp=910, clip_len=4, frame_interval=16, jitter=True, **AVA)
            for _ in range(400)
        ]
    )
    offsets = draws - base
    assert offsets.min() == -8 and offsets.max() == 7  # [-interval // 2, (interval + 1) // 2)
    # one offset per frame, not one per clip
    assert (offsets != offsets[:, :1]).any(axis=1).mean() > 0.9
    torch.manual_seed(0)
    again = sample_frame_indices(timestamp=910, clip_len=4, frame_interval=16, jitter=True, **AVA)
    np.testing.assert_array_equal(again, draws[0])
