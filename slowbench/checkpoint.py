"""Loading mmaction2 checkpoints (detector or Kinetics recogniser) and saving our own, atomically.

Key names are mmaction2's (`backbone.*`, `roi_head.bbox_head.*`), so an official detection
`.pth` (a dict with `state_dict`, `meta`, ...) loads strictly. A recognition checkpoint
(`backbone.*` + `cls_head.*`) loads into the detector's backbone; its classifier is reported and
skipped and the RoI head keeps its initialisation. Files are read with
`torch.load(weights_only=True)` only. `load_pretrained` is the fine-tuning variant behind
`slowbench.train --pretrained`: it also keeps the initialisation of a classifier trained for
another class count, and refuses a checkpoint of another architecture.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from eval.atomic import atomic_write
from slowbench.errors import CheckpointError, first_line


@dataclass
class LoadReport:
    """What a load did: model keys loaded, checkpoint keys skipped (not loaded, e.g. a
    recogniser's `cls_head.*`), model keys left at their initial values, and why (`notes`)."""

    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self, path: str | os.PathLike) -> str:
        """One line: `loaded 120/122 tensors from X; kept init for: a, b; ignored from the
        checkpoint: c, d (why)`."""
        parts = [f"loaded {len(self.loaded)}/{len(self.loaded) + len(self.missing)} tensors from {path}"]
        if self.missing:
            parts.append(f"kept init for: {', '.join(self.missing)}")
        if self.skipped:
            parts.append(f"ignored from the checkpoint: {', '.join(self.skipped)}")
        return "; ".join(parts) + (f" ({'; '.join(self.notes)})" if self.notes else "")


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The content of a checkpoint file, read once with `torch.load(weights_only=True)`: a dict
    whose `state_dict` is a dict of tensors (a bare state dict comes back as
    `{"state_dict": it}`), with `meta` and training state when the file has them. A missing,
    unreadable or foreign file is a one-line `CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({first_line(error)})") from None
    if isinstance(checkpoint, dict) and "state_dict" not in checkpoint:
        checkpoint = {"state_dict": checkpoint}
    state = checkpoint.get("state_dict") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in state.items()
    ):
        raise CheckpointError(f"{path}: no state dict of tensors in the checkpoint")
    return {**checkpoint, "meta": checked_meta(checkpoint.get("meta"), path)}


def checked_meta(meta, source) -> dict:
    """A checkpoint's (or an ONNX export's) `meta` as a dict ({} when absent): `row`, `data_root`
    and `dataset_file` are text, `model_overrides` a dict of names, `classes` and `label_ids` lists
    of integers where present, else a one-line `CheckpointError` naming `source`. What the
    overrides build is checked when they are used."""
    meta = {} if meta is None else meta
    if not isinstance(meta, dict):
        raise CheckpointError(f"{source}: meta is {type(meta).__name__}, expected a dict")
    for key, kind, expected in (
        ("row", str, "text"),
        ("data_root", str, "text"),
        ("dataset_file", str, "text"),
        ("model_overrides", dict, "a dict"),
        ("classes", list, "a list"),
        ("label_ids", list, "a list"),
    ):
        if meta.get(key) is not None and not isinstance(meta[key], kind):
            raise CheckpointError(
                f"{source}: meta[{key!r}] is {type(meta[key]).__name__}, expected {expected}"
            )
    if not all(isinstance(name, str) for name in meta.get("model_overrides") or {}):
        raise CheckpointError(f"{source}: meta['model_overrides'] has a key that is not a name")
    for key in ("classes", "label_ids"):
        if not all(isinstance(label, int) and not isinstance(label, bool) for label in meta.get(key) or []):
            raise CheckpointError(f"{source}: meta[{key!r}] holds a value that is not a label id")
    return meta


def _is_recogniser(state: dict[str, Tensor]) -> bool:
    return not any(k.startswith("roi_head.") for k in state) and any(k.startswith("cls_head.") for k in state)


def load_checkpoint(
    model: nn.Module, path: str | os.PathLike, strict: bool = True, *, checkpoint: dict | None = None
) -> LoadReport:
    """Loads `path` into `model` (a detector, or a bare backbone for `backbone.*` keys);
    `checkpoint` is the file's `read_checkpoint` content when the caller has read it already.

    Detection checkpoint: with `strict`, every model key must be present with the same shape
    and no other key may exist. Recognition checkpoint (`cls_head.*`, no `roi_head.*`): the
    backbone must match strictly; `cls_head.*` is skipped and `roi_head.*` keeps its init.
    Any violation raises `CheckpointError` naming the file and the first bad key; nothing is
    loaded in that case.
    """
    state = (checkpoint or read_checkpoint(path))["state_dict"]
    model_state = model.state_dict()
    if not any(k.startswith("backbone.") for k in model_state):
        # A bare backbone: address it with the detector's names.
        model_state = {f"backbone.{k}": v for k, v in model_state.items()}
        prefix = "backbone."
    else:
        prefix = ""
    recogniser = _is_recogniser(state)
    required = [k for k in model_state if not (recogniser and k.startswith("roi_head."))]
    report = LoadReport()
    for key in required:
        if key not in state:
            if strict:
                raise CheckpointError(
                    f"{path}: key {key!r} is missing from the checkpoint "
                    f"({sum(k not in state for k in required)} missing)"
                )
            report.missing.append(key)
    for key, value in state.items():
        if key not in model_state:
            if strict and not (recogniser and key.startswith("cls_head.")):
                raise CheckpointError(f"{path}: unexpected key {key!r} in the checkpoint")
            report.skipped.append(key)
        elif value.shape != model_state[key].shape:
            raise CheckpointError(
                f"{path}: key {key!r} has shape {list(value.shape)} in the "
                f"checkpoint but {list(model_state[key].shape)} in the model"
            )
        else:
            report.loaded.append(key)
    report.missing += [k for k in model_state if k not in required]
    loadable = {k.removeprefix(prefix): state[k] for k in report.loaded}
    model.load_state_dict(loadable, strict=False)
    return report


def _classifier_keys(model: nn.Module) -> list[str]:
    """The RoI head's last linear layer (its rows are the classes): `weight` and `bias` keys."""
    names = [
        name
        for name, module in model.named_modules()
        if name.startswith("roi_head.") and isinstance(module, nn.Linear)
    ]
    if not names:
        return []
    return [key for key in model.state_dict() if key.rpartition(".")[0] == names[-1]]


def load_pretrained(detector: nn.Module, path: str | os.PathLike) -> LoadReport:
    """Initial weights for fine-tuning a detector (`slowbench.train --pretrained`).

    Accepted: a detection checkpoint of the same architecture (a classifier for another class
    count keeps its init: the usual fine-tuning case), or a recognition / backbone-only one
    (`backbone.*`, optionally `cls_head.*`, which is ignored; the RoI head keeps its init).
    Refused with a one-line `CheckpointError` naming the file, and nothing loaded: no key of the
    model's names, a backbone tensor missing or of another shape (another depth or width),
    another RoI head design, or a tensor the model has no place for.
    """
    state = read_checkpoint(path)["state_dict"]
    model_state = detector.state_dict()
    if not set(state) & set(model_state):
        first = next(iter(state), None)
        raise CheckpointError(
            f"{path}: no tensor matches this model's names (backbone.*, roi_head.*)"
            + (f"; first checkpoint key {first!r}" if first else "; it is empty")
        )
    with_head = any(k.startswith("roi_head.") for k in state)
    classifier = set(_classifier_keys(detector))
    report, reshaped, class_counts = LoadReport(), [], []
    for key, target in model_state.items():
        value = state.get(key)
        if value is None:
            if key.startswith("roi_head.") and not with_head:
                report.missing.append(key)
                continue
            part = "backbone" if key.startswith("backbone.") else "RoI head"
            absent = [k for k in model_state if k not in state and k.startswith(key.split(".")[0])]
            raise CheckpointError(
                f"{path}: does not fit this model (another architecture?): "
                f"{len(absent)} {part} tensors are missing, first {key!r}"
            )
        if value.shape == target.shape:
            report.loaded.append(key)
        elif key in classifier and value.shape[1:] == target.shape[1:]:
            report.missing.append(key)
            report.skipped.append(key)
            class_counts.append((value.shape[0], target.shape[0]))
        else:
            reshaped.append((key, value.shape, target.shape))
    if reshaped:
        key, have, want = reshaped[0]
        raise CheckpointError(
            f"{path}: does not fit this model (another depth or width?): "
            f"{len(reshaped)} tensors have another shape, first {key!r}: "
            f"{list(have)} in the checkpoint, {list(want)} in the model"
        )
    extra = [k for k in state if k not in model_state and not k.startswith("cls_head.")]
    if extra:
        raise CheckpointError(
            f"{path}: does not fit this model (another architecture?): "
            f"{len(extra)} checkpoint tensors have no place in it, first {extra[0]!r}"
        )
    report.skipped += [k for k in state if k.startswith("cls_head.")]
    if class_counts:
        have, want = class_counts[0]
        report.notes.append(f"the checkpoint's classifier has {have} classes, this model {want}")
    if not with_head:
        report.notes.append("no RoI head in the checkpoint")
    detector.load_state_dict({k: state[k] for k in report.loaded}, strict=False)
    return report


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module | dict[str, Tensor], *, meta: dict | None = None, **extra
) -> None:
    """Writes `{"state_dict": ..., "meta": meta, **extra}` (mmengine's layout) atomically
    (`eval.atomic`; the folder is created if needed). Keep `meta` and `extra` to tensors and
    plain containers/numbers/strings so `torch.load(weights_only=True)` can read them back
    (e.g. `optimizer=optimizer.state_dict(), epoch=3`)."""
    path = Path(path)
    state = model.state_dict() if isinstance(model, nn.Module) else model
    checkpoint = {
        "state_dict": {k: v.detach().cpu() for k, v in state.items()},
        "meta": dict(meta or {}),
        **extra,
    }
    atomic_write(path, lambda file: torch.save(checkpoint, file))
