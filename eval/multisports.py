"""MultiSports frame-mAP and video-mAP: `python -m eval.multisports PREDS.pkl [--gt GT.pkl]`.

PREDS is one of:
- the official frame-detection array `[N, 8]` = (video index into `test_videos[0]`, frame
  (1-based), label (0-based), score, x1, y1, x2, y2) in gt pixels, pickled or saved as `.npy`;
- a dict pickle (the dump `slowbench.test` writes) with keys
  `frame_dets` (that `[N, 8]` float array), optionally `video_dets` ({label: [(video name,
  score, float32 tube `[T, 6]` (frame, x1, y1, x2, y2, score))]}) and `gt_path` (str, the gt
  pickle the predictions were made against; used when `--gt` is not given).
Without `--gt` or a recorded `gt_path`, the gt is `data/multisports/annotations/multisports_GT.pkl`.

Without `video_dets`, tubes are linked from the frame detections (`eval.tube_linking`) with
each box's own score; `--compat mmaction2` reproduces mmaction2's linking bug (every box gets
the last detection's score), which its published v-mAP numbers include.

Reported (fractions in 0..1 in JSON, percentages in the table): frame-mAP at `--frame-thr`,
video-mAP at 0.2 and 0.5 and averaged over 0.1:0.9, 0.05:0.45 and 0.5:0.95, per class.
Semantics follow the official MultiSports script: six label names are never evaluated and
labels without gt are left out; ties are broken stably (input order).
"""

import dataclasses
import os

import numpy as np

from eval.atomic import atomic_json
from eval.errors import ArgumentParser, InputError, exit_process, run_cli
from eval.fork_map import usable_cpus
from eval.frame_ap import frame_ap
from eval.multisports_io import (
    DEFAULT_GT_PATH,
    GroundTruth,
    check_frame_dets,
    check_video_dets,
    load_gt,
    load_predictions,
    prepare_gt,
)
from eval.pr_plot import pop_curves
from eval.report import format_table, percent
from eval.tube_linking import link_tubes
from eval.video_ap import video_ap
from eval.video_errors import format_errors_table, video_errors

__all__ = [
    "evaluate",
    "prepare",
    "evaluate_prepared",
    "Prepared",
    "load_gt",
    "main",
    "VIDEO_THRESHOLD_SETS",
    "COMPAT_MODES",
]

COMPAT_MODES = ("mmaction2",)
# The command line's default linking processes: more split the work too finely to pay off.
MAX_WORKERS = 8
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
    (`eval.video_errors`). `source` names the predictions in error messages (the CLI passes
    the file name).
    """
    prepared = prepare(gt, frame_dets, video_dets, frame_thr, compat, source)
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


def prepare(gt, frame_dets, video_dets=None, frame_thr=0.5, compat=None, source="frame_dets", *, workers=1):
    """Validates the inputs and links tubes when none are given (`workers` processes, see
    `link_tubes`); returns a `Prepared`."""
    if compat not in (None, *COMPAT_MODES):
        raise InputError(f"compat: expected one of {', '.join(COMPAT_MODES)} or None, got {compat!r}")
    if not (isinstance(frame_thr, (int, float)) and 0 < frame_thr <= 1):
        raise InputError(f"frame_thr: expected a number in (0, 1], got {frame_thr!r}")
    gt = prepare_gt(gt)
    frame_dets = check_frame_dets(gt, frame_dets, source)
    if video_dets is None:
        tubes = link_tubes(gt, frame_dets, compat=compat, workers=workers)
        tube_source = "linked (mmaction2 score bug)" if compat == "mmaction2" else "linked"
    else:
        tubes = check_video_dets(gt, video_dets, f"{source}: video_dets")
        tube_source = "given"
    return Prepared(gt, frame_dets, tubes, tube_source, frame_thr)


def evaluate_prepared(prepared, *, keep_curves=False, errors_thr=None):
    """`evaluate` on already prepared inputs (see there for the result)."""
    _check_errors_thr(errors_thr)
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
    }
    if errors_thr is not None:
        result["errors"], _ = video_errors(gt, prepared.tubes, errors_thr)
    return result


def _check_errors_thr(thr):
    if thr is not None and not (isinstance(thr, (int, float)) and 0 < thr <= 1):
        raise InputError(f"--thr (error analysis): expected a number in (0, 1], got {thr!r}")


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def main(argv=None):
    """The command line; returns the exit status (2 after one `error:` line for bad input)."""
    return run_cli(_run, argv)


def _run(argv):
    parser = ArgumentParser(prog="python -m eval.multisports", description=__doc__.splitlines()[0])
    parser.add_argument("preds", help="[N, 8] frame detections (.pkl/.npy) or a dict dump")
    parser.add_argument("--gt", help=f"gt pickle (default: the dump's gt_path, else {DEFAULT_GT_PATH})")
    parser.add_argument("--frame-thr", type=float, default=0.5, help="IoU threshold of frame-AP")
    parser.add_argument("--compat", choices=COMPAT_MODES, help="reproduce mmaction2's linking score bug")
    parser.add_argument("--json", help="write the results as JSON here")
    parser.add_argument("--plot", help="draw per-class frame-AP precision-recall curves here")
    parser.add_argument(
        "--errors", action="store_true", help="the official video-AP error breakdown (videoAP_error)"
    )
    parser.add_argument("--thr", type=float, default=0.5, help="tube-IoU threshold of --errors")
    parser.add_argument(
        "--save-official",
        metavar="DIR",
        help="write frame_detections.pkl and video_detections.pkl for the official toolkit here",
    )
    parser.add_argument("--report", metavar="DIR", help="write report.html and its PNG plots here")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(usable_cpus(), MAX_WORKERS),
        help=f"processes that link tubes side by side (default: usable CPUs, at most {MAX_WORKERS})",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        raise InputError(f"--workers: expected a whole number >= 1, got {args.workers}")
    _check_errors_thr(args.thr)
    frame_dets, video_dets, recorded_gt = load_predictions(args.preds)
    gt_path = args.gt or recorded_gt or DEFAULT_GT_PATH
    if not os.path.exists(gt_path):  # a pipe (`--gt <(...)`) is no regular file, and is read fine
        raise InputError(f"--gt: gt pickle {gt_path} not found (pass --gt)")
    prepared = prepare(
        load_gt(gt_path),
        frame_dets,
        video_dets,
        args.frame_thr,
        args.compat,
        source=args.preds,
        workers=args.workers,
    )
    if args.save_official:
        from eval.official_files import write_official_files

        for path in write_official_files(
            args.save_official, prepared.gt, prepared.frame_dets, prepared.tubes
        ):
            print(f"wrote {path}")
    wants_curves = bool(args.plot or args.report)
    result = evaluate_prepared(
        prepared, keep_curves=wants_curves, errors_thr=args.thr if args.errors or args.report else None
    )
    result["gt_path"] = gt_path
    curves = pop_curves(result["per_class"]) if wants_curves else {}
    if args.plot:
        from eval.pr_plot import plot_pr_curves

        plot_pr_curves(curves, args.plot, title=f"MultiSports frame-AP@{args.frame_thr} precision-recall")
    if args.report:
        from eval.html_report import write_report

        settings = {
            "tubes": result["tubes"],
            "frame IoU threshold": args.frame_thr,
            "error-analysis tube-IoU threshold": args.thr,
            "gt": gt_path,
            "predictions": args.preds,
        }
        print(f"wrote {write_report(args.report, 'multisports', result, curves, settings)}")
    rows = [
        (
            k,
            e["name"],
            e["num_gt_boxes"],
            e["num_det"],
            percent(e["frame_ap"]),
            e["num_gt_tubes"],
            e["num_tubes"],
            percent(e["video_ap"]["0.2"]),
            percent(e["video_ap"]["0.5"]),
        )
        for k, e in result["per_class"].items()
    ]
    print(
        format_table(
            [
                "label",
                "class",
                "gt boxes",
                "dets",
                f"f-AP@{args.frame_thr}",
                "gt tubes",
                "tubes",
                "v-AP@0.2",
                "v-AP@0.5",
            ],
            rows,
        )
    )
    summary = [(f"frame-mAP@{args.frame_thr}", percent(result["frame_mAP"]))]
    summary += [(f"video-mAP@{key}", percent(value)) for key, value in result["video_mAP"].items()]
    print(format_table(["metric", f"% (tubes: {result['tubes']})"], summary))
    if "errors" in result:
        print(format_errors_table(result["errors"]))
    if args.json:
        atomic_json(result, args.json)


if __name__ == "__main__":
    exit_process(main())
