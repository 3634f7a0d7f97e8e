"""MultiSports frame-mAP and video-mAP (the evaluation behind `python -m eval.multisports`).

Without `video_dets`, tubes are linked from the frame detections (`eval.multisports.tube_linking`) with
each box's own score; `compat="mmaction2"` reproduces mmaction2's linking bug (every box gets
the last detection's score), which its published v-mAP numbers include.

Reported (fractions in 0..1 in JSON, percentages in the table): frame-mAP at `frame_thr`,
video-mAP at 0.2 and 0.5 and averaged over 0.1:0.9, 0.05:0.45 and 0.5:0.95, per class.
Semantics follow the official MultiSports script: six label names are never evaluated and
labels without gt are left out; ties are broken stably (input order).
"""

import dataclasses

import numpy as np

from eval.errors import InputError, warn_once
from eval.ignored import note_ignored
from eval.multisports.error_analysis import video_errors
from eval.multisports.frame_ap import frame_ap
from eval.multisports.io import GroundTruth, check_frame_dets, check_video_dets, prepare_gt
from eval.multisports.tube_linking import link_tubes
from eval.multisports.video_ap import video_ap

__all__ = [
    "evaluate",
    "prepare",
    "evaluate_prepared",
    "check_errors_thr",
    "Prepared",
    "VIDEO_THRESHOLD_SETS",
    "COMPAT_MODES",
]

COMPAT_MODES = ("mmaction2",)
# Generated like the reference (Python floats such as 0.30000000000000004).
VIDEO_THRESHOLD_SETS = {
    "0.2": [0.2],
    "0.5": [0.5],
    "0.1:0.9": [0.1 + 0.1 * i for i in range(9)],
    "0.05:0.45": [0.05 + 0.05 * i for i in range(9)],
    "0.5:0.95": [0.5 + 0.05 * i for i in range(10)],
}


def evaluate(
    gt,
    frame_dets,
    video_dets=None,
    frame_thr=0.5,
    compat=None,
    *,
    keep_curves=False,
    source="frame_dets",
    errors_thr=None,
    gt_source="gt",
):
    """Frame- and video-mAP of predictions against the official gt dict.

    gt: the gt pickle's dict (or a `GroundTruth`); frame_dets: `[N, 8]`; video_dets: optional
    tubes (else linked from frame_dets); compat: None or "mmaction2" (linking score bug).
    Returns the `--json` structure {"frame_mAP", "frame_thr", "video_mAP": {"0.2", "0.5",
    "0.1:0.9", "0.05:0.45", "0.5:0.95"}, "video_mAP_by_thr", "tubes", "per_class": {"<label>":
    {"name", "frame_ap", "video_ap": {"0.2", "0.5"}, "num_gt_boxes", "num_det", "num_gt_tubes",
    "num_tubes"}}}; per_class lists the evaluated labels. With `keep_curves`, each per-class
    entry also holds the frame-AP "precision" and "recall" arrays. With `errors_thr`, "errors"
    holds the official video-AP error breakdown at that tube-IoU threshold
    (`eval.multisports.error_analysis`). `source` and `gt_source` name the predictions and the gt
    in messages (the CLI passes the file names).

    Input that takes no part (detections or tubes of labels outside the gt's list, of labels
    without gt tubes or never evaluated) is counted in "ignored": {kind: {"count", "what",
    "first"}}, each kind with one InputWarning; no detection of an evaluated label is a warning
    too (every AP is then 0). A gt without a test video or without a tube of an evaluated label
    is an InputError.
    """
    prepared = prepare(gt, frame_dets, video_dets, frame_thr, compat, source, gt_source=gt_source)
    return evaluate_prepared(prepared, keep_curves=keep_curves, errors_thr=errors_thr)


@dataclasses.dataclass(frozen=True)
class Prepared:
    """Validated inputs: gt view, float64 frame detections `[N, 8]`, tubes {label: [(video,
    score, tube [T, 6])]} (linked or given) and how the tubes were made."""

    gt: GroundTruth
    frame_dets: np.ndarray
    tubes: dict
    tube_source: str
    frame_thr: float
    ignored: dict  # `eval.ignored` kinds of the input left out


def prepare(
    gt,
    frame_dets,
    video_dets=None,
    frame_thr=0.5,
    compat=None,
    source="frame_dets",
    *,
    workers=1,
    gt_source="gt",
):
    """Validates the inputs and links tubes when none are given (`workers` processes, see
    `link_tubes`); returns a `Prepared`."""
    if compat not in (None, *COMPAT_MODES):
        raise InputError(f"compat: expected one of {', '.join(COMPAT_MODES)} or None, got {compat!r}")
    if not (isinstance(frame_thr, (int, float)) and 0 < frame_thr <= 1):
        raise InputError(f"frame_thr: expected a number in (0, 1], got {frame_thr!r}")
    gt = prepare_gt(gt, source=gt_source)
    evaluated = gt.evaluated_labels()
    if not evaluated:
        raise InputError(f"{gt_source}: no gt tube of an evaluated label in the test videos")
    ignored = {}
    frame_dets = check_frame_dets(gt, frame_dets, source, ignored)
    if video_dets is not None:
        tubes = check_video_dets(gt, video_dets, f"{source}: video_dets", ignored)
        labels = np.array([label for label, entries in tubes.items() for _ in entries], dtype=np.int64)
        _note_unevaluated(gt, labels, evaluated, ignored, f"{source}: video_dets")
        tube_source = "given"
    labels = frame_dets[:, 2].astype(np.int64)
    if _note_unevaluated(gt, labels, evaluated, ignored, source, frame_dets=frame_dets) == labels.size:
        warn_once(f"{source}: no detection of an evaluated label; every frame-AP is 0")
    if video_dets is None:
        tubes = link_tubes(gt, frame_dets, compat=compat, workers=workers)
        tube_source = "linked (mmaction2 score bug)" if compat == "mmaction2" else "linked"
    return Prepared(gt, frame_dets, tubes, tube_source, frame_thr, ignored)


def _note_unevaluated(gt, labels, evaluated, ignored, source, *, frame_dets=None):
    """Notes the detections (with `frame_dets` `[N, 8]`) or tubes whose label `[N]` is not among
    the `evaluated` labels; returns their count."""
    rows = np.flatnonzero(~np.isin(labels, evaluated))
    if rows.size:
        kind = "tubes" if frame_dets is None else "detections"
        first = f"label {labels[rows[0]]}" if frame_dets is None else _detection_text(gt, frame_dets[rows[0]])
        what = (
            f"{kind} of labels without gt tubes in the test videos or never evaluated (the six skipped names)"
        )
        note_ignored(ignored, f"{kind}_label_not_evaluated", source, rows.size, what, first)
    return rows.size


def _detection_text(gt, row):
    """One frame detection `[8]` as text: its video's name, frame and label."""
    return f"{gt.videos[int(row[0])]} frame {int(row[1])} label {int(row[2])}"


def evaluate_prepared(prepared, *, keep_curves=False, errors_thr=None):
    """`evaluate` on already prepared inputs (see there for the result)."""
    check_errors_thr(errors_thr)
    gt, frame_thr = prepared.gt, prepared.frame_thr
    frame_aps, frame_counts, curves = frame_ap(gt, prepared.frame_dets, [frame_thr], keep_curves=keep_curves)
    thresholds = sorted({t for ts in VIDEO_THRESHOLD_SETS.values() for t in ts})
    video_aps, video_counts = video_ap(gt, prepared.tubes, thresholds)
    by_thr = {thr: _mean(video_aps[thr].values()) for thr in thresholds}
    per_class = {}
    for label in gt.evaluated_labels():
        entry = {
            "name": gt.labels[label],
            "frame_ap": frame_aps[frame_thr][label],
            "video_ap": {
                key: video_aps[ts[0]][label] for key, ts in VIDEO_THRESHOLD_SETS.items() if len(ts) == 1
            },
            "num_gt_boxes": frame_counts[label]["num_gt"],
            "num_det": frame_counts[label]["num_det"],
            **video_counts[label],
        }
        if keep_curves:
            entry["precision"], entry["recall"] = curves[frame_thr][label]
        per_class[str(label)] = entry
    result = {
        "frame_mAP": _mean(frame_aps[frame_thr].values()),
        "frame_thr": frame_thr,
        "video_mAP": {key: _mean([by_thr[t] for t in ts]) for key, ts in VIDEO_THRESHOLD_SETS.items()},
        "video_mAP_by_thr": {f"{thr:.2f}": value for thr, value in by_thr.items()},
        "tubes": prepared.tube_source,
        "per_class": per_class,
        "ignored": prepared.ignored,
    }
    if errors_thr is not None:
        result["errors"], _ = video_errors(gt, prepared.tubes, errors_thr)
    return result


def check_errors_thr(thr):
    if thr is not None and not (isinstance(thr, (int, float)) and 0 < thr <= 1):
        raise InputError(f"--thr (error analysis): expected a number in (0, 1], got {thr!r}")


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None
