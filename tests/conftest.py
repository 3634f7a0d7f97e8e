"""Shared test fixtures: the ../shared reference data, device selection and RNG hygiene."""

import pathlib
import random

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_dir():
    """Path of ../shared; skips the test when the reference data is not beside the repo."""
    if not SHARED.is_dir():
        pytest.skip("shared/ reference data not available")
    return SHARED


@pytest.fixture
def shared_file(shared_dir):
    """Returns a function resolving a path inside ../shared, skipping when that file is absent."""

    def resolve(relative):
        path = shared_dir / relative
        if not path.exists():
            pytest.skip(f"shared/{relative} not available")
        return path

    return resolve


@pytest.fixture(autouse=True)
def _restore_rng_state():
    """Keeps tests independent of each other's random draws."""
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        import torch
    except ImportError:
        torch = None
    torch_state = torch.random.get_rng_state() if torch is not None else None
    yield
    random.setstate(py_state)
    np.random.set_state(np_state)
    if torch is not None:
        torch.random.set_rng_state(torch_state)
