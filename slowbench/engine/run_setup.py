"""Process-wide settings of a run (seeds, determinism) and how the CLIs word metrics."""

import dataclasses
import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_deterministic() -> None:
    """Deterministic kernels everywhere (errors out on ops that have none) and no cuDNN autotuning."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False


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


def row_for_model(row, model_overrides: dict):
    """The row as the data pipeline must see it: a ``num_classes`` override sizes the label vectors too."""
    if "num_classes" in model_overrides:
        return dataclasses.replace(row, num_classes=int(model_overrides["num_classes"]))
    return row
