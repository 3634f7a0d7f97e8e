"""Exported model vs eager PyTorch on random clips and RoIs: the max |difference| of the scores."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

TOLERANCE = 1e-4  # on sigmoid / softmax scores


def random_inputs(
    clip_shape: tuple[int, ...], rois_per_clip: int = 4, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """`clip [B, 3, T, H, W]` uniform in 0..255 and `rois [B * rois_per_clip, 5]`: boxes of
    10-60% of the frame, a few of them partly outside it."""
    generator = torch.Generator().manual_seed(seed)
    batch, _, _, height, width = clip_shape
    clip = torch.rand(clip_shape, generator=generator) * 255
    count = batch * rois_per_clip
    size = torch.rand(count, 2, generator=generator) * 0.5 + 0.1
    corner = torch.rand(count, 2, generator=generator) * 1.1 - 0.05
    scale = torch.tensor([width, height], dtype=torch.float32)
    boxes = torch.cat([corner * scale, (corner + size) * scale], dim=1)
    index = torch.arange(batch, dtype=torch.float32).repeat_interleave(rois_per_clip)[:, None]
    return clip, torch.cat([index, boxes], dim=1)


def check_shapes(clip_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The given shape and one with another B, H and W (the exported axes are dynamic)."""
    batch, channels, time, height, width = clip_shape
    return [tuple(clip_shape), (batch + 1, channels, time, height + 16, max(width - 32, 32))]


@torch.no_grad()
def max_score_diff(run: Callable[[Tensor, Tensor], Tensor], detector, clip_shape: tuple[int, ...]) -> float:
    """Max |run(clip, rois) - detector.score_rois(clip, rois)| over `check_shapes(clip_shape)`."""
    detector.eval()
    worst = 0.0
    for index, shape in enumerate(check_shapes(clip_shape)):
        clip, rois = random_inputs(shape, seed=index)
        want = detector.score_rois(clip, rois)
        got = run(clip, rois)
        if got.shape != want.shape:
            raise AssertionError(f"exported model gave scores {list(got.shape)}, eager {list(want.shape)}")
        worst = max(worst, (got.float() - want.float()).abs().max().item())
    return worst
