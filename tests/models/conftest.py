"""Fixtures for the model tests: tiny detectors and the reference checkpoint key lists."""

import pytest
import torch

from slowbench import ops
from slowbench.models import create_detector


@pytest.fixture
def require_ops():
    """Skips a test that runs the RoI ops when the compiled extension is not built."""
    if not ops.is_available():
        pytest.skip("slowbench._C (the RoI ops) is not built")


@pytest.fixture
def tiny_detector():
    """Builds a depth-18, 8-channel detector (backbone output 64 channels) with overrides."""

    def build(**overrides):
        torch.manual_seed(0)
        kwargs = dict(depth=18, base_channels=8, num_classes=6)
        kwargs.update(overrides)
        return create_detector(**kwargs)

    return build


@pytest.fixture
def reference_keys(shared_file):
    """Parses `spec/checkpoint_keys/<name>.txt` into an ordered list of (key, shape)."""

    def read(name):
        entries = []
        for line in shared_file(f"spec/checkpoint_keys/{name}.txt").read_text().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            key, shape = line.split("\t")
            entries.append((key, [int(s) for s in shape.strip("[]").split(",") if s.strip()]))
        return entries

    return read
