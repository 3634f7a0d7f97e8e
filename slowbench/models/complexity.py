"""Parameter and FLOP counts of a model at a clip shape (torch's FlopCounterMode)."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def complexity(model: nn.Module, clip_shape: tuple[int, ...]) -> tuple[int, float]:
    """`(parameters of model, GFLOPs of one backbone forward)` at `clip_shape` `[B, 3, T, H, W]`
    or `[3, T, H, W]` (B = 1).

    For a detector the FLOPs are the backbone's (the RoI head's depend on the proposals and are
    <1% of it). FLOPs count a multiply-add as 2, so they are twice the "FLOPs" (really MACs)
    that mmaction2 and fvcore publish. The count runs on a meta-device copy: no real compute.
    """
    if len(clip_shape) == 4:
        clip_shape = (1, *clip_shape)
    if len(clip_shape) != 5 or clip_shape[1] != 3:
        raise ValueError(f"clip_shape must be [B, 3, T, H, W] or [3, T, H, W], got {clip_shape}")
    params = sum(p.numel() for p in model.parameters())
    network = getattr(model, "backbone", model)
    meta = copy.deepcopy(network).to("meta").eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        meta(torch.empty(clip_shape, device="meta"))
    return params, counter.get_total_flops() / 1e9
