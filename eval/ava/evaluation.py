"""AVA frame-mAP at IoU 0.5 (the evaluation behind `python -m eval.ava`).

Three protocols, each equal to its reference evaluator:

- `mmaction2` (default) = mmaction2 1.x `ava_eval`: boxes and scores in float32; only frames with
  evaluated gt that are not excluded are evaluated, detections elsewhere are ignored; gt on
  excluded frames still counts in the recall denominator; a class with gt but no detection on an
  evaluated frame is left out of the mean; detections are concatenated in gt-file frame order.
- `activitynet` = the ActivityNet 2019 evaluator (`get_ava_performance.py -e`): float64; the top
  50 detections per frame; excluded frames removed from gt and detections; detections on any
  other frame without gt are false positives; detections without positive area are dropped;
  a class with gt but no detection scores 0 and is in the mean; concatenation in
  detection-file frame order.
- `activitynet-2020` = the current ActivityNet evaluator (`get_ava_performance.py` since 2020, the
  AVA-Kinetics challenge's): as `activitynet`, but a frame is keyed by its timestamp rounded to
  6 decimals (fractional seconds), there are no exclusions, the gt file may declare annotated
  frames without any action (2-column rows, `empty_keyframes`), and detections on frames that
  are not in the gt file at all are ignored (on frames in the file without evaluated gt they
  are false positives).

Both: greedy matching at IoU >= 0.5 (no +1), VOC all-point AP, classes without gt give no AP.
Ties are broken stably: within a frame by descending score then file order; in the per-class
ranking by descending score, equal scores in reverse concatenation order (a stable ascending
sort reversed, the reference's idiom made deterministic).

In-memory use: `evaluate(gt, pred, label_map, excluded, protocol)` where `gt` / `pred` are the
readers' DataFrames or any mapping of equal-length columns `video, timestamp, x1, y1, x2, y2,
action` (+ `score` for predictions; gt may carry `person`, used only to order gt boxes like the
reference does), timestamps integer seconds (any seconds >= 0 for `activitynet-2020`), boxes
normalised (x1, y1, x2, y2) in [0, 1].
"""

import heapq
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from eval.ap import precision_recall, voc_ap
from eval.ava.error_analysis import error_breakdown, error_counts, persons
from eval.ava.io import check_columns
from eval.ava.protocols import CATEGORIES, FRACTIONAL, IOU_THRESHOLD, PROTOCOLS
from eval.errors import InputError, warn_once
from eval.fork_map import fork_map
from eval.greedy_match import best_gt_overlap, true_positives
from eval.ignored import note_ignored
from eval.int_sort import coarser_rank, descending_rank, first_appearance_codes, order_by

__all__ = ["evaluate", "evaluate_tables"]

ACTIVITYNET_MAX_DETECTIONS = 50
_BOX = ["x1", "y1", "x2", "y2"]
_KEYS = ["video", "timestamp"]


def evaluate(
    gt,
    pred,
    label_map,
    excluded=(),
    protocol="mmaction2",
    *,
    keep_curves=False,
    empty_keyframes=(),
    errors=False,
    names=("gt", "pred"),
):
    """Frame-mAP of `pred` against `gt` over the classes of `label_map`.

    gt, pred: DataFrames, the `read_*_table` column tables, or any column mappings, as
    described in the module docstring.
    label_map: {class id: name}; excluded: iterable of (video, timestamp) (not for
    `activitynet-2020`); empty_keyframes (`activitynet-2020` only): (video, timestamp) of frames
    the gt file lists without an action, e.g. `read_csv_gt_2020(path)[1]`.
    Returns the `--json` structure: {"mAP", "protocol", "per_class": {"<id>": {"name", "ap",
    "num_gt", "num_det"}}, "categories": {name: mean AP}}; APs are fractions, None when a
    class is not scored. With `keep_curves`, each per-class entry also holds "precision" and
    "recall" arrays (for plotting). With `errors`, "errors" holds the false-positive breakdown
    of `eval.ava.error_analysis`.

    Input that takes no part in the result (rows of classes outside the label map, on excluded
    frames, on frames the protocol does not evaluate, beyond ActivityNet's top 50 of a frame, with
    boxes of no area; under mmaction2, classes with gt but no detection, left out of the mean)
    is counted in "ignored": {kind: {"count", "what", "first"}}, each kind with one InputWarning
    naming `names` (the gt and prediction sources, e.g. their files). No prediction taking part
    at all is a warning too, and every class with gt then scores 0. A gt without any row of a
    label-map class, or an empty label map, is an InputError.
    """
    _check_protocol(protocol)
    timestamps_are_integers = protocol != FRACTIONAL
    gt = check_columns(gt, names[0], with_score=False, integer_timestamps=timestamps_are_integers)
    pred = check_columns(pred, names[1], with_score=True, integer_timestamps=timestamps_are_integers)
    return evaluate_tables(
        gt,
        pred,
        label_map,
        excluded,
        protocol,
        keep_curves=keep_curves,
        empty_keyframes=empty_keyframes,
        errors=errors,
        names=names,
    )


def evaluate_tables(
    gt,
    pred,
    label_map,
    excluded=(),
    protocol="mmaction2",
    *,
    keep_curves=False,
    empty_keyframes=(),
    errors=False,
    workers=1,
    names=("gt", "pred"),
):
    """`evaluate` of column tables that are already checked: those the `read_*_table` readers
    or `check_columns` return (their values are not checked again). `workers` > 1 matches and
    ranks the classes in that many shares side by side in forked processes (`eval.fork_map`:
    only for a process that runs no threads of its own); the result is the same."""
    _check_protocol(protocol)
    prepared = _prepare(gt, pred, label_map, excluded, protocol, empty_keyframes, errors, names)
    parts = fork_map(
        lambda classes: _class_results(prepared, classes, label_map, keep_curves),
        _class_shares(prepared, workers),
    )
    per_class = {key: entry for entries, _ in parts for key, entry in entries.items()}
    unscored = [f"{key} {e['name']}" for key, e in per_class.items() if e["num_gt"] and e["ap"] is None]
    if unscored:  # mmaction2 only: a class with gt but no detection is left out of the mean
        what = "classes with gt but no detection on an evaluated frame, left out of the mean"
        note_ignored(
            prepared.ignored, "gt_class_without_detection", names[0], len(unscored), what, unscored[0]
        )
    result = _summary(per_class, prepared.class_ids, protocol)
    result["ignored"] = prepared.ignored
    if errors:
        counts = {key: sum(part[1][key] for part in parts) for key in parts[0][1]}
        result["errors"] = error_breakdown(
            label_map, prepared.class_ids, prepared.num_gt, counts, IOU_THRESHOLD
        )
    return result


class _Prepared(NamedTuple):
    """What the matching and ranking of any class reads, prepared once for all classes."""

    protocol: str
    class_ids: np.ndarray  # int64 `[C]`, sorted
    num_gt: np.ndarray  # `[C]` recall denominators
    dtype: type  # of the boxes and IoUs
    pred: dict  # the prediction table (rows of known classes)
    det: np.ndarray  # its evaluated rows `[D]`
    pred_frame: np.ndarray  # `[N]` frame id of every prediction row
    pred_class: np.ndarray  # `[N]` class index
    frame_rank: np.ndarray  # `[N]` the frame's place in the concatenation order
    gt: dict  # the gt table (rows of known classes)
    gt_rows: np.ndarray  # its rows that are matched `[G]`
    gt_frame: np.ndarray
    gt_class: np.ndarray
    gt_person: np.ndarray  # 8th column, NaN as 1.0: a frame's gt boxes in descending order
    persons: tuple | None  # `error_analysis.persons` of the matched gt, when errors are asked for
    ignored: dict  # `eval.ignored` kinds of the input left out


def _prepare(gt, pred, label_map, excluded, protocol, empty_keyframes, errors, names):
    """Frame ids, class indices and the evaluated rows of both tables (`_Prepared`); input that
    takes no part is counted in `_Prepared.ignored` (`eval.ignored`)."""
    fractional = protocol == FRACTIONAL
    excluded, empty_keyframes = _key_list(excluded), _key_list(empty_keyframes)
    _check_keys(excluded, empty_keyframes, protocol)
    if not label_map:
        raise InputError("label map: no class to evaluate")
    class_ids = np.array(sorted(label_map), dtype=np.int64)
    # 2020: a frame counts as in the gt file with any row, whatever its class.
    listed = (
        {key: np.concatenate([gt[key], empty_keyframes[key]]) for key in _KEYS}
        if fractional
        else empty_keyframes
    )
    ignored = {}
    gt = _known_rows(gt, class_ids, ignored, "gt", names[0])
    pred = _known_rows(pred, class_ids, ignored, "pred", names[1])
    gt_frame, pred_frame, (excluded_frame, listed_frame) = _frame_ids(
        gt, pred, [excluded, listed], fractional
    )
    gt_is_excluded = np.isin(gt_frame, excluded_frame)
    pred_is_excluded = np.isin(pred_frame, excluded_frame)
    gt_class = np.searchsorted(class_ids, gt["action"])
    pred_class = np.searchsorted(class_ids, pred["action"])
    # Frame ids are numbered by first appearance in the gt file, then the prediction file.
    gt_rows = np.flatnonzero(~gt_is_excluded)
    if protocol == "mmaction2":
        dtype = np.float32
        num_gt = np.bincount(gt_class, minlength=class_ids.size)  # excluded gt counts too
        reasons = {
            "pred_excluded": (pred_is_excluded, "rows on excluded frames"),
            "pred_frame_without_gt": (~np.isin(pred_frame, gt_frame), _WITHOUT_GT),
        }
        frame_rank = pred_frame
    else:
        dtype = np.float64
        num_gt = np.bincount(gt_class[gt_rows], minlength=class_ids.size)
        _note_rows(gt, {"gt_excluded": (gt_is_excluded, "rows on excluded frames")}, ignored, names[0])
        # The top 50 of a frame are chosen among all its rows, before invalid boxes are dropped.
        top = _activitynet_top(pred_frame, pred, np.ones(pred_frame.size, dtype=bool))
        reasons = {
            "pred_excluded": (pred_is_excluded, "rows on excluded frames"),
            "pred_beyond_top_50": (
                ~top,
                f"rows beyond their frame's top {ACTIVITYNET_MAX_DETECTIONS} scores",
            ),
            "pred_without_area": (~_positive_area(pred), "rows whose box has no area"),
        }
        if fractional:
            reasons["pred_frame_not_in_gt"] = (
                ~np.isin(pred_frame, listed_frame),
                "rows on frames absent from the gt file",
            )
        frame_rank = first_appearance_codes(pred_frame)  # numbered as they appear in the file
    evaluated = _note_rows(pred, reasons, ignored, names[1])
    if not evaluated.any():
        warn_once(f"{names[1]}: no prediction takes part in the evaluation; every class with gt scores AP 0")
    person = gt["person"] if "person" in gt else np.ones(gt["action"].size)
    matched_gt_persons = None
    if errors:
        matched_gt = {
            "frame": gt_frame[gt_rows],
            "cls": gt_class[gt_rows],
            "boxes": _boxes(gt, gt_rows, dtype),
        }
        matched_gt_persons = persons(matched_gt, class_ids.size)
    return _Prepared(
        protocol=protocol,
        class_ids=class_ids,
        num_gt=num_gt,
        dtype=dtype,
        pred=pred,
        det=np.flatnonzero(evaluated),
        pred_frame=pred_frame,
        pred_class=pred_class,
        frame_rank=frame_rank,
        gt=gt,
        gt_rows=gt_rows,
        gt_frame=gt_frame,
        gt_class=gt_class,
        gt_person=np.where(np.isnan(person), 1.0, person),
        persons=matched_gt_persons,
        ignored=ignored,
    )


_WITHOUT_GT = "rows on frames without gt of a label-map class"


def _check_keys(excluded, empty_keyframes, protocol):
    if protocol == FRACTIONAL and excluded["video"].size:
        raise InputError(
            f"exclusions: the {FRACTIONAL} protocol has none (its gt file lists the evaluated frames)"
        )
    if empty_keyframes["video"].size and protocol != FRACTIONAL:
        raise InputError(
            f"empty keyframes (2-column gt rows) exist only in the {FRACTIONAL} protocol, not in {protocol}"
        )


def _known_rows(table, class_ids, ignored, side, name):
    """The rows of `table` whose action is in `class_ids`; the others are noted as ignored. A gt
    without any such row is an InputError: its evaluation could not mean anything."""
    unknown = ~np.isin(table["action"], class_ids)
    if side == "gt" and unknown.all():
        actions = ", ".join(str(a) for a in np.unique(table["action"])[:10]) or "none"
        raise InputError(
            f"{name}: no row of a label-map class to evaluate ({unknown.size} rows; their actions: {actions})"
        )
    _note_rows(
        table,
        {f"{side}_class_not_in_label_map": (unknown, "rows whose action id is not in the label map")},
        ignored,
        name,
    )
    return _rows(table, ~unknown) if unknown.any() else table


def _note_rows(table, reasons, ignored, name):
    """Notes the rows each reason {kind: (mask `[N]`, what)} leaves out, each row under the first
    reason that applies; returns the mask of the rows left `[N]`."""
    left = np.ones(len(table["video"]), dtype=bool)
    for kind, (mask, what) in reasons.items():
        hit = np.flatnonzero(mask & left)
        if hit.size:
            row = hit[0]
            first = f"{table['video'][row]},{_timestamp_text(table['timestamp'][row])} action {table['action'][row]}"
            note_ignored(ignored, kind, name, hit.size, what, first)
        left &= ~mask
    return left


def _timestamp_text(value):
    """A timestamp as the CSVs write it: whole seconds with 4 digits, others as read."""
    return f"{int(value):04d}" if float(value).is_integer() else f"{float(value):g}"


def _class_shares(prepared, workers):
    """The class indices in at most `workers` runs of consecutive classes, each with about the
    same number of evaluated detections and gt rows."""
    n_classes = prepared.class_ids.size
    load = np.cumsum(
        np.bincount(prepared.pred_class[prepared.det], minlength=n_classes)
        + np.bincount(prepared.gt_class[prepared.gt_rows], minlength=n_classes)
    )
    workers = max(workers, 1)
    targets = load[-1:] * np.arange(1, workers) / workers
    bounds = np.unique(np.concatenate([[0], np.searchsorted(load, targets) + 1, [n_classes]]))
    return [np.arange(begin, end) for begin, end in zip(bounds[:-1], bounds[1:]) if begin < end]


def _class_results(prepared, classes, label_map, keep_curves):
    """(per-class entries, `error_analysis.error_counts` or None) of the class indices `classes`."""
    p = prepared
    n_classes = p.class_ids.size
    in_share = np.zeros(n_classes, dtype=bool)
    in_share[classes] = True
    det = p.det[in_share[p.pred_class[p.det]]]
    gt_rows = p.gt_rows[in_share[p.gt_class[p.gt_rows]]]
    det_group = p.pred_frame[det] * n_classes + p.pred_class[det]
    pred_score64 = p.pred["score"][det]
    score_rank = descending_rank(pred_score64)
    # Matching order: group, then descending score, ties in file order.
    matching = order_by(det_group, score_rank)
    gt_group = p.gt_frame[gt_rows] * n_classes + p.gt_class[gt_rows]
    # gt boxes of a frame are ordered by descending 8th column (the reference reads it as a score).
    gt_order = order_by(gt_group, descending_rank(p.gt_person[gt_rows]))
    gt_rows, gt_group = gt_rows[gt_order], gt_group[gt_order]
    # Each share stacks the whole table's boxes (`_boxes`), in parallel: stacking them once
    # before the fork measured 2-4% slower on the whole run, as that runs in one process.
    det_boxes = _boxes(p.pred, det[matching], p.dtype)
    gt_index, iou = best_gt_overlap(det_group[matching], det_boxes, gt_group, _boxes(p.gt, gt_rows, p.dtype))
    tp = np.empty(det.size, dtype=bool)
    tp[matching] = true_positives(gt_index, iou, IOU_THRESHOLD)

    # Per-class ranking: descending score, ties in reverse concatenation order.
    concat = order_by(p.frame_rank[det].astype(np.int64), score_rank)
    reverse_concat = np.empty_like(concat)
    reverse_concat[concat] = np.arange(concat.size - 1, -1, -1)
    cls = p.pred_class[det]
    class_rank = score_rank if p.dtype == np.float64 else coarser_rank(score_rank, pred_score64, p.dtype)
    ranked = order_by(cls, class_rank, reverse_concat)
    entries = _class_entries(label_map, p, classes, cls[ranked], tp[ranked], keep_curves)
    if p.persons is None:
        return entries, None
    matched = {
        "frame": p.pred_frame[det[matching]],
        "cls": cls[matching],
        "boxes": det_boxes,
        "tp": tp[matching],
        "gt_iou": iou,
    }
    return entries, error_counts(matched, p.persons, n_classes, IOU_THRESHOLD)


def _check_protocol(protocol):
    if protocol not in PROTOCOLS:
        raise InputError(f"protocol: expected one of {', '.join(PROTOCOLS)}, got {protocol!r}")


def _key_list(keys):
    """(video, timestamp) keys -> {"video": object `[K]`, "timestamp": `[K]`}, from a table with
    those columns (a DataFrame or a mapping) or from pairs."""
    if isinstance(keys, Mapping) or hasattr(keys, "columns"):
        return {
            "video": np.asarray(keys["video"], dtype=object).reshape(-1),
            "timestamp": np.asarray(keys["timestamp"]).reshape(-1),
        }
    pairs = list(keys)
    return {
        "video": np.array([str(v) for v, _ in pairs], dtype=object).reshape(-1),
        "timestamp": np.array([t for _, t in pairs], dtype=object).reshape(-1),
    }


def _rows(table, keep):
    """The rows of a column table where `keep` `[N]` (bool) holds."""
    return {column: values[keep] for column, values in table.items()}


def _boxes(table, rows, dtype):
    """`[len(rows), 4]` (x1, y1, x2, y2) of the given rows, in `dtype`."""
    # np.take gathers whole rows several times faster than fancy indexing does.
    return np.take(np.stack([table[c] for c in _BOX], axis=1).astype(dtype, copy=False), rows, axis=0)


def _frame_ids(gt, pred, key_tables, fractional):
    """Integer frame ids for gt rows, prediction rows and each table of (video, timestamp) keys
    (shared numbering, by first appearance). A frame is (video, whole seconds), or with
    `fractional` (video, the timestamp printed with 6 decimals) as the 2020 evaluator keys it."""
    tables = [gt, pred, *key_tables]
    video_code = first_appearance_codes(np.concatenate([table["video"] for table in tables]))
    dtype = np.float64 if fractional else np.int64
    stamps = np.concatenate([np.asarray(table["timestamp"]).astype(dtype) for table in tables])
    if fractional:  # format each distinct value once
        distinct, inverse = np.unique(stamps, return_inverse=True)
        codes = first_appearance_codes(np.array([f"{value:.6f}" for value in distinct]))
        stamps = codes[inverse.reshape(-1)]
    key = video_code * (int(stamps.max(initial=0)) + 1) + stamps
    frame = first_appearance_codes(key)
    bounds = np.cumsum([0] + [len(table["video"]) for table in tables])
    parts = [frame[begin:end] for begin, end in zip(bounds[:-1], bounds[1:])]
    return parts[0], parts[1], parts[2:]


def _positive_area(pred):
    return (pred["x1"] < pred["x2"]) & (pred["y1"] < pred["y2"])


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
    score, action = pred["score"], pred["action"]
    boxes = np.stack([pred[c] for c in ("y1", "x1", "y2", "x2")], axis=1)
    rows = rows[np.isin(frame[rows], crowded)]
    order = rows[np.lexsort((-score[rows], frame[rows]))]
    starts = np.searchsorted(frame[order], crowded)
    for begin, count in zip(starts, counts[crowded]):
        members = order[begin : begin + count]
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


def _class_entries(label_map, prepared, classes, cls, tp, keep_curves):
    """{"<id>": {"name", "ap", "num_gt", "num_det"}} of the class indices `classes`, from their
    detections' class indices and TP flags `[D]` sorted by (class, rank)."""
    bounds = np.searchsorted(cls, np.arange(prepared.class_ids.size + 1))
    per_class = {}
    for index in classes.tolist():
        class_id = int(prepared.class_ids[index])
        flags = tp[bounds[index] : bounds[index + 1]]
        n_gt = int(prepared.num_gt[index])
        entry = {"name": label_map[class_id], "ap": None, "num_gt": n_gt, "num_det": int(flags.size)}
        # mmaction2 leaves a class without detections out, unless there are none at all.
        scored = n_gt > 0 and (flags.size > 0 or prepared.protocol != "mmaction2" or prepared.det.size == 0)
        if scored:
            precision, recall = precision_recall(flags, n_gt)
            entry["ap"] = voc_ap(precision, recall)
            if keep_curves:
                entry["precision"], entry["recall"] = precision, recall
        per_class[str(class_id)] = entry
    return per_class


def _summary(per_class, class_ids, protocol):
    """The result of `evaluate` around its per-class entries: the protocol's means."""
    categories = {}
    for name, (low, high) in CATEGORIES.items():
        categories[name] = _mean([e["ap"] for i, e in zip(class_ids, per_class.values()) if low <= i <= high])
    return {
        "mAP": _mean([e["ap"] for e in per_class.values()]),
        "protocol": protocol,
        "per_class": per_class,
        "categories": categories,
    }


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None
