"""`benchmarks/bench_gpu.py` runs end to end on CPU stand-ins (`benchmarks.cpu_stand_ins`): its
code is exercised here so that a GPU session spends its minutes on figures, not on a slip."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow  # ~30-60 s: every benchmark at toy sizes, five detectors built
def test_every_gpu_benchmark_runs_on_cpu_stand_ins():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "benchmarks.cpu_stand_ins",
            "benchmarks/bench_gpu.py",
            "--benchmark-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    skipped = re.search(r"(\d+) skipped", summary)
    # 4 forward + 8 backward rooflines, 5 rows x (training step, inference); the 8 speed-up
    # benchmarks need torchvision, and only they may skip.
    assert passed + (int(skipped.group(1)) if skipped else 0) == 30, summary
    assert passed >= 22, summary
