"""The reference input normalisation (mmaction2 `ActionDataPreprocessor`), for uint8 RGB clips."""
from __future__ import annotations

import torch

RGB_MEAN = (123.675, 116.28, 103.53)
RGB_STD = (58.395, 57.12, 57.375)


def normalize_clips(clips: torch.Tensor) -> torch.Tensor:
    """uint8 [B, 3, T, H, W] RGB 0-255 -> float32 (x - mean) / std per channel."""
    if clips.dim() != 5 or clips.shape[1] != 3:
        raise ValueError(f"normalize_clips: expected [B, 3, T, H, W], got {tuple(clips.shape)}")
    mean = torch.tensor(RGB_MEAN, device=clips.device).view(1, 3, 1, 1, 1)
    std = torch.tensor(RGB_STD, device=clips.device).view(1, 3, 1, 1, 1)
    return (clips.float() - mean) / std
