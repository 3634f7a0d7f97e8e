"""The SlowOnly detector (mmdet `FastRCNN` without RPN): preprocessing, backbone, RoI head."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from slowbench.model_zoo import ZooRow, get_row
from slowbench.models.bbox_head import create_bbox_head
from slowbench.models.resnet3d import (
    NonLocalPattern,
    ResNet3dSlowOnly,
    create_slowonly_backbone,
    reference_non_local_pattern,
)
from slowbench.models.roi_extractor import RoiOrder, TemporalMode, create_roi_extractor
from slowbench.models.roi_head import AVARoIHead

# mmaction2's ActionDataPreprocessor statistics, for RGB pixels in 0..255.
PIXEL_MEAN = (123.675, 116.28, 103.53)
PIXEL_STD = (58.395, 57.12, 57.375)


class Detector(nn.Module):
    """`clips [B, 3, T, H, W]` RGB 0..255 + per-clip proposals `[n_i, 4]` (x1, y1, x2, y2 pixels)
    -> `loss(...)` dict in training, `predict(...)` per-clip scores `[n_i, num_classes]`."""

    def __init__(self, *, backbone: ResNet3dSlowOnly, roi_head: AVARoIHead) -> None:
        super().__init__()
        self.backbone = backbone
        self.roi_head = roi_head
        # Non-persistent: not in the reference checkpoints.
        self.register_buffer("pixel_mean", torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(PIXEL_STD).view(1, 3, 1, 1, 1), persistent=False)

    @property
    def num_classes(self) -> int:
        return self.roi_head.bbox_head.num_classes

    def normalise(self, clips: Tensor) -> Tensor:
        """`[B, 3, T, H, W]` 0..255 RGB -> `(x - mean) / std` per channel."""
        _check_clips(clips)
        return (clips - self.pixel_mean) / self.pixel_std

    def loss(
        self,
        clips: Tensor,
        proposals: list[Tensor],
        gt_boxes: list[Tensor],
        gt_labels: list[Tensor],
        *,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """`loss_action_cls` (the total to optimise) plus recall/precision metrics.

        `gt_labels[i]` is `[m_i, num_classes]` multi-hot (AVA: raw action id = column).
        `generator` drives the RoI sampler (default: the global torch RNG, like the reference).
        """
        x = self.normalise(clips)
        proposals = _check_boxes("proposals", proposals, x)
        gt_boxes = _check_boxes("gt_boxes", gt_boxes, x)
        gt_labels = _check_labels(gt_labels, gt_boxes, self.num_classes)
        return self.roi_head.loss(self.backbone(x), proposals, gt_boxes, gt_labels, generator)

    def predict(self, clips: Tensor, proposals: list[Tensor]) -> list[Tensor]:
        """Per-clip `[n_i, num_classes]` sigmoid (softmax for single-label) scores of every
        column; a clip without proposals gives `[0, num_classes]`. Call in eval mode."""
        x = self.normalise(clips)
        proposals = _check_boxes("proposals", proposals, x)
        if sum(p.shape[0] for p in proposals) == 0:
            return [x.new_zeros((0, self.num_classes)) for _ in proposals]
        return self.roi_head.predict(self.backbone(x), proposals)

    def score_rois(self, clips: Tensor, rois: Tensor) -> Tensor:
        """`predict` on flat RoIs `[K, 5]` (clip index, x1, y1, x2, y2 pixels) -> `[K, num_classes]`,
        the traceable form that the deployment exports run. The RoIs are not validated here."""
        return self.roi_head.score_rois(self.backbone(self.normalise(clips)), rois)


def _check_clips(clips: Tensor) -> None:
    if not isinstance(clips, Tensor) or clips.dim() != 5 or clips.shape[1] != 3:
        shape = list(clips.shape) if isinstance(clips, Tensor) else type(clips).__name__
        raise ValueError(f"clips must be a [B, 3, T, H, W] RGB tensor, got {shape}")
    if not clips.is_floating_point():
        raise ValueError(f"clips must be floating point (RGB 0..255), got {clips.dtype}")


def _check_boxes(name: str, boxes: list[Tensor], clips: Tensor) -> list[Tensor]:
    """Validated boxes on the device and in the dtype of `clips`."""
    batch = len(clips)
    if not isinstance(boxes, (list, tuple)) or len(boxes) != batch:
        raise ValueError(
            f"{name} must be a list of {batch} tensors (one per clip), "
            f"got {type(boxes).__name__} of length {len(boxes)}"
        )
    for i, box in enumerate(boxes):
        if not isinstance(box, Tensor) or box.dim() != 2 or box.shape[1] != 4:
            shape = list(box.shape) if isinstance(box, Tensor) else type(box).__name__
            raise ValueError(f"{name}[{i}] must be [n, 4] (x1, y1, x2, y2), got {shape}")
        if not torch.isfinite(box).all():
            raise ValueError(f"{name}[{i}] has non-finite values")
    return [box.to(device=clips.device, dtype=clips.dtype) for box in boxes]


def _check_labels(labels: list[Tensor], boxes: list[Tensor], num_classes: int) -> list[Tensor]:
    if not isinstance(labels, (list, tuple)) or len(labels) != len(boxes):
        raise ValueError(f"gt_labels must be a list of {len(boxes)} tensors (one per clip)")
    for i, (label, box) in enumerate(zip(labels, boxes)):
        expected = [box.shape[0], num_classes]
        if not isinstance(label, Tensor) or list(label.shape) != expected:
            shape = list(label.shape) if isinstance(label, Tensor) else type(label).__name__
            raise ValueError(f"gt_labels[{i}] must be {expected} multi-hot, got {shape}")
    return [label.to(device=box.device, dtype=box.dtype) for label, box in zip(labels, boxes)]


def create_detector(
    *,
    depth: int = 50,
    base_channels: int = 64,
    num_classes: int = 81,
    nonlocal_stages: NonLocalPattern | Literal["reference"] | None = None,
    # RoI extractor
    temporal_pool_mode: TemporalMode = "avg",
    with_global: bool = False,
    roi_order: RoiOrder = "pool_then_align",
    # head and loss
    mlp_head: bool = False,
    background_class: bool = True,
    multilabel: bool = True,
    focal_gamma: float = 0.0,
    focal_alpha: float = 1.0,
    dropout: float = 0.5,
    # training assignment and sampling
    num_rois: int = 32,
    pos_iou_thr: float = 0.9,
) -> Detector:
    """A SlowOnly detector; defaults are mmaction2's AVA2.1 R50 4x16 row.

    `nonlocal_stages`: None (no non-local), "reference" (mmaction2's R50-NL placement for this
    depth) or an explicit per-stage 0/1 pattern.
    """
    _check_arguments(
        sizes=dict(base_channels=base_channels, num_classes=num_classes, num_rois=num_rois),
        flags=dict(
            with_global=with_global,
            mlp_head=mlp_head,
            background_class=background_class,
            multilabel=multilabel,
        ),
        thresholds=(pos_iou_thr, focal_gamma, focal_alpha),
    )
    if nonlocal_stages == "reference":
        nonlocal_stages = reference_non_local_pattern(depth)
    backbone = create_slowonly_backbone(
        depth=depth, base_channels=base_channels, non_local_pattern=nonlocal_stages or None
    )
    extractor = create_roi_extractor(
        temporal_pool_mode=temporal_pool_mode, with_global=with_global, roi_order=roi_order
    )
    in_channels = backbone.out_channels * (2 if with_global else 1)
    head = create_bbox_head(
        in_channels=in_channels,
        num_classes=num_classes,
        dropout=dropout,
        mlp_head=mlp_head,
        background_class=background_class,
        multilabel=multilabel,
        focal_gamma=focal_gamma,
        focal_alpha=focal_alpha,
    )
    roi_head = AVARoIHead(
        bbox_roi_extractor=extractor, bbox_head=head, num_rois=num_rois, pos_iou_thr=pos_iou_thr
    )
    return Detector(backbone=backbone, roi_head=roi_head)


def _check_arguments(*, sizes: dict, flags: dict, thresholds: tuple) -> None:
    """ValueError naming the first bad `create_detector` argument: sizes are integers >= 1
    (`num_classes` >= 2 with a background class), flags booleans, `thresholds` the numbers
    pos_iou_thr in (0, 1], focal_gamma >= 0 and focal_alpha >= 0."""
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise ValueError(f"{name}={flag!r} must be true or false")
    for name, value in sizes.items():
        minimum = 2 if name == "num_classes" and flags["background_class"] else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")
    pos_iou_thr, focal_gamma, focal_alpha = thresholds
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in thresholds) or not (
        0 < pos_iou_thr <= 1 and focal_gamma >= 0 and focal_alpha >= 0
    ):
        raise ValueError(
            f"pos_iou_thr={pos_iou_thr} must be in (0, 1], focal_gamma={focal_gamma} and "
            f"focal_alpha={focal_alpha} >= 0"
        )


def detector_kwargs(row: ZooRow) -> dict:
    """The `create_detector` arguments of a model-zoo row."""
    return dict(
        depth=row.depth,
        num_classes=row.num_classes,
        nonlocal_stages="reference" if row.non_local else None,
        temporal_pool_mode=row.temporal_pool_mode,
        with_global=row.with_global,
        mlp_head=row.mlp_head,
        background_class=row.background_class,
        multilabel=row.multilabel,
        focal_gamma=row.focal_gamma,
        focal_alpha=row.focal_alpha,
        dropout=row.dropout,
    )


def build_detector(row: ZooRow | str, **overrides) -> Detector:
    """The detector of a zoo row (a `ZooRow`, short name or config name); keyword overrides
    replace row values, e.g. `build_detector("ava21-k400-r50-4x16", depth=18, base_channels=8)`."""
    if isinstance(row, str):
        row = get_row(row)
    return create_detector(**{**detector_kwargs(row), **overrides})
