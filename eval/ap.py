"""VOC all-point average precision from ranked true/false-positive flags."""

import numpy as np

__all__ = ["precision_recall", "voc_ap"]


def precision_recall(tp_ranked, n_gt):
    """Precision and recall after each ranked detection.

    `tp_ranked`: bool `[D]`, detections already in rank order (best first); `n_gt`: positives.
    Returns float64 `[D]` precision and recall (recall is NaN-free only when `n_gt > 0`).
    """
    cum_tp = np.cumsum(tp_ranked, dtype=np.float64)
    ranks = np.arange(1, cum_tp.size + 1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return cum_tp / ranks, cum_tp / float(n_gt)


def voc_ap(precision, recall):
    """Area under the precision envelope (VOC all-point, not 11-point).

    Pads recall with 0/1 and precision with 0/0, makes precision non-increasing from the right,
    and sums `(r_i - r_{i-1}) * p_i` where recall changes. Empty inputs give 0.
    """
    recall = np.concatenate(([0.0], recall, [1.0]))
    precision = np.concatenate(([0.0], precision, [0.0]))
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1]) + 1
    return float(np.sum((recall[steps] - recall[steps - 1]) * envelope[steps]))
