"""Fixtures of the data tests: small synthetic datasets generated once per session in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from slowbench.data.synthetic import generate


@pytest.fixture(scope="session")
def synthetic_ava(tmp_path_factory) -> Path:
    return generate(
        tmp_path_factory.mktemp("synthetic") / "ava",
        "ava",
        seed=3,
        videos=3,
        val_videos=2,
        seconds=6,
        width=96,
        height=64,
        progress=False,
    )


@pytest.fixture(scope="session")
def synthetic_multisports(tmp_path_factory) -> Path:
    return generate(
        tmp_path_factory.mktemp("synthetic") / "multisports",
        "multisports",
        seed=3,
        videos=2,
        val_videos=1,
        seconds=5,
        width=96,
        height=64,
        progress=False,
    )


@pytest.fixture(scope="session")
def synthetic_multisports_mp4(tmp_path_factory) -> Path:
    """`synthetic_multisports` (same seed and sizes) written as mp4 files."""
    return generate(
        tmp_path_factory.mktemp("synthetic") / "multisports_mp4",
        "multisports",
        seed=3,
        videos=2,
        val_videos=1,
        seconds=5,
        width=96,
        height=64,
        fmt="mp4",
        progress=False,
    )
