"""RoI head (mmaction2 `AVARoIHead`): assignment, sampling, extraction and classification."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from slowbench.models.assigner import assign_max_iou
from slowbench.models.bbox_head import BBoxHeadAVA
from slowbench.models.roi_extractor import RoIExtractor3d
from slowbench.models.sampler import sample_rois


def boxes_to_rois(boxes: list[Tensor]) -> Tensor:
    """Per-clip `[n_i, 4]` boxes -> `[sum n_i, 5]` rois (clip index, x1, y1, x2, y2)."""
    return torch.cat(
        [torch.cat([b.new_full((b.shape[0], 1), float(i)), b], dim=1) for i, b in enumerate(boxes)]
    )


class AVARoIHead(nn.Module):
    """Features `[N, C, T, h, w]` + per-clip boxes -> losses (training) or per-RoI scores (test).
    Only `bbox_head` has parameters, so state-dict keys are `roi_head.bbox_head.*`."""

    def __init__(
        self, *, bbox_roi_extractor: RoIExtractor3d, bbox_head: BBoxHeadAVA, num_rois: int, pos_iou_thr: float
    ) -> None:
        super().__init__()
        self.bbox_roi_extractor = bbox_roi_extractor
        self.bbox_head = bbox_head
        self.num_rois = num_rois
        self.pos_iou_thr = pos_iou_thr

    def loss(
        self,
        features: Tensor,
        proposals: list[Tensor],
        gt_boxes: list[Tensor],
        gt_labels: list[Tensor],
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        boxes, labels = [], []
        for clip_proposals, clip_gt_boxes, clip_gt_labels in zip(proposals, gt_boxes, gt_labels):
            assignment = assign_max_iou(
                clip_proposals,
                clip_gt_boxes,
                clip_gt_labels,
                pos_iou_thr=self.pos_iou_thr,
                neg_iou_thr=self.pos_iou_thr,
                min_pos_iou=self.pos_iou_thr,
            )
            sample = sample_rois(
                clip_proposals,
                clip_gt_boxes,
                clip_gt_labels,
                assignment,
                num=self.num_rois,
                generator=generator,
            )
            boxes.append(sample.boxes)
            labels.append(sample.labels)
        # The boxes keep their dtype (float32) when the features are low precision (autocast):
        # the ops read RoIs of any floating dtype.
        logits = self.bbox_head(self.bbox_roi_extractor(features, boxes_to_rois(boxes)))
        return self.bbox_head.loss(logits, torch.cat(labels))

    def predict(self, features: Tensor, proposals: list[Tensor]) -> list[Tensor]:
        scores = self.score_rois(features, boxes_to_rois(proposals))
        return list(scores.split([p.shape[0] for p in proposals]))

    def score_rois(self, features: Tensor, rois: Tensor) -> Tensor:
        """Features `[N, C, T, h, w]`, rois `[K, 5]` -> scores `[K, num_classes]`."""
        return self.bbox_head.scores(self.bbox_head(self.bbox_roi_extractor(features, rois)))
