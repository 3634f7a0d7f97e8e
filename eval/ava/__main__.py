"""`python -m eval.ava --gt GT.csv --pred PRED.csv --label-map MAP`: AVA frame-mAP at IoU 0.5.

The arguments are parsed before numpy loads, so `--help` and usage errors answer at once. A run
imports numpy only (the readers' column tables, no pandas); matplotlib only for plots.
"""

from eval.atomic import atomic_json
from eval.ava.protocols import FRACTIONAL, IOU_THRESHOLD, PROTOCOLS
from eval.errors import ArgumentParser, InputError, exit_process, run_cli
from eval.fork_map import usable_cpus
from eval.report.tables import format_table, percent

__all__ = ["main", "parser"]

MAX_WORKERS = 8


def main(argv=None):
    """The command line; returns the exit status (2 after one `error:` line for bad input)."""
    return run_cli(_run, argv)


def parser():
    parser = ArgumentParser(
        prog="python -m eval.ava", description="AVA frame-mAP at IoU 0.5 (see eval.ava for the protocols)"
    )
    parser.add_argument("--gt", required=True, help="gt CSV (video,timestamp,x1,y1,x2,y2,action[,person])")
    parser.add_argument("--pred", required=True, help="prediction CSV (...,action,score)")
    parser.add_argument("--label-map", required=True, help="pbtxt or 'id: name' list")
    parser.add_argument(
        "--exclude", help=f"excluded timestamps CSV (video,timestamp); not with --protocol {FRACTIONAL}"
    )
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="mmaction2",
        help=f"{FRACTIONAL}: the AVA-Kinetics challenge's evaluator (fractional "
        "timestamps, 2-column gt rows for frames without actions)",
    )
    parser.add_argument("--json", help="write the results as JSON here")
    parser.add_argument("--plot", help="draw per-class precision-recall curves to this image")
    parser.add_argument(
        "--errors",
        action="store_true",
        help="what each class's false positives are (duplicate, localisation, "
        "classification, background) and its missed gt",
    )
    parser.add_argument("--report", metavar="DIR", help="write report.html and its PNG plots here")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(usable_cpus(), MAX_WORKERS),
        help="processes that read and evaluate side by side (the prediction file in two parts, "
        f"the classes in shares; default: usable CPUs, at most {MAX_WORKERS})",
    )
    return parser


def _parse(argv):
    args = parser().parse_args(argv)
    if args.workers < 1:
        raise InputError(f"--workers: expected a whole number >= 1, got {args.workers}")
    if args.exclude and args.protocol == FRACTIONAL:
        raise InputError(f"--exclude: the {FRACTIONAL} protocol has no exclusions")
    return args


def _run(argv):
    args = _parse(argv)
    # numpy loads only now: --help and usage errors answer before it (a third of a second).
    from eval.ava import error_analysis, io, report
    from eval.ava.evaluation import evaluate_tables
    from eval.report.curve_outputs import write_curve_outputs

    label_map = io.read_label_map(args.label_map)
    excluded = io.read_exclusions(args.exclude) if args.exclude else ()
    gt, empty_keyframes, pred = io.read_gt_and_pred(
        args.gt, args.pred, fractional=args.protocol == FRACTIONAL, workers=args.workers
    )
    wants_curves = bool(args.plot or args.report)
    result = evaluate_tables(
        gt,
        pred,
        label_map,
        excluded,
        args.protocol,
        keep_curves=wants_curves,
        empty_keyframes=empty_keyframes,
        errors=args.errors or bool(args.report),
        workers=args.workers,
        names=(args.gt, args.pred),
    )
    if wants_curves:
        write_curve_outputs(
            result,
            report.report_content,
            plot=args.plot,
            plot_title=f"AVA ({args.protocol}) precision-recall",
            report=args.report,
            settings=_report_settings(args),
        )
    rows = [
        (k, e["name"], e["num_gt"], e["num_det"], percent(e["ap"])) for k, e in result["per_class"].items()
    ]
    print(format_table(["id", "class", "gt", "det", "AP %"], rows))
    summary = [("frame-mAP", percent(result["mAP"]))]
    summary += [(name, percent(value)) for name, value in result["categories"].items()]
    print(format_table(["metric", f"% ({args.protocol})"], summary))
    if "errors" in result:
        print(error_analysis.format_errors_table(result["errors"]))
    if args.json:
        atomic_json(args.json, result)


def _report_settings(args):
    return {
        "protocol": args.protocol,
        "IoU threshold": IOU_THRESHOLD,
        "gt": args.gt,
        "predictions": args.pred,
        "label map": args.label_map,
        "excluded timestamps": args.exclude or "none",
    }


if __name__ == "__main__":
    exit_process(main())
