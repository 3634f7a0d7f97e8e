"""RoI feature extractor (mmaction2 `SingleRoIExtractor3D` as configured for SlowOnly).

    features [N, C, T, H, W]
        |  temporal pool over T (avg or max)           -> [N, C, 1, H, W]
        |  RoIAlign 8x8, scale 1/16, adaptive sampling, aligned
        v
    roi features [K, C, 1, 8, 8]   (+ context: clip map avg-pooled to 8x8, concatenated -> 2C)

`order="pool_then_align"` is the reference order (needed to reproduce its checkpoints);
`order="fused"` runs the fused op `roi_align_3d_pool`, which aligns every frame and then pools
over T (the same numbers for "avg", different ones for "max").
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from slowbench import ops

RoiOrder = Literal["pool_then_align", "fused"]
TemporalMode = Literal["avg", "max"]


class RoIExtractor3d(nn.Module):
    """`(features [N, C, T, H, W], rois [K, 5] = (clip index, x1, y1, x2, y2) input pixels)
    -> [K, C or 2C, 1, S, S]`. No learnable parameters."""

    def __init__(
        self,
        *,
        output_size: int,
        spatial_scale: float,
        sampling_ratio: int,
        aligned: bool,
        temporal_pool_mode: TemporalMode,
        with_global: bool,
        roi_order: RoiOrder,
    ) -> None:
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned
        self.temporal_pool_mode = temporal_pool_mode
        self.with_global = with_global
        self.roi_order = roi_order

    def forward(self, features: Tensor, rois: Tensor) -> Tensor:
        size = (self.output_size, self.output_size)
        pooled = None
        if self.roi_order == "fused":
            roi_feats = ops.roi_align_3d_pool(
                features,
                rois,
                size,
                self.spatial_scale,
                self.sampling_ratio,
                self.aligned,
                temporal_mode=self.temporal_pool_mode,
            )
        else:
            pooled = ops.temporal_pool(features, mode=self.temporal_pool_mode)
            roi_feats = ops.roi_align_3d(
                pooled,
                rois,
                size,
                spatial_scale=self.spatial_scale,
                sampling_ratio=self.sampling_ratio,
                aligned=self.aligned,
            )
        if not self.with_global:
            return roi_feats
        if pooled is None:
            pooled = ops.temporal_pool(features, mode=self.temporal_pool_mode)
        context = F.adaptive_avg_pool2d(pooled[:, :, 0], size)  # [N, C, S, S]
        context = context[rois[:, 0].long()].unsqueeze(2)  # [K, C, 1, S, S]
        return torch.cat([roi_feats, context], dim=1)


def create_roi_extractor(
    *,
    output_size: int = 8,
    spatial_scale: float = 1 / 16,
    sampling_ratio: int = 0,
    aligned: bool = True,
    temporal_pool_mode: TemporalMode = "avg",
    with_global: bool = False,
    roi_order: RoiOrder = "pool_then_align",
) -> RoIExtractor3d:
    """The reference extractor; every default is mmaction2's SlowOnly setting."""
    if temporal_pool_mode not in ("avg", "max"):
        raise ValueError(f"temporal_pool_mode={temporal_pool_mode!r} must be 'avg' or 'max'")
    if roi_order not in ("pool_then_align", "fused"):
        raise ValueError(f"roi_order={roi_order!r} must be 'pool_then_align' or 'fused'")
    return RoIExtractor3d(
        output_size=output_size,
        spatial_scale=spatial_scale,
        sampling_ratio=sampling_ratio,
        aligned=aligned,
        temporal_pool_mode=temporal_pool_mode,
        with_global=with_global,
        roi_order=roi_order,
    )
