"""The `python -m eval.ava` command line. It imports nothing heavy: the arguments are parsed
before `eval.ava` (numpy) is imported, so `--help` and usage errors answer at once. A run
imports numpy only (the readers' column tables, no pandas); matplotlib only for plots."""

import os

from eval.errors import ArgumentParser, InputError, reading, run_cli

__all__ = ["FRACTIONAL", "PROTOCOLS", "main"]

PROTOCOLS = ("mmaction2", "activitynet", "activitynet-2020")
FRACTIONAL = "activitynet-2020"  # the protocol whose frames are keyed by fractional seconds
MAX_WORKERS = 8


def main(argv=None):
    """The command line; returns the exit status (2 after one `error:` line for bad input)."""
    return run_cli(_run, argv)


def _parse(argv):
    from eval.fork_map import usable_cpus

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
    args = parser.parse_args(argv)
    if args.workers < 1:
        raise InputError(f"--workers: expected a whole number >= 1, got {args.workers}")
    if args.exclude and args.protocol == FRACTIONAL:
        raise InputError(f"--exclude: the {FRACTIONAL} protocol has no exclusions")
    return args


def _run(argv):
    args = _parse(argv)
    from eval import ava
    from eval.ava_errors import format_errors_table
    from eval.report import format_table, percent

    label_map = ava.read_label_map(args.label_map)
    excluded = ava.read_exclusions(args.exclude) if args.exclude else ()
    gt, empty_keyframes, pred = _read_gt_and_pred(
        args.gt, args.pred, args.protocol == FRACTIONAL, args.workers
    )
    wants_curves = bool(args.plot or args.report)
    result = ava.evaluate_tables(
        gt,
        pred,
        label_map,
        excluded,
        args.protocol,
        keep_curves=wants_curves,
        empty_keyframes=empty_keyframes,
        errors=args.errors or bool(args.report),
        workers=args.workers,
    )
    curves = {}
    if wants_curves:
        from eval.pr_plot import plot_pr_curves, pop_curves

        curves = pop_curves(result["per_class"])
    if args.plot:
        plot_pr_curves(curves, args.plot, title=f"AVA ({args.protocol}) precision-recall")
    if args.report:
        from eval.html_report import write_report

        settings = {
            "protocol": args.protocol,
            "IoU threshold": ava.IOU_THRESHOLD,
            "gt": args.gt,
            "predictions": args.pred,
            "label map": args.label_map,
            "excluded timestamps": args.exclude or "none",
        }
        print(f"wrote {write_report(args.report, 'ava', result, curves, settings)}")
    rows = [
        (k, e["name"], e["num_gt"], e["num_det"], percent(e["ap"])) for k, e in result["per_class"].items()
    ]
    print(format_table(["id", "class", "gt", "det", "AP %"], rows))
    summary = [("frame-mAP", percent(result["mAP"]))]
    summary += [(name, percent(value)) for name, value in result["categories"].items()]
    print(format_table(["metric", f"% ({args.protocol})"], summary))
    if "errors" in result:
        print(format_errors_table(result["errors"]))
    if args.json:
        from eval.atomic import atomic_json

        atomic_json(result, args.json)


def _read_gt_and_pred(gt_path, pred_path, fractional, workers):
    """(gt table, empty keyframes, prediction table). With `workers` > 1, a forked child reads
    the tail of the prediction file while this process reads the gt file and the head, the two
    shares of about equal size (this process runs no threads of its own, so forking is safe;
    see `eval.fork_map`)."""
    from eval import ava_io
    from eval.fork_map import fork_map

    def read_gt():
        return ava_io.read_gt_2020_table(gt_path) if fractional else (ava_io.read_gt_table(gt_path), ())

    if workers > 1 and ava_io.reads_parts() and os.path.isfile(pred_path):
        head, tail = ava_io.line_spans(pred_path, (_file_size(pred_path) - _file_size(gt_path)) // 2)
        jobs = [
            lambda: (read_gt(), ava_io.read_pred_part(pred_path, head, fractional=fractional)),
            lambda: ava_io.read_pred_part(pred_path, tail, fractional=fractional),
        ]
        (gt, head_part), tail_part = fork_map(lambda job: job(), jobs)
        parts = [head_part, tail_part]
    else:  # gt first here too, so a bad gt file is reported before a bad prediction file
        gt = read_gt()
        parts = None
    return *gt, ava_io.read_pred_table(pred_path, fractional=fractional, parts=parts)


def _file_size(path):
    with reading(path):
        return os.path.getsize(path)
