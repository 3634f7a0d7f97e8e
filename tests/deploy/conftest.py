"""A tiny trained-looking detector checkpoint for the export tests."""

import pytest
import torch
from deploy_helpers import ROW, TINY

from slowbench.checkpoint import save_checkpoint
from slowbench.models import build_detector


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """Writes a checkpoint of the row's detector with `overrides` (random weights, BN statistics
    moved off their defaults so that a train-mode export would differ) and returns its path."""

    def write(**overrides):
        overrides = {**TINY, **overrides}
        torch.manual_seed(0)
        detector = build_detector(ROW, **overrides)
        for name, tensor in detector.state_dict().items():
            if name.endswith(("running_mean", "running_var")):
                tensor.copy_(torch.rand_like(tensor) + 0.5)
        path = tmp_path_factory.mktemp("ckpt") / "tiny.pth"
        save_checkpoint(path, detector, meta={"row": ROW, "model_overrides": overrides})
        return path

    return write
