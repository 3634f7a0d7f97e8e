"""Vectorised greedy detection-to-ground-truth matching (the rule shared by every evaluator).

Within one group (an image and a class), detections are visited best first; each takes the
ground-truth box of largest IoU (first index on equal IoU, a NaN IoU wins like numpy's argmax)
and is a true positive iff that IoU >= thr and the box is still unmatched. There is no fallback
to the second-best box, so the box a detection points at does not depend on earlier detections:
a detection is a TP iff its best IoU passes the threshold and it is the first such detection
pointing at that box. That makes the whole rule a few array operations.
"""

import numpy as np

from eval.box_iou import paired_iou

__all__ = ["best_gt_overlap", "true_positives"]


def best_gt_overlap(det_group, det_boxes, gt_group, gt_boxes):
    """Best ground-truth box of every detection within its group.

    det_group: int64 `[D]` group id of each detection; det_boxes: `[D, 4]` (x1, y1, x2, y2).
    gt_group: int64 `[G]` group id of each gt box, sorted ascending (boxes of a group in their
    tie-break order); gt_boxes: `[G, 4]`, same dtype as det_boxes (the IoU dtype).
    Returns (gt_index int64 `[D]`, -1 where the group has no gt; iou `[D]`, NaN where none).
    """
    # Binary search of each detection's group among the gt groups: a hash lookup
    # (pandas.Index) is faster on 10^5 keys but pandas would be imported for it alone.
    is_first = np.ones(gt_group.size, dtype=bool)
    is_first[1:] = gt_group[1:] != gt_group[:-1]
    group_start = np.flatnonzero(is_first)
    group_count = np.diff(np.append(group_start, gt_group.size))
    keys = gt_group[group_start]
    best_index = np.full(det_group.size, -1, dtype=np.int64)
    best_iou = np.full(det_group.size, np.nan, dtype=det_boxes.dtype)
    if keys.size == 0:
        return best_index, best_iou
    slot = np.minimum(np.searchsorted(keys, det_group), keys.size - 1)
    found = keys[slot] == det_group
    start = np.where(found, group_start[slot], 0)
    count = np.where(found, group_count[slot], 0)
    has_gt = np.flatnonzero(count > 0)
    if has_gt.size == 0:
        return best_index, best_iou
    counts = count[has_gt]
    pair_det = np.repeat(has_gt, counts)
    first_pair = np.cumsum(counts) - counts
    offset_in_det = np.arange(pair_det.size) - np.repeat(first_pair, counts)
    pair_gt = np.repeat(start[has_gt], counts) + offset_in_det
    # np.take gathers whole rows several times faster than fancy indexing does.
    iou = paired_iou(np.take(gt_boxes, pair_gt, axis=0), np.take(det_boxes, pair_det, axis=0))
    # numpy's argmax semantics per segment: the first NaN if any, else the first maximum.
    nan = np.isnan(iou)
    any_nan = np.logical_or.reduceat(nan, first_pair)
    maximum = np.fmax.reduceat(np.where(nan, -np.inf, iou), first_pair)
    hit = np.where(np.repeat(any_nan, counts), nan, iou == np.repeat(maximum, counts))
    first_hit = np.minimum.reduceat(np.where(hit, offset_in_det, np.iinfo(np.int64).max), first_pair)
    chosen = first_pair + first_hit
    best_index[has_gt] = pair_gt[chosen]
    best_iou[has_gt] = iou[chosen]
    return best_index, best_iou


def true_positives(gt_index, iou, thr):
    """TP flags `[D]` for detections given in matching order (best first within each group).

    `gt_index`/`iou` come from `best_gt_overlap`. `iou >= thr` is decided in float64 (numpy 1.x
    promotion, under which the reference numbers were produced), equality counting as a match.
    """
    with np.errstate(invalid="ignore"):
        candidate = np.flatnonzero((gt_index >= 0) & (iou.astype(np.float64) >= thr))
    _, first = np.unique(gt_index[candidate], return_index=True)
    tp = np.zeros(gt_index.size, dtype=bool)
    tp[candidate[first]] = True
    return tp
