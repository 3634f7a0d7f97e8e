"""RoI sampling (mmdet `RandomSampler` with num 32, pos_fraction 1, ground truths added)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from slowbench.models.assigner import Assignment


@dataclass
class Sample:
    """Sampled RoIs of one clip: `boxes [P + Q, 4]` (positives first), `labels [P + Q, C]`
    (zeros for the Q negatives), `num_pos` = P."""

    boxes: Tensor
    labels: Tensor
    num_pos: int


def _choose(candidates: Tensor, num: int, generator: torch.Generator | None) -> Tensor:
    if candidates.numel() > num:
        order = torch.randperm(candidates.numel(), generator=generator)[:num]
        candidates = candidates[order.to(candidates.device)]
    return candidates.unique()  # sorted, as the reference


def sample_rois(
    proposals: Tensor,
    gt_boxes: Tensor,
    gt_labels: Tensor,
    assignment: Assignment,
    *,
    num: int = 32,
    generator: torch.Generator | None = None,
) -> Sample:
    """Prepends the gt boxes to the proposals (always positive, matched to themselves), then
    draws at most `num` positives uniformly without replacement and fills the rest with
    negatives the same way; positives then negatives, each in ascending index order."""
    boxes = torch.cat([gt_boxes.to(proposals.dtype), proposals])
    gt_inds = torch.cat([torch.arange(1, gt_boxes.shape[0] + 1, device=proposals.device), assignment.gt_inds])
    labels = torch.cat([gt_labels, assignment.labels])
    pos = _choose(torch.nonzero(gt_inds > 0).flatten(), num, generator)
    neg = _choose(torch.nonzero(gt_inds == 0).flatten(), num - pos.numel(), generator)
    keep = torch.cat([pos, neg])
    return Sample(boxes[keep], labels[keep], pos.numel())
