"""Proposal-to-ground-truth assignment (mmaction2 `MaxIoUAssignerAVA` with mmdet's defaults)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-6) -> Tensor:
    """IoU `[M, N]` of `[M, 4]` and `[N, 4]` (x1, y1, x2, y2) boxes; areas without a +1 pixel."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    overlap = wh[..., 0] * wh[..., 1]
    union = (area1[:, None] + area2[None, :] - overlap).clamp(min=eps)
    return overlap / union


@dataclass
class Assignment:
    """Per proposal: `gt_inds [N]` (0 negative, i+1 matched to gt i), `max_overlaps [N]`,
    `labels [N, num_classes]` (the matched gt's multi-hot row, zeros otherwise)."""

    gt_inds: Tensor
    max_overlaps: Tensor
    labels: Tensor


def assign_max_iou(
    proposals: Tensor,
    gt_boxes: Tensor,
    gt_labels: Tensor,
    *,
    pos_iou_thr: float = 0.9,
    neg_iou_thr: float = 0.9,
    min_pos_iou: float = 0.9,
) -> Assignment:
    """Reference assignment: a proposal is positive when its best IoU reaches `pos_iou_thr`;
    then every gt whose best IoU reaches `min_pos_iou` also claims *all* proposals tied at that
    best IoU (processed in gt order, so later gts win)."""
    num_proposals = proposals.shape[0]
    gt_inds = torch.full((num_proposals,), -1, dtype=torch.long, device=proposals.device)
    labels = gt_labels.new_zeros((num_proposals, gt_labels.shape[1]))
    if gt_boxes.shape[0] == 0 or num_proposals == 0:
        return Assignment(gt_inds.zero_(), proposals.new_zeros(num_proposals), labels)
    overlaps = box_iou(gt_boxes, proposals)  # [M, N]
    max_overlaps, argmax = overlaps.max(dim=0)
    gt_inds[(max_overlaps >= 0) & (max_overlaps < neg_iou_thr)] = 0
    positive = max_overlaps >= pos_iou_thr
    gt_inds[positive] = argmax[positive] + 1
    gt_max_overlaps = overlaps.max(dim=1).values
    for i in range(gt_boxes.shape[0]):
        if gt_max_overlaps[i] >= min_pos_iou:
            gt_inds[overlaps[i] == gt_max_overlaps[i]] = i + 1
    matched = gt_inds > 0
    labels[matched] = gt_labels[gt_inds[matched] - 1]
    return Assignment(gt_inds, max_overlaps, labels)
