"""Fixtures for the evaluator tests."""

import subprocess

import pytest


@pytest.fixture
def run_main(capsys):
    """Runs a CLI `main` in-process (what `python -m` runs); returns a CompletedProcess with
    the exit status and captured output."""

    def call(main, *args):
        status = main([str(a) for a in args])
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, status, captured.out, captured.err)

    return call


@pytest.fixture
def write_files(tmp_path):
    """Writes {file name: text} into the test's folder; returns {file name: path}."""

    def write(texts):
        paths = {name: tmp_path / name for name in texts}
        for name, text in texts.items():
            paths[name].write_text(text)
        return paths

    return write
