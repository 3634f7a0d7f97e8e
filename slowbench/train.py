"""Train a model-zoo row: ``python -m slowbench.train --row ava22-k700-16x4 [options]``.

SGD with the row's schedule (linear warm-up, step or cosine decay), gradient clipping, a tqdm bar with
loss / lr / ETA, a JSON-lines log (``<work-dir>/log.jsonl``), validation through ``eval`` every
``--val-every`` epochs and at the end, atomic checkpoints (``<work-dir>/latest.pth``) that ``--resume``
continues bit-exactly, and ``<work-dir>/results.json``. Several processes: ``torchrun --nproc-per-node N
-m slowbench.train ...`` (DDP; gloo on CPU, nccl on CUDA). With no dataset at the default data root the
built-in synthetic dataset is generated and a CPU-sized profile is used (``engine/synthetic_profile``).
The loop itself is ``slowbench.engine.trainer``.
"""

import argparse
import sys
import time

from slowbench.data.label_columns import parse_label_ids
from slowbench.engine import distributed
from slowbench.engine.arguments import at_least, positive_float
from slowbench.engine.mixed_precision import add_amp_argument
from slowbench.engine.run_plan import CHECKPOINT_NAME, plan_run
from slowbench.engine.run_setup import make_deterministic, seed_everything
from slowbench.engine.trainer import fit, start_run
from slowbench.errors import ArgumentParser, run_cli
from slowbench.model_zoo import get_row


def parser() -> ArgumentParser:
    """The command line's options."""
    p = ArgumentParser(prog="python -m slowbench.train", description=__doc__.splitlines()[0])
    p.add_argument("--row", required=True, help="model-zoo row name or reference config name")
    p.add_argument(
        "--data-root",
        help="dataset root in the reference layout (default: data/<dataset>; "
        "synthetic data is generated when nothing is there)",
    )
    p.add_argument(
        "--dataset",
        metavar="DATASET.toml",
        help="instead of --data-root: a dataset described in one file (docs/custom_data.md)",
    )
    p.add_argument(
        "--classes",
        type=parse_label_ids,
        metavar="IDS",
        help="train and evaluate these label ids only, e.g. 11,12,14 (mmaction2's custom_classes; "
        "AVA rows and --dataset files; replaces the file's classes)",
    )
    p.add_argument("--work-dir", default=None, help="outputs (default: work_dirs/<row>)")
    p.add_argument("--epochs", type=at_least(1), help="override the row's epochs (schedule rescaled to it)")
    p.add_argument(
        "--batch-size", type=at_least(1), help="clips per process (default: the row's per-GPU batch)"
    )
    p.add_argument("--lr", type=positive_float, help="base LR (default: the row's)")
    p.add_argument(
        "--auto-scale-lr",
        action="store_true",
        help="scale the LR by (batch x processes) / the row's total batch",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--deterministic", action="store_true", help="deterministic algorithms (bit-exact reruns and resume)"
    )
    p.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        metavar="CKPT",
        help=f"continue from CKPT (default: <work-dir>/{CHECKPOINT_NAME})",
    )
    p.add_argument(
        "--pretrained",
        metavar="CKPT",
        help="initial weights: a detector checkpoint of this architecture (a classifier for "
        "another class count keeps its init) or a Kinetics recogniser (backbone only)",
    )
    p.add_argument("--device", default="auto", help="cpu, cuda or cuda:N (default: cuda when available)")
    add_amp_argument(p)
    p.add_argument(
        "--workers",
        type=at_least(0),
        help="data-loading worker processes per process (0: load in the main process; "
        "default: the usable cores less one, at most 16, or 0 on synthetic data)",
    )
    p.add_argument(
        "--val-every", type=at_least(1), default=1, help="validate every N epochs (and at the end)"
    )
    p.add_argument(
        "--save-every",
        type=at_least(0),
        default=0,
        metavar="ITERS",
        help="also checkpoint every ITERS iterations (0: at epoch ends only)",
    )
    p.add_argument(
        "--log-every", type=at_least(1), default=10, metavar="ITERS", help="JSON-lines log interval"
    )
    p.add_argument(
        "--short-side",
        type=at_least(16),
        metavar="PX",
        help="scale the pipeline to this short side (train rescale PX..1.25 PX, crop PX, test PX)",
    )
    p.add_argument(
        "--fast-decode",
        action="store_true",
        help="decode with Pillow at reduced scale (up to 1.4x faster; pixels differ from "
        "mmaction2's, which the default reproduces exactly)",
    )
    p.add_argument(
        "--model-override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=parse_override,
        help="build_detector override, e.g. depth=18 or base_channels=8 (repeatable)",
    )
    p.add_argument(
        "--stop-after",
        type=at_least(0),
        default=0,
        metavar="ITERS",
        help="checkpoint and exit after global iteration ITERS, as a killed run (for resume tests)",
    )
    return p


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments, parsed and checked (one-line InputError for a bad combination)."""
    return parser().parse_args(argv)


def parse_override(item: str) -> tuple[str, object]:
    """``"depth=18"`` -> ``("depth", 18)``: booleans, integers and floats are typed, the rest stays text."""
    key, sep, text = item.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"{item!r}: expected KEY=VALUE")
    if text.lower() in ("true", "false"):
        return key, text.lower() == "true"
    for number in (int, float):
        try:
            return key, number(text)
        except ValueError:
            pass
    return key, text


def train(args) -> dict | None:
    """Runs the command's training; the result dict on rank 0 (``{}`` after ``--stop-after``)."""
    started = time.perf_counter()
    row = get_row(args.row)
    info = distributed.init_distributed(args.device)
    try:
        if args.deterministic:
            make_deterministic()
        seed_everything(args.seed)
        plan = plan_run(row, args, info)
        resume = args.resume
        if resume == "auto":
            resume = plan.checkpoint
        run = start_run(row, plan, info, started=started, pretrained=args.pretrained, resume=resume)
        return fit(run)
    finally:
        distributed.shutdown(info)


def main(argv=None) -> int:
    """The command line; returns the exit status (2 after one ``error:`` line for bad input)."""
    return run_cli(_run, argv)


def _run(argv) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
