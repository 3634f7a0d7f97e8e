"""`python -m eval.multisports PREDS.pkl [--gt GT.pkl]`: MultiSports frame-mAP and video-mAP.

PREDS is one of:
- the official frame-detection array `[N, 8]` = (video index into `test_videos[0]`, frame
  (1-based), label (0-based), score, x1, y1, x2, y2) in gt pixels, pickled or saved as `.npy`;
- a dict pickle (the dump `slowbench.test` writes) with keys
  `frame_dets` (that `[N, 8]` float array), optionally `video_dets` ({label: [(video name,
  score, float32 tube `[T, 6]` (frame, x1, y1, x2, y2, score))]}) and `gt_path` (str, the gt
  pickle the predictions were made against; used when `--gt` is not given).
Without `--gt` or a recorded `gt_path`, the gt is `data/multisports/annotations/multisports_GT.pkl`.
"""

import os

from eval.atomic import atomic_json
from eval.errors import ArgumentParser, InputError, exit_process, run_cli
from eval.fork_map import usable_cpus
from eval.multisports.error_analysis import format_errors_table
from eval.multisports.evaluation import COMPAT_MODES, check_errors_thr, evaluate_prepared, prepare
from eval.multisports.io import DEFAULT_GT_PATH, load_gt, load_predictions
from eval.multisports.official_files import write_official_files
from eval.multisports.report import report_content
from eval.report.curve_outputs import write_curve_outputs
from eval.report.tables import format_table, percent

__all__ = ["main", "parser"]

# The default linking processes: more split the work too finely to pay off.
MAX_WORKERS = 8


def main(argv=None):
    """The command line; returns the exit status (2 after one `error:` line for bad input)."""
    return run_cli(_run, argv)


def parser():
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
    return parser


def _run(argv):
    args = parser().parse_args(argv)
    if args.workers < 1:
        raise InputError(f"--workers: expected a whole number >= 1, got {args.workers}")
    check_errors_thr(args.thr)
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
        gt_source=gt_path,
    )
    if args.save_official:
        for path in write_official_files(
            args.save_official, prepared.gt, prepared.frame_dets, prepared.tubes
        ):
            print(f"wrote {path}")
    wants_curves = bool(args.plot or args.report)
    result = evaluate_prepared(
        prepared, keep_curves=wants_curves, errors_thr=args.thr if args.errors or args.report else None
    )
    result["gt_path"] = gt_path
    if wants_curves:
        settings = {
            "tubes": result["tubes"],
            "frame IoU threshold": args.frame_thr,
            "error-analysis tube-IoU threshold": args.thr,
            "gt": gt_path,
            "predictions": args.preds,
        }
        write_curve_outputs(
            result,
            report_content,
            plot=args.plot,
            plot_title=f"MultiSports frame-AP@{args.frame_thr} precision-recall",
            report=args.report,
            settings=settings,
        )
    print(_tables(result))
    if "errors" in result:
        print(format_errors_table(result["errors"]))
    if args.json:
        atomic_json(args.json, result)


_COLUMNS = ("gt boxes", "dets", "f-AP", "gt tubes", "tubes", "v-AP@0.2", "v-AP@0.5")


def _tables(result):
    """The per-class table and the summary table, as text."""
    thr = result["frame_thr"]
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
    header = ["label", "class", *(f"f-AP@{thr}" if c == "f-AP" else c for c in _COLUMNS)]
    summary = [(f"frame-mAP@{thr}", percent(result["frame_mAP"]))]
    summary += [(f"video-mAP@{key}", percent(value)) for key, value in result["video_mAP"].items()]
    return (
        format_table(header, rows) + "\n" + format_table(["metric", f"% (tubes: {result['tubes']})"], summary)
    )


if __name__ == "__main__":
    exit_process(main())
