"""The reference's spatial transform of decoded frames, bit for bit: resize, crop, flip.

mmaction2's `Resize` / `RandomRescale` call mmcv `imresize`, i.e. `cv2.resize(..., INTER_LINEAR)`
of every full frame to the new size; `RandomCrop` slices the resized frame; `Flip` mirrors it
(`cv2.flip`, a pure reordering). The same OpenCV call on the same frames gives the same pixels,
whatever decoder produced the frames (JPEG folders, video readers).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .clip_geometry import ClipGeometry


def resize_crop_flip(frames: Sequence[np.ndarray], geometry: ClipGeometry) -> np.ndarray:
    """Full-resolution frames, each uint8 `[H, W, 3]` with (W, H) = `geometry.original`
    -> the clip uint8 `[T, h, w, 3]` that mmaction2 makes of them for this geometry.

    Channel order is kept (bilinear resizing treats every channel alike, so resizing BGR and then
    swapping channels equals swapping first). Without a flip the result is a view of the resized
    frames (rows strided by the crop); `planar_clip.channels_first` makes the planar clip of it.
    """
    if len(frames) == 0:
        raise ValueError("resize_crop_flip: no frames")
    width, height = geometry.original
    new_w, new_h = geometry.resized
    resized = np.empty((len(frames), new_h, new_w, 3), dtype=np.uint8)
    for index, frame in enumerate(frames):
        if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
            raise ValueError(
                f"resize_crop_flip: frame {index} is {frame.dtype} {frame.shape}, "
                f"expected uint8 {(height, width, 3)} (the geometry's original size)"
            )
        # Writes into `resized[index]` (same shape and type), so no per-frame copy follows.
        cv2.resize(frame, (new_w, new_h), dst=resized[index], interpolation=cv2.INTER_LINEAR)
    x, y, crop_w, crop_h = geometry.crop
    clip = resized[:, y : y + crop_h, x : x + crop_w]
    if not geometry.flipped:
        return clip
    flipped = np.empty((len(frames), crop_h, crop_w, 3), dtype=np.uint8)
    for index, frame in enumerate(clip):
        cv2.flip(frame, 1, dst=flipped[index])
    return flipped
