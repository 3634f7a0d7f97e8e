"""``python -m slowbench.data.check DATASET.toml [--row ROW] [--classes IDS]``: check a dataset file.

Runs every check ``slowbench.train --dataset`` runs before training (keys, files, labels, boxes,
frames, video lengths, proposals) and prints what was read: videos, frames, keyframes (or tubes)
and boxes per split, boxes per class. A problem is one ``error:`` line and exit status 2.
"""

import sys

from slowbench.errors import ArgumentParser, run_cli
from slowbench.model_zoo import get_row

from .dataset_check import check_dataset, format_summary
from .dataset_file import read_dataset_file
from .label_columns import parse_label_ids


def parser() -> ArgumentParser:
    """The command line's options."""
    p = ArgumentParser(prog="python -m slowbench.data.check", description=__doc__.splitlines()[0])
    p.add_argument("dataset", help="the dataset file (TOML)")
    p.add_argument(
        "--row",
        help="also check that every keyframe's clip of this model-zoo row lies inside its video "
        "(without it: the keyframe itself)",
    )
    p.add_argument(
        "--classes", type=parse_label_ids, help="label ids to keep, e.g. 3,5,8 (replaces the file's)"
    )
    return p


def main(argv=None) -> int:
    """The command line; returns the exit status (2 after one ``error:`` line for bad input)."""
    return run_cli(_run, argv)


def _run(argv) -> None:
    args = parser().parse_args(argv)
    clip = None
    if args.row:
        row = get_row(args.row)
        clip = (row.clip_len, row.frame_interval)
    spec = read_dataset_file(args.dataset, classes=args.classes)
    print(format_summary(spec, check_dataset(spec, clip=clip)))


if __name__ == "__main__":
    sys.exit(main())
