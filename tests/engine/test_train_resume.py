"""`--resume` continues an interrupted run to bit-identical weights (under --deterministic)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from engine_helpers import TINY_ARGS

from slowbench import train as train_cli

COMMON = [*TINY_ARGS, "--epochs", "2", "--deterministic", "--seed", "3", "--val-every", "5"]


def weights(work_dir):
    return torch.load(work_dir / "latest.pth", weights_only=True)["state_dict"]


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def run(tiny_ava, work_dir, *extra):
    return train_cli.main([*COMMON, "--data-root", str(tiny_ava), "--work-dir", str(work_dir), *extra])


@pytest.fixture(scope="module")
def uninterrupted(tiny_ava, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("uninterrupted")
    previous = torch.are_deterministic_algorithms_enabled()
    try:
        assert run(tiny_ava, work_dir) == 0
    finally:
        torch.use_deterministic_algorithms(previous)
    return work_dir


def test_stop_mid_epoch_then_resume_equals_uninterrupted(
    tiny_ava, uninterrupted, tmp_path, restore_determinism
):
    assert run(tiny_ava, tmp_path / "cut", "--stop-after", "2") == 0  # epoch 0 has 4 iterations
    cut = torch.load(tmp_path / "cut" / "latest.pth", weights_only=True)
    assert (cut["epoch"], cut["iteration"]) == (0, 2)
    assert not (tmp_path / "cut" / "results.json").exists()
    # Resumed with a worker process: per-sample seeds make the data independent of the loader layout.
    assert run(tiny_ava, tmp_path / "cut", "--resume", "--workers", "1") == 0
    assert_same_weights(weights(uninterrupted), weights(tmp_path / "cut"))
    full = json.loads((uninterrupted / "results.json").read_text())
    resumed = json.loads((tmp_path / "cut" / "results.json").read_text())
    assert full["mAP"] == resumed["mAP"]
    events = [json.loads(line)["event"] for line in (tmp_path / "cut" / "log.jsonl").read_text().splitlines()]
    assert events.count("start") == 2 and events[-1] == "done"


# amp: a checkpoint's loss scaler state belongs to the precision it was saved under.
@pytest.mark.parametrize("changed, key", [(["--batch-size", "3"], "batch_size"), (["--amp"], "amp")])
def test_resume_refuses_a_different_setup(tiny_ava, tmp_path, restore_determinism, capsys, changed, key):
    assert run(tiny_ava, tmp_path, "--stop-after", "1") == 0
    capsys.readouterr()
    assert run(tiny_ava, tmp_path, "--resume", *changed) == 2
    assert f"checkpoint has {key}=" in capsys.readouterr().err


def test_sigkilled_run_resumes_from_its_last_atomic_checkpoint(tiny_ava, uninterrupted, tmp_path):
    command = [
        sys.executable,
        "-m",
        "slowbench.train",
        *COMMON,
        "--data-root",
        str(tiny_ava),
        "--work-dir",
        str(tmp_path),
    ]
    proc = subprocess.Popen(
        [*command, "--save-every", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    log = tmp_path / "log.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if log.exists() and '"event": "checkpoint"' in log.read_text():
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    killed_at = torch.load(tmp_path / "latest.pth", weights_only=True)["iteration"]
    assert 1 <= killed_at < 8  # 2 epochs x 4 iterations: killed part-way
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_same_weights(weights(uninterrupted), weights(tmp_path))


def unchanged_files(work_dir):
    """The bytes of the checkpoint and results a run left (what a no-op resume must not touch)."""
    return {path.name: path.read_bytes() for path in work_dir.iterdir() if path.suffix in (".pth", ".json")}


@pytest.mark.parametrize("stop_after", ["2", "1"], ids=["at-its-stop", "past-its-stop"])
def test_resume_at_or_past_stop_after_trains_nothing(
    tiny_ava, tmp_path, restore_determinism, capsys, stop_after
):
    assert run(tiny_ava, tmp_path, "--stop-after", "2") == 0
    before = unchanged_files(tmp_path)
    capsys.readouterr()
    assert run(tiny_ava, tmp_path, "--resume", "--stop-after", stop_after) == 0
    out = capsys.readouterr().out
    assert (
        f"nothing to train: {tmp_path / 'latest.pth'} is at iteration 2, at or past --stop-after {stop_after}"
        in out.splitlines()
    )
    assert unchanged_files(tmp_path) == before
    assert torch.load(tmp_path / "latest.pth", weights_only=True)["iteration"] == 2


def test_resume_of_a_finished_run_trains_nothing(
    tiny_ava, uninterrupted, tmp_path, restore_determinism, capsys
):
    for path in uninterrupted.iterdir():
        if path.is_file():
            (tmp_path / path.name).write_bytes(path.read_bytes())
    before = unchanged_files(tmp_path)
    capsys.readouterr()
    assert run(tiny_ava, tmp_path, "--resume") == 0
    out = capsys.readouterr().out
    assert (
        f"nothing to train: {tmp_path / 'latest.pth'} is at iteration 8, the end of its 2 epochs"
        in out.splitlines()
    )
    assert unchanged_files(tmp_path) == before
