"""Fixtures of the CUDA emulation tests: the built emulation programs, or a clean skip where they
cannot be built (a failure instead where SLOWBENCH_REQUIRE_CUDA_EMULATION=1, as in CI)."""

import os

import emulation
import pytest


@pytest.fixture(scope="session")
def emulated_programs():
    """{"plain": path, "sanitized": path} of the built emulation (built on first use)."""
    try:
        return emulation.build()
    except emulation.PrerequisiteMissing as missing:
        message = f"CUDA emulation not available: {missing}"
        if os.environ.get(emulation.REQUIRE_ENV) == "1":
            pytest.fail(f"{message} ({emulation.REQUIRE_ENV}=1: the emulation must run here)")
        pytest.skip(message)
