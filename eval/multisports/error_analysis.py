"""MultiSports video-AP error analysis, equal to the official toolkit's `videoAP_error`.

Per label (every label except the six never-evaluated names, labels without gt included),
tubes are visited by descending score (stable: ties in input order) and each is, in order:
1. TP or **repeat**: its best same-label gt tube in its video has IoU >= thr; a TP if that gt
   tube is unmatched, else a repeat;
2. **cls**: a gt tube of another label in its video has IoU >= thr (the first best);
3. otherwise, with g = the gt tube of any label in its video with the largest IoU (first
   best, labels in the gt pickle's order): if IoU(g) > 0, split by temporal IoU t and spatial
   IoU s against g with sqrt(thr) thresholds: same label -> **loc** (t ok, s not), **time**
   (s ok, t not), **time+loc** (neither); another label -> **cls+loc**, **cls+time**,
   **cls+time+loc**; if no gt tube overlaps (IoU 0) -> **extra**.
Each kind k gets the VOC area of (count_k / rank) against recall, like AP is the area of
precision; **missed** = 1 - the final recall (1 without detections). Precision, recall and
the error fractions are rounded to float32 before the area, as the toolkit stores them
(the rest is float64, numpy 1.x's promotion of float32 scalars with Python numbers).
Where the toolkit fails (a label without gt but with tubes divides by zero; a video without gt
tubes has nothing to take the maximum of) recall is taken as 0 and such tubes count as extra.
All values are fractions in 0..1 (the toolkit prints percentages).
"""

import math

import numpy as np

from eval.ap import voc_ap
from eval.multisports.io import SKIPPED_LABEL_NAMES
from eval.multisports.video_ap import tube_iou, tube_iou_parts
from eval.report.tables import format_table, percent

__all__ = ["ERROR_KINDS", "format_errors_table", "video_errors"]

ERROR_KINDS = ("repeat", "extra", "loc", "cls", "time", "cls+time", "cls+loc", "time+loc", "cls+time+loc")
_TP = len(ERROR_KINDS)  # kind code of a true positive
_CODE = {kind: code for code, kind in enumerate(ERROR_KINDS)}


def video_errors(gt, video_dets, thr):
    """The error breakdown at tube-IoU threshold `thr`.

    gt: `GroundTruth`; video_dets: validated {label: [(video name, score, tube [T, 6])]}.
    Returns {"thr", "per_class": {label name: {"AP", <ERROR_KINDS>, "missed"}}, "mean": {...}}
    and, separately, the count of each kind and of TPs per label: {label name: {kind: n}}.
    """
    video_index = {video: i for i, video in enumerate(gt.videos)}
    per_class, counts = {}, {}
    for label, name in enumerate(gt.labels):
        if name in SKIPPED_LABEL_NAMES:
            continue
        entries = list(video_dets.get(label, ()))
        order = np.argsort(-np.array([e[1] for e in entries], dtype=np.float64), kind="stable")
        matched = set()
        kinds = np.array(
            [
                _classify(
                    gt,
                    video_index[entries[j][0]],
                    label,
                    np.asarray(entries[j][2], dtype=np.float32),
                    thr,
                    matched,
                )
                for j in order
            ],
            dtype=np.int64,
        )
        n_gt = len(gt.tubes.get(label, ()))
        per_class[name] = _areas(kinds, n_gt)
        counts[name] = {kind: int(np.sum(kinds == code)) for kind, code in _CODE.items()}
        counts[name]["tp"] = int(np.sum(kinds == _TP))
    keys = ("AP", *ERROR_KINDS, "missed")
    mean = {
        key: float(np.mean([entry[key] for entry in per_class.values()])) if per_class else None
        for key in keys
    }
    return {"thr": thr, "per_class": per_class, "mean": mean}, counts


def _classify(gt, video, label, tube, thr, matched):
    """Kind code of one tube of `video`; `matched` holds the (video, candidate index) of this
    label's gt tubes already taken by a TP (updated). Best = numpy's argmax: the first NaN if
    any, else the first maximum."""
    candidates = gt.video_tubes[video]
    ious = np.array([tube_iou(g, tube) for _, g in candidates], dtype=np.float64)
    labels = np.array([gt_label for gt_label, _ in candidates], dtype=np.int64)
    same = np.flatnonzero(labels == label)
    if same.size:
        best = same[np.argmax(ious[same])]
        if ious[best] >= thr:
            if (video, best) in matched:
                return _CODE["repeat"]
            matched.add((video, best))
            return _TP
    other = np.flatnonzero(labels != label)
    if other.size and ious[other[np.argmax(ious[other])]] >= thr:
        return _CODE["cls"]
    if not ious.size:
        return _CODE["extra"]
    best = int(np.argmax(ious))
    if not ious[best] > 0:
        return _CODE["extra"]
    spatial, temporal = tube_iou_parts(candidates[best][1], tube)
    root = math.sqrt(thr)
    prefix = "" if labels[best] == label else "cls+"
    if float(temporal) >= root:
        return _CODE[prefix + "loc"]
    if float(spatial) >= root:
        return _CODE[prefix + "time"]
    return _CODE[prefix + "time+loc"]


def _areas(kinds, n_gt):
    """AP, the error areas and missed of one label from its ranked kind codes `[D]`."""
    if kinds.size == 0:
        return {"AP": 0.0, **{kind: 0.0 for kind in ERROR_KINDS}, "missed": 1.0}
    ranks = np.arange(1, kinds.size + 1, dtype=np.float64)
    cum_tp = np.cumsum(kinds == _TP, dtype=np.float64)
    recall = (cum_tp / n_gt if n_gt else np.zeros_like(cum_tp)).astype(np.float32)
    result = {"AP": voc_ap((cum_tp / ranks).astype(np.float32), recall)}
    for kind, code in _CODE.items():
        fraction = (np.cumsum(kinds == code, dtype=np.float64) / ranks).astype(np.float32)
        result[kind] = voc_ap(fraction, recall)
    result["missed"] = 1.0 - float(recall[-1])
    return result


def format_errors_table(errors):
    """The breakdown as a text table in percent, like the toolkit prints it."""
    keys = ("AP", *ERROR_KINDS, "missed")
    rows = [(name, *(percent(entry[k], 2) for k in keys)) for name, entry in errors["per_class"].items()]
    rows.append(("mean", *(percent(errors["mean"][k], 2) for k in keys)))
    return format_table([f"label (tube IoU {errors['thr']})", *keys], rows)
