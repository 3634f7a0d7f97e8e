"""MultiSports frame-AP: per-label AP of frame detections against gt tube boxes.

Matches the official `frameAP` (and mmaction2's copy): per label, detections ranked by
descending score (stable: ties in input row order), greedy matching at IoU >= thr (no +1)
within (video, frame), detections on frames without gt of the label are false positives,
labels without gt or with a skipped name are left out. IoUs are computed once and reused for
every threshold.
"""

import numpy as np

from eval.ap import precision_recall, voc_ap
from eval.greedy_match import best_gt_overlap, true_positives
from eval.int_sort import descending_rank, order_by

__all__ = ["frame_ap"]


def frame_ap(gt, frame_dets, thresholds, *, keep_curves=False):
    """AP per evaluated label for each threshold.

    gt: `GroundTruth`; frame_dets: float64 `[N, 8]` validated detections.
    Returns ({thr: {label: ap}}, {label: {"num_gt", "num_det"}}, curves) where curves is
    {thr: {label: (precision, recall)}} when `keep_curves`, else {}.
    """
    labels = gt.evaluated_labels()
    n_videos = len(gt.videos)
    frame_span = int(gt.nframes.max(initial=0)) + 1

    def group_of(label, video, frame):
        return (label * n_videos + video) * frame_span + frame

    gt_group, gt_boxes = [], []
    for label in labels:
        for video, tube in gt.tubes[label]:
            frames = tube[:, 0].astype(np.int64)
            gt_group.append(group_of(label, video, frames))
            gt_boxes.append(tube[:, 1:5].astype(np.float64))
    gt_group = np.concatenate(gt_group) if gt_group else np.zeros(0, dtype=np.int64)
    gt_boxes = np.concatenate(gt_boxes) if gt_boxes else np.zeros((0, 4))
    # Stable: boxes of one frame keep the tube order of the pickle (the argmax tie-break).
    order = order_by(gt_group)
    gt_group, gt_boxes = gt_group[order], gt_boxes[order]

    det_label = frame_dets[:, 2].astype(np.int64)
    dets = frame_dets[np.isin(det_label, labels)]
    det_label = dets[:, 2].astype(np.int64)
    ranked = order_by(det_label, descending_rank(dets[:, 3]))
    dets, det_label = dets[ranked], det_label[ranked]
    det_group = group_of(det_label, dets[:, 0].astype(np.int64), dets[:, 1].astype(np.int64))
    gt_index, iou = best_gt_overlap(det_group, dets[:, 4:8], gt_group, gt_boxes)

    gt_label = gt_group // (n_videos * frame_span)
    num_gt = {
        label: int(n)
        for label, n in zip(
            labels, np.searchsorted(gt_label, labels, "right") - np.searchsorted(gt_label, labels, "left")
        )
    }
    bounds = {
        label: (np.searchsorted(det_label, label, "left"), np.searchsorted(det_label, label, "right"))
        for label in labels
    }
    counts = {
        label: {"num_gt": num_gt[label], "num_det": int(end - begin)}
        for label, (begin, end) in bounds.items()
    }
    aps, curves = {}, {}
    for thr in thresholds:
        tp = true_positives(gt_index, iou, thr)
        aps[thr], curves_at = {}, {}
        for label, (begin, end) in bounds.items():
            precision, recall = precision_recall(tp[begin:end], num_gt[label])
            aps[thr][label] = voc_ap(precision, recall)
            if keep_curves:
                curves_at[label] = (precision, recall)
        if keep_curves:
            curves[thr] = curves_at
    return aps, counts, curves
