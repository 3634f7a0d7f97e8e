"""MultiSports video-AP: per-label AP of scored tubes against gt tubes at many thresholds.

Matches the official `videoAP`: per label, tubes ranked by descending score (stable: ties in
input order); each takes the gt tube of its video with the largest spatio-temporal IoU
(first on ties, NaN wins like numpy's argmax) and is a TP iff that IoU >= thr and the gt
tube is unmatched. Tube IoU = temporal IoU (frame differences, no +1) x mean per-frame IoU
over the common frames, computed in float32 like the reference. IoUs are computed once and
reused for every threshold.
"""

import numpy as np

from eval.ap import precision_recall, voc_ap
from eval.box_iou import paired_iou
from eval.greedy_match import true_positives

__all__ = ["tube_iou", "tube_iou_parts", "video_ap"]


def tube_iou(gt_tube, det_tube):
    """Spatio-temporal IoU of two tubes `[T, >=5]` (frame, x1, y1, x2, y2, ...), float32."""
    spatial, temporal = tube_iou_parts(gt_tube, det_tube)
    with np.errstate(invalid="ignore"):
        return spatial * temporal


def tube_iou_parts(gt_tube, det_tube):
    """(spatial, temporal) IoU of two tubes, float32; their product is `tube_iou`.

    temporal = common / union frame span (frame differences, no +1); spatial = mean per-frame
    IoU over the common frames. Tubes without common frames give (0, 0).
    """
    first = max(gt_tube[0, 0], det_tube[0, 0])
    last = min(gt_tube[-1, 0], det_tube[-1, 0])
    if last < first:
        return np.float32(0.0), np.float32(0.0)
    union = max(gt_tube[-1, 0], det_tube[-1, 0]) - min(gt_tube[0, 0], det_tube[0, 0])
    gt_rows = gt_tube[int(first - gt_tube[0, 0]) : int(last - gt_tube[0, 0]) + 1, 1:5]
    det_rows = det_tube[int(first - det_tube[0, 0]) : int(last - det_tube[0, 0]) + 1, 1:5]
    spatial = np.mean(paired_iou(gt_rows, det_rows))
    with np.errstate(invalid="ignore", divide="ignore"):
        return spatial, (last - first) / union


def video_ap(gt, video_dets, thresholds):
    """AP per evaluated label for each threshold.

    gt: `GroundTruth`; video_dets: {label: [(video name, score, tube [T, 6])]}.
    Returns ({thr: {label: ap}}, {label: {"num_gt_tubes", "num_tubes"}}).
    """
    video_index = {video: i for i, video in enumerate(gt.videos)}
    aps = {thr: {} for thr in thresholds}
    counts = {}
    for label in gt.evaluated_labels():
        gt_by_video, gt_offset, n_gt = {}, {}, 0
        for video, tube in gt.tubes[label]:
            gt_by_video.setdefault(video, []).append(tube)
        for video, tubes in gt_by_video.items():
            gt_offset[video], n_gt = n_gt, n_gt + len(tubes)
        dets = list(video_dets.get(label, ()))
        order = np.argsort(-np.array([d[1] for d in dets], dtype=np.float64), kind="stable")
        best_gt = np.full(len(dets), -1, dtype=np.int64)
        best_iou = np.full(len(dets), np.nan)
        for rank, j in enumerate(order):
            video, _, tube = dets[j]
            candidates = gt_by_video.get(video_index[video])
            if not candidates:
                continue
            tube = np.asarray(tube, dtype=np.float32)
            ious = np.array([tube_iou(g, tube) for g in candidates], dtype=np.float32)
            best = int(np.argmax(ious))
            best_gt[rank] = gt_offset[video_index[video]] + best
            best_iou[rank] = ious[best]
        counts[label] = {"num_gt_tubes": n_gt, "num_tubes": len(dets)}
        for thr in thresholds:
            tp = true_positives(best_gt, best_iou, thr)
            aps[thr][label] = voc_ap(*precision_recall(tp, n_gt))
    return aps, counts
