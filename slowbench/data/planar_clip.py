"""Interleaved frames `[h, w, 3]` -> the planar clip `[3, T, h, w]` that the models read."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def channels_first(frames: Sequence[np.ndarray], *, reverse_channels: bool = False) -> np.ndarray:
    """T frames uint8 `[h, w, 3]` (rows may be strided) -> contiguous uint8 `[3, T, h, w]`.

    `reverse_channels` turns BGR frames into RGB planes in the same pass. `cv2.split` writes each
    plane straight into place, several times faster than numpy's strided transpose copy.
    """
    height, width = frames[0].shape[:2]
    planes = np.empty((3, len(frames), height, width), dtype=np.uint8)
    order = (2, 1, 0) if reverse_channels else (0, 1, 2)
    for index, frame in enumerate(frames):
        cv2.split(frame, [planes[channel, index] for channel in order])
    return planes
