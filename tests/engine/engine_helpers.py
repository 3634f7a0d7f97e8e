"""Tiny-model CLI arguments and helpers shared by the engine tests (a module, so test files never
import conftest)."""

import contextlib
import json

import torch

from slowbench import train as train_cli

TINY_ROW = "ava21-k400-r50-4x16"
# A few-second run: R18 with 4 stem channels on 32 px crops, 2 clips per step, no worker processes.
TINY_MODEL_ARGS = [
    "--model-override",
    "depth=18",
    "--model-override",
    "base_channels=4",
    "--short-side",
    "32",
    "--batch-size",
    "2",
    "--workers",
    "0",
    "--lr",
    "0.05",
]
TINY_ARGS = ["--row", TINY_ROW, *TINY_MODEL_ARGS]
# `generate` sizes of the tiny datasets: keyframes (3 train videos, 1 val video of 6 s) and tubes
# (1 + 1 videos of 5 s), 64x48 frames; the built-in and the dataset-file tests use the same.
TINY_KEYFRAMES_SIZE = dict(videos=3, val_videos=1, seconds=6, width=64, height=48, persons=(1, 2))
TINY_TUBES_SIZE = dict(videos=1, val_videos=1, seconds=5, width=64, height=48, persons=(2, 3))
# The learning tests' scenes: 640 train / 32 val one-person videos of 10 s at 128x96.
LEARNING_SIZE = dict(videos=640, val_videos=32, persons=(1, 1))
# The learning test's model and schedule (see test_it_learns.py); --data-root and --work-dir to add.
# On the CPU also where a GPU is present: the asserted figure is of this deterministic CPU run, and
# a from-scratch run's mAP moves with its rounding (cuDNN's kernels would change it).
LEARN_ARGS = [
    "--device",
    "cpu",
    "--row",
    "ava21-k400-r50-4x16",
    "--model-override",
    "depth=18",
    "--short-side",
    "96",
    "--epochs",
    "3",
    "--batch-size",
    "8",
    "--lr",
    "0.1",
    "--val-every",
    "100",
    "--seed",
    "0",
    "--workers",
    "1",
]


@contextlib.contextmanager
def one_thread():
    """Small models here are bound by per-op overhead: one compute thread costs little on an idle
    2-core machine, leaves the other core to a data-loading worker, and avoids two OpenMP threads
    spinning against other jobs on a shared one."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def learn(data_args: list, work_dir) -> dict:
    """`results.json` of a learning run (`LEARN_ARGS` on the data `data_args` names) in `work_dir`."""
    with one_thread():  # the other core decodes batches in the data-loading worker
        status = train_cli.main([*LEARN_ARGS, *data_args, "--work-dir", str(work_dir)])
    assert status == 0
    return json.loads((work_dir / "results.json").read_text())
