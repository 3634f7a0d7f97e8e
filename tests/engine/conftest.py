"""Tiny synthetic datasets and the tiny-model CLI arguments shared by the engine tests."""
import pytest
import torch

from slowbench.data.synthetic import generate

TINY_ROW = "ava21-k400-r50-4x16"
# A few-second run: R18 with 4 stem channels on 32 px crops, 2 clips per step, no worker processes.
TINY_MODEL_ARGS = ["--model-override", "depth=18", "--model-override", "base_channels=4",
                   "--short-side", "32", "--batch-size", "2", "--workers", "0", "--lr", "0.05"]
TINY_ARGS = ["--row", TINY_ROW, *TINY_MODEL_ARGS]


@pytest.fixture(scope="session")
def tiny_ava(tmp_path_factory):
    """3 train videos (8 keyframes after exclusions) and 1 val video (2 keyframes) of 64x48 frames."""
    return generate(tmp_path_factory.mktemp("tiny") / "ava", kind="ava", seed=0, videos=3, val_videos=1,
                    seconds=6, width=64, height=48, persons=(1, 2), progress=False)


@pytest.fixture(scope="session")
def tiny_multisports(tmp_path_factory):
    """1 train and 1 val video of 5 s (150 annotated frames each) at 64x48, 2-3 persons; the val
    video has tubes of 4 classes."""
    return generate(tmp_path_factory.mktemp("tiny") / "multisports", kind="multisports", seed=0,
                    videos=1, val_videos=1, seconds=5, width=64, height=48, persons=(2, 3),
                    progress=False)


@pytest.fixture
def restore_determinism():
    """`--deterministic` flips a process-wide switch; put it back for the other tests."""
    previous = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(previous)
