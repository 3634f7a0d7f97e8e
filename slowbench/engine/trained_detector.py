"""The detector of a checkpoint, built the way it was trained."""

from slowbench.checkpoint import load_checkpoint, read_checkpoint
from slowbench.errors import CheckpointError
from slowbench.models import build_detector
from slowbench.models.detector import Detector


def load_trained_detector(row, path) -> tuple[Detector, dict]:
    """`(detector, meta)`: the row's detector with the model overrides that `slowbench.train`
    recorded in the checkpoint's meta (none for an official file), weights loaded strictly."""
    checkpoint = read_checkpoint(path)
    meta = checkpoint["meta"]
    if meta.get("row") not in (None, row.name):
        raise CheckpointError(f"{path}: checkpoint was trained for row {meta['row']!r}, not {row.name!r}")
    overrides = meta.get("model_overrides") or {}
    try:
        detector = build_detector(row, **overrides)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: meta['model_overrides'] do not build a detector ({error})") from None
    load_checkpoint(detector, path, strict=True, checkpoint=checkpoint)
    return detector, meta
