"""Tiny-model CLI arguments shared by the engine tests (a module, so test files never import conftest)."""

TINY_ROW = "ava21-k400-r50-4x16"
# A few-second run: R18 with 4 stem channels on 32 px crops, 2 clips per step, no worker processes.
TINY_MODEL_ARGS = ["--model-override", "depth=18", "--model-override", "base_channels=4",
                   "--short-side", "32", "--batch-size", "2", "--workers", "0", "--lr", "0.05"]
TINY_ARGS = ["--row", TINY_ROW, *TINY_MODEL_ARGS]
