"""Two CPU processes through torchrun (DDP over gloo): sharded data, one checkpoint, results from rank 0."""

import json
import subprocess
import sys

from engine_helpers import TINY_ARGS


def test_torchrun_two_cpu_processes(tiny_ava, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "slowbench.train",
            *TINY_ARGS,
            "--data-root",
            str(tiny_ava),
            "--work-dir",
            str(tmp_path),
            "--epochs",
            "2",
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["world_size"] == 2 and result["device"] == "cpu" and 0.0 <= result["mAP"] <= 1.0
    start = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[0])
    # 8 train clips split over 2 ranks = 4 each, batch 2 -> 2 iterations per epoch (1 process: 4).
    assert (start["world_size"], start["iters_per_epoch"], start["total_iters"]) == (2, 2, 4)
    assert proc.stdout.count("validation mAP") == 1  # only rank 0 reports
