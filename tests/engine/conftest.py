"""Tiny synthetic datasets shared by the engine tests (the CLI arguments live in engine_helpers)."""

import pytest
import torch
from engine_helpers import LEARNING_SIZE, TINY_KEYFRAMES_SIZE, TINY_TUBES_SIZE, learn

from slowbench.data.synthetic import generate


@pytest.fixture(scope="session")
def tiny_ava(tmp_path_factory):
    """3 train videos (8 keyframes after exclusions) and 1 val video (2 keyframes) of 64x48 frames."""
    return generate(
        tmp_path_factory.mktemp("tiny") / "ava",
        kind="ava",
        seed=0,
        **TINY_KEYFRAMES_SIZE,
        progress=False,
    )


@pytest.fixture(scope="session")
def tiny_multisports(tmp_path_factory):
    """1 train and 1 val video of 5 s (150 annotated frames each) at 64x48, 2-3 persons; the val
    video has tubes of 4 classes. Written as mp4 files (`trainval/<sport>/<video>.mp4`, the
    official layout), so the MultiSports tests run through the video reader."""
    return generate(
        tmp_path_factory.mktemp("tiny") / "multisports",
        kind="multisports",
        seed=0,
        **TINY_TUBES_SIZE,
        fmt="mp4",
        progress=False,
    )


@pytest.fixture(scope="session")
def learning_ava(tmp_path_factory):
    """The learning tests' data: 640 train / 32 val one-person videos of 10 s at 128x96
    (~1.5 min to generate on 2 quiet cores; shared by the float32 and --amp learning tests)."""
    return generate(
        tmp_path_factory.mktemp("learn") / "ava",
        kind="ava",
        seed=0,
        **LEARNING_SIZE,
        progress=False,
    )


@pytest.fixture(scope="session")
def learned_ava(learning_ava, tmp_path_factory) -> dict:
    """`results.json` of the learning run on `learning_ava` (test_it_learns.py's; ~3.5 min)."""
    return learn(["--data-root", str(learning_ava)], tmp_path_factory.mktemp("learned") / "run")


@pytest.fixture(scope="session")
def learning_custom(tmp_path_factory):
    """`learning_ava`'s task as a user's own data (`--kind custom`): the same 640 / 32 scenes, at
    AVA's 30 fps so that the frames are the same too, timestamps from 0, label ids 2..17, pixel
    boxes, frames `frame_000001.jpg`."""
    return generate(
        tmp_path_factory.mktemp("learn") / "custom",
        kind="custom",
        seed=0,
        **LEARNING_SIZE,
        fps=30,
        progress=False,
    )


@pytest.fixture
def restore_determinism():
    """`--deterministic` flips a process-wide switch; put it back for the other tests."""
    previous = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(previous)
