"""`python -m eval.compare A.json B.json`: two `--json` results of one evaluator side by side.

Both files come from the same evaluator (`eval.ava` or `eval.multisports`); `--metric` picks
MultiSports' per-class AP, `--plot delta.png` draws the sorted per-class changes.
"""

import json
import os

from eval.compare.comparison import METRICS, compare, format_comparison, plot_comparison
from eval.errors import ArgumentParser, InputError, exit_process, reading, run_cli

__all__ = ["main", "parser"]


def _read(path):
    try:
        with reading(path), open(path, encoding="utf-8") as file:
            return json.load(file)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}: not JSON ({error.msg})") from None


def main(argv=None):
    """The command line; returns the exit status (2 after one `error:` line for bad input)."""
    return run_cli(_run, argv)


def parser():
    parser = ArgumentParser(prog="python -m eval.compare", description=__doc__.splitlines()[0])
    parser.add_argument("a", help="the baseline --json result")
    parser.add_argument("b", help="the --json result to compare with it")
    parser.add_argument(
        "--metric",
        default="frame",
        choices=METRICS,
        help="MultiSports per-class AP to compare (default: frame)",
    )
    parser.add_argument("--plot", help="draw the per-class changes to this image")
    return parser


def _run(argv):
    args = parser().parse_args(argv)
    try:
        comparison = compare(_read(args.a), _read(args.b), args.metric)
    except InputError as error:
        raise InputError(f"{args.a} vs {args.b}: {error}") from None
    names = (os.path.basename(args.a), os.path.basename(args.b))
    print(format_comparison(comparison, names))
    if args.plot:
        plot_comparison(comparison, names, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    exit_process(main())
