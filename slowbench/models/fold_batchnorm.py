"""Inference-time folding of BatchNorm3d into the preceding convolution."""

from __future__ import annotations

import copy

import torch
from torch import nn

from slowbench.models.conv_norm import ConvNormAct


@torch.no_grad()
def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode copy of `model` in which every conv + BN pair is one conv with a bias:
    `w' = w * g / sqrt(var + eps)`, `b' = beta + (b - mean) * g / sqrt(var + eps)`.

    Same outputs as `model.eval()` up to float rounding, one pass over each activation fewer.
    The copy's state dict no longer has the reference keys: use it for inference only.
    """
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        if not isinstance(module, ConvNormAct) or module.bn is None:
            continue
        conv, bn = module.conv, module.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        fused = nn.Conv3d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            bias=True,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
        )
        fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1, 1))
        fused.bias.copy_(bn.bias + (bias - bn.running_mean) * scale)
        module.conv, module.bn = fused, None
    return folded
