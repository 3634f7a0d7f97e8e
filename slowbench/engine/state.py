"""Training checkpoints: write and restore model, optimizer, scheduler, loss scaler, RNG and position
(read with ``slowbench.checkpoint.read_checkpoint``).

File layout (a plain dict, loadable with ``torch.load(weights_only=True)``; ``state_dict`` + ``meta`` is
also what ``slowbench.checkpoint.load_checkpoint`` reads, like an mmaction2 checkpoint):
``{"state_dict", "meta", "optimizer", "scheduler", "scaler", "rng", "epoch", "iteration"}``, where
``scaler`` is the GradScaler's ``state_dict()`` (``{}`` unless fp16; files written before it existed
lack it) and ``epoch`` and ``iteration`` say how far training got: the next step is global iteration
``iteration``.
"""

import pathlib
import random

import numpy as np
import torch

from slowbench.checkpoint import save_checkpoint
from slowbench.errors import CheckpointError


def rng_state() -> dict:
    """Python, numpy and torch (CPU and CUDA) RNG states as weights-only-loadable objects."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.random.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of ``rng_state``."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    torch.random.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_state(
    path, *, model, optimizer, scheduler, scaler, epoch: int, iteration: int, meta: dict
) -> pathlib.Path:
    """Writes the full training state atomically (``model`` unwrapped from DDP by the caller)."""
    path = pathlib.Path(path)
    save_checkpoint(
        path,
        model,
        meta=meta,
        optimizer=optimizer.state_dict(),
        scheduler=scheduler.state_dict(),
        scaler=scaler.state_dict(),
        rng=rng_state(),
        epoch=epoch,
        iteration=iteration,
    )
    return path


def restore_training_state(ckpt: dict, *, model, optimizer, scheduler, scaler) -> tuple[int, int]:
    """Loads a ``save_training_state`` dict into the objects; returns ``(epoch, iteration)`` to go on from."""
    missing = [k for k in ("optimizer", "scheduler", "rng", "epoch", "iteration") if k not in ckpt]
    if missing:
        raise CheckpointError(
            f"checkpoint cannot resume training: no {', '.join(missing)} "
            f"(use --pretrained for weights-only files)"
        )
    model.load_state_dict(ckpt["state_dict"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    if ckpt.get("scaler"):  # absent from older files, {} when the run had no fp16 scaler
        scaler.load_state_dict(ckpt["scaler"])
    set_rng_state(ckpt["rng"])
    return int(ckpt["epoch"]), int(ckpt["iteration"])
