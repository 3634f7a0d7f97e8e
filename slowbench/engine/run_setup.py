"""Process-wide settings of a run (seeds, determinism) and how the CLIs word errors and metrics."""
import dataclasses
import os
import random
import sys

import numpy as np
import torch

# Bad input surfaces as these types (DataError and the zoo's UnknownRowError are ValueErrors).
USER_ERRORS = (ValueError, OSError, FloatingPointError)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_deterministic() -> None:
    """Deterministic kernels everywhere (errors out on ops that have none) and no cuDNN autotuning."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False


def cli_error_message(exc: BaseException) -> str | None:
    """One-line message for a bad-input exception, or None for a bug (which should show its traceback).

    A DataLoader worker re-raises the original exception with the worker's traceback in the message;
    its last line is the original one.
    """
    if not isinstance(exc, USER_ERRORS):
        return None
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def format_metrics(metrics: dict) -> str:
    """``mAP 0.6123`` / ``frame_mAP 0.51 video_mAP@0.5 0.2``: fractions with 4 decimals."""
    parts = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            parts += [f"{key}@{k} {_fraction(v)}" for k, v in value.items()]
        else:
            parts.append(f"{key} {_fraction(value)}")
    return " ".join(parts)


def _fraction(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def run_cli(prog: str, command, args) -> int:
    """Runs ``command(args)``; bad input becomes ``<prog>: error: <one line>`` and exit status 2."""
    try:
        command(args)
    except Exception as exc:  # noqa: BLE001 - anything but bad input re-raises with its traceback
        message = cli_error_message(exc)
        if message is None:
            raise
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    return 0


def row_for_model(row, model_overrides: dict):
    """The row as the data pipeline must see it: a ``num_classes`` override sizes the label vectors too."""
    if "num_classes" in model_overrides:
        return dataclasses.replace(row, num_classes=int(model_overrides["num_classes"]))
    return row
