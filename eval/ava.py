"""AVA frame-mAP at IoU 0.5: `python -m eval.ava --gt GT.csv --pred PRED.csv --label-map MAP`.

Two protocols (see `../shared/spec/evaluation_reference.md` §2 for the references):

- `mmaction2` (default) = mmaction2 1.x `ava_eval`: boxes and scores in float32; only frames with
  evaluated gt that are not excluded are evaluated, detections elsewhere are ignored; gt on
  excluded frames still counts in the recall denominator; a class with gt but no detection on an
  evaluated frame is left out of the mean; detections are concatenated in gt-file frame order.
- `activitynet` = the ActivityNet 2019 evaluator (`get_ava_performance.py -e`): float64; the top
  50 detections per frame; excluded frames removed from gt and detections; detections on any
  other frame without gt are false positives; detections without positive area are dropped;
  a class with gt but no detection scores 0 and is in the mean; concatenation in
  detection-file frame order.

Both: greedy matching at IoU >= 0.5 (no +1), VOC all-point AP, classes without gt give no AP.
Ties are broken stably: within a frame by descending score then file order; in the per-class
ranking by descending score, equal scores in reverse concatenation order (a stable ascending
sort reversed, the reference's idiom made deterministic).

In-memory use: `evaluate(gt, pred, label_map, excluded, protocol)` where `gt` / `pred` are the
readers' DataFrames or any mapping of equal-length columns `video, timestamp, x1, y1, x2, y2,
action` (+ `score` for predictions; gt may carry `person`, used only to order gt boxes like the
reference does), timestamps integer seconds, boxes normalised (x1, y1, x2, y2) in [0, 1].
"""
import heapq

import numpy as np
import pandas as pd

from eval.ap import precision_recall, voc_ap
from eval.ava_io import (check_columns, read_csv_gt, read_csv_pred, read_exclusions,
                         read_label_map, write_csv_pred)
from eval.errors import ArgumentParser, InputError, run_cli, warn_once
from eval.greedy_match import best_gt_overlap, true_positives
from eval.int_sort import descending_rank, order_by
from eval.report import format_table, percent, write_json_atomic

__all__ = [
    "evaluate", "main", "read_label_map", "read_csv_gt", "read_csv_pred", "read_exclusions",
    "write_csv_pred", "PROTOCOLS", "CATEGORIES",
]

PROTOCOLS = ("mmaction2", "activitynet")
IOU_THRESHOLD = 0.5
ACTIVITYNET_MAX_DETECTIONS = 50
# Category -> inclusive id range, as in mmaction2's `ava_eval`.
CATEGORIES = {
    "person_movement": (-np.inf, 14),
    "object_manipulation": (15, 63),
    "person_interaction": (64, np.inf),
}
_BOX = ["x1", "y1", "x2", "y2"]


def evaluate(gt, pred, label_map, excluded=(), protocol="mmaction2", *, keep_curves=False):
    """Frame-mAP of `pred` against `gt` over the classes of `label_map`.

    gt, pred: DataFrames (or column mappings) as described in the module docstring.
    label_map: {class id: name}; excluded: iterable of (video, timestamp).
    Returns the `--json` structure: {"mAP", "protocol", "per_class": {"<id>": {"name", "ap",
    "num_gt", "num_det"}}, "categories": {name: mean AP}}; APs are fractions, None when a
    class is not scored. With `keep_curves`, each per-class entry also holds "precision" and
    "recall" arrays (for plotting). Prediction rows whose action id is not in the label map are
    ignored with one InputWarning; gt rows with such ids are dropped silently (the official
    gt lists all 80 AVA ids, the label maps 60).
    """
    if protocol not in PROTOCOLS:
        raise InputError(f"protocol: expected one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    gt = check_columns(gt, "gt", with_score=False)
    pred = check_columns(pred, "pred", with_score=True)
    class_ids = np.array(sorted(label_map), dtype=np.int64)
    gt_action = gt["action"].to_numpy(dtype=np.int64)
    gt = gt[np.isin(gt_action, class_ids)]
    pred_action = pred["action"].to_numpy(dtype=np.int64)
    known = np.isin(pred_action, class_ids)
    if not known.all():
        unknown = np.unique(pred_action[~known])
        shown = ", ".join(str(i) for i in unknown[:10]) + (", ..." if unknown.size > 10 else "")
        warn_once(f"pred: ignoring {int((~known).sum())} rows whose action id is not in the "
                  f"label map ({shown})")
        pred = pred[known]

    gt_frame, pred_frame, excluded_frame = _frame_ids(gt, pred, excluded)
    gt_is_excluded = np.isin(gt_frame, excluded_frame)
    pred_is_excluded = np.isin(pred_frame, excluded_frame)
    gt_class = np.searchsorted(class_ids, gt["action"].to_numpy(dtype=np.int64))
    pred_class = np.searchsorted(class_ids, pred["action"].to_numpy(dtype=np.int64))
    pred_score64 = pred["score"].to_numpy(dtype=np.float64)
    # Frame ids are numbered by first appearance in the gt file, then the prediction file.
    if protocol == "mmaction2":
        dtype = np.float32
        num_gt = np.bincount(gt_class, minlength=class_ids.size)
        evaluated = ~pred_is_excluded & np.isin(pred_frame, gt_frame)
        gt_used = ~gt_is_excluded
        frame_rank = pred_frame
    else:
        dtype = np.float64
        gt_used = ~gt_is_excluded
        num_gt = np.bincount(gt_class[gt_used], minlength=class_ids.size)
        evaluated = ~pred_is_excluded & _positive_area(pred)
        evaluated &= _activitynet_top(pred_frame, pred, evaluated)
        frame_rank, _ = pd.factorize(pred_frame)  # numbered by first appearance in the file

    n_classes = class_ids.size
    det = np.flatnonzero(evaluated)
    det_group = pred_frame[det] * n_classes + pred_class[det]
    score_rank = descending_rank(pred_score64[det])
    # Matching order: group, then descending score, ties in file order.
    matching = order_by(det_group, score_rank)
    gt_rows = np.flatnonzero(gt_used)
    gt_group = gt_frame[gt_rows] * n_classes + gt_class[gt_rows]
    person = gt["person"].to_numpy(dtype=np.float64) if "person" in gt else np.ones(len(gt))
    person = np.where(np.isnan(person), 1.0, person)[gt_rows]
    # gt boxes of a frame are ordered by descending 8th column (the reference reads it as a score).
    gt_order = order_by(gt_group, descending_rank(person))
    gt_rows, gt_group = gt_rows[gt_order], gt_group[gt_order]
    gt_boxes = gt[_BOX].to_numpy(dtype=np.float64)[gt_rows].astype(dtype)
    det_boxes = pred[_BOX].to_numpy(dtype=np.float64)[det[matching]].astype(dtype)
    gt_index, iou = best_gt_overlap(det_group[matching], det_boxes, gt_group, gt_boxes)
    tp = np.empty(det.size, dtype=bool)
    tp[matching] = true_positives(gt_index, iou, IOU_THRESHOLD)

    # Per-class ranking: descending score, ties in reverse concatenation order.
    concat = order_by(frame_rank[det].astype(np.int64), score_rank)
    reverse_concat = np.empty_like(concat)
    reverse_concat[concat] = np.arange(concat.size - 1, -1, -1)
    cls = pred_class[det]
    ranked = order_by(cls, descending_rank(pred_score64[det].astype(dtype)), reverse_concat)
    return _summarise(label_map, class_ids, num_gt, cls[ranked], tp[ranked], protocol,
                      keep_curves)


def _frame_ids(gt, pred, excluded):
    """Integer frame ids for gt rows, prediction rows and excluded keys (shared numbering)."""
    excluded = list(excluded)
    videos = np.concatenate([
        gt["video"].to_numpy(dtype=object), pred["video"].to_numpy(dtype=object),
        np.array([str(v) for v, _ in excluded], dtype=object)])
    video_code, _ = pd.factorize(videos)
    timestamps = np.concatenate([
        gt["timestamp"].to_numpy(dtype=np.int64), pred["timestamp"].to_numpy(dtype=np.int64),
        np.array([int(t) for _, t in excluded], dtype=np.int64)])
    key = video_code.astype(np.int64) * (timestamps.max(initial=0) + 1) + timestamps
    frame, _ = pd.factorize(key)
    n_gt, n_pred = len(gt), len(pred)
    return frame[:n_gt], frame[n_gt:n_gt + n_pred], frame[n_gt + n_pred:]


def _positive_area(pred):
    x1, y1, x2, y2 = (pred[c].to_numpy(dtype=np.float64) for c in _BOX)
    return (x1 < x2) & (y1 < y2)


def _activitynet_top(frame, pred, candidate):
    """Rows kept by ActivityNet's per-frame capacity-50 min-heap (exact, ties included).

    A full heap takes a new row only if its score is strictly greater than the heap minimum,
    ordered by (score, action, y1, x1, y2, x2). Frames whose 50th score is not tied are settled
    by sorting; frames with a tie at the boundary replay the heap.
    """
    keep = candidate.copy()
    rows = np.flatnonzero(candidate)
    counts = np.bincount(frame[rows])
    crowded = np.flatnonzero(counts > ACTIVITYNET_MAX_DETECTIONS)
    if crowded.size == 0:
        return keep
    score = pred["score"].to_numpy(dtype=np.float64)
    action = pred["action"].to_numpy(dtype=np.int64)
    boxes = pred[["y1", "x1", "y2", "x2"]].to_numpy(dtype=np.float64)
    rows = rows[np.isin(frame[rows], crowded)]
    order = rows[np.lexsort((-score[rows], frame[rows]))]
    starts = np.searchsorted(frame[order], crowded)
    for begin, count in zip(starts, counts[crowded]):
        members = order[begin:begin + count]
        cut = score[members[ACTIVITYNET_MAX_DETECTIONS - 1]]
        if score[members[ACTIVITYNET_MAX_DETECTIONS]] < cut:
            keep[members[ACTIVITYNET_MAX_DETECTIONS:]] = False
            continue
        heap = []
        for row in np.sort(members):
            entry = (score[row], action[row], *boxes[row], row)
            if len(heap) < ACTIVITYNET_MAX_DETECTIONS:
                heapq.heappush(heap, entry)
            elif entry[0] > heap[0][0]:
                heapq.heapreplace(heap, entry)
        keep[members] = False
        keep[[entry[-1] for entry in heap]] = True
    return keep


def _summarise(label_map, class_ids, num_gt, cls, tp, protocol, keep_curves):
    """Per-class AP from detections sorted by (class, rank) and the protocol's means."""
    bounds = np.searchsorted(cls, np.arange(class_ids.size + 1))
    per_class = {}
    for index, class_id in enumerate(class_ids.tolist()):
        flags = tp[bounds[index]:bounds[index + 1]]
        n_gt = int(num_gt[index])
        entry = {"name": label_map[class_id], "ap": None, "num_gt": n_gt, "num_det": int(flags.size)}
        scored = n_gt > 0 and (flags.size > 0 or protocol == "activitynet")
        if scored:
            precision, recall = precision_recall(flags, n_gt)
            entry["ap"] = voc_ap(precision, recall)
            if keep_curves:
                entry["precision"], entry["recall"] = precision, recall
        per_class[str(class_id)] = entry
    categories = {}
    for name, (low, high) in CATEGORIES.items():
        categories[name] = _mean([e["ap"] for i, e in zip(class_ids, per_class.values())
                                  if low <= i <= high])
    return {"mAP": _mean([e["ap"] for e in per_class.values()]), "protocol": protocol,
            "per_class": per_class, "categories": categories}


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def main(argv=None):
    """CLI entry point; returns the exit status."""
    parser = ArgumentParser(prog="python -m eval.ava", description=__doc__.splitlines()[0])
    parser.add_argument("--gt", required=True, help="gt CSV (video,timestamp,x1,y1,x2,y2,action[,person])")
    parser.add_argument("--pred", required=True, help="prediction CSV (...,action,score)")
    parser.add_argument("--label-map", required=True, help="pbtxt or 'id: name' list")
    parser.add_argument("--exclude", help="excluded timestamps CSV (video,timestamp)")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="mmaction2")
    parser.add_argument("--json", help="write the results as JSON here")
    parser.add_argument("--plot", help="draw per-class precision-recall curves to this image")
    args = parser.parse_args(argv)
    label_map = read_label_map(args.label_map)
    excluded = read_exclusions(args.exclude) if args.exclude else ()
    result = evaluate(read_csv_gt(args.gt), read_csv_pred(args.pred), label_map, excluded,
                      args.protocol, keep_curves=bool(args.plot))
    if args.plot:
        from eval.pr_plot import plot_per_class

        plot_per_class(result["per_class"], args.plot, title=f"AVA ({args.protocol}) precision-recall")
    rows = [(k, e["name"], e["num_gt"], e["num_det"], percent(e["ap"]))
            for k, e in result["per_class"].items()]
    print(format_table(["id", "class", "gt", "det", "AP %"], rows))
    summary = [("frame-mAP", percent(result["mAP"]))]
    summary += [(name, percent(value)) for name, value in result["categories"].items()]
    print(format_table(["metric", f"% ({args.protocol})"], summary))
    if args.json:
        write_json_atomic(args.json, result)
    return 0


if __name__ == "__main__":
    run_cli(main)
