"""Fixtures for the evaluator tests."""
import subprocess

import pytest

from eval.errors import run_cli


@pytest.fixture
def run_main(capsys):
    """Runs a CLI `main` in-process through `run_cli` (the wrapper `python -m` uses);
    returns a CompletedProcess with the exit status and captured output."""
    def call(main, *args):
        with pytest.raises(SystemExit) as info:
            run_cli(main, [str(a) for a in args])
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, info.value.code, captured.out, captured.err)
    return call
