"""pytest plugin: runs `benchmarks/bench_gpu.py` on the CPU at toy sizes, with CPU stand-ins for
the `torch.cuda` calls it makes, so that its code (not its figures) runs where there is no GPU.
Time on a GPU machine is scarce; a Python slip in a benchmark that never ran should not cost it.

    python -m pytest -p benchmarks.cpu_stand_ins benchmarks/bench_gpu.py --benchmark-only

The goals are switched off (CPU times say nothing about them); the agreement checks between the
fused op, the slice loop and torchvision (when installed) stay on.
"""

import dataclasses
import time

import torch


class _Event:
    """`torch.cuda.Event` timed with the host clock."""

    def __init__(self, enable_timing: bool = False) -> None:
        self.seconds = 0.0

    def record(self, stream=None) -> None:
        self.seconds = time.perf_counter()

    def synchronize(self) -> None:
        pass

    def elapsed_time(self, end: "_Event") -> float:
        return (end.seconds - self.seconds) * 1e3


# Set before bench_gpu is imported: its module-level skip reads is_available().
torch.cuda.is_available = lambda: True
torch.cuda.synchronize = lambda device=None: None
torch.cuda.get_device_name = lambda device=None: "CPU stand-in"
torch.cuda.memory_allocated = lambda device=None: 0
torch.cuda.max_memory_allocated = lambda device=None: 0
torch.cuda.reset_peak_memory_stats = lambda device=None: None
torch.cuda.empty_cache = lambda: None
torch.cuda.Event = _Event

from benchmarks import bench_gpu  # noqa: E402 - after the stand-ins

_real_row = bench_gpu.get_row
bench_gpu.DEVICE = "cpu"
bench_gpu.SHAPE = (2, 16, 4, 8, 8)
bench_gpu.NUM_ROIS = 6
bench_gpu.ROUNDS = 2
bench_gpu.WARMUP = 1
bench_gpu.PROFILED_CALLS = 2
bench_gpu.L2_SCRUB_BYTES = 1024
bench_gpu.FLOOR_GOAL = float("inf")
bench_gpu.SPEEDUP_GOAL = 0.0
bench_gpu.FORWARD_BACKWARD_GOAL = 0.0
bench_gpu.TRAIN_HW = (32, 32)
bench_gpu.get_row = lambda name: dataclasses.replace(_real_row(name), batch_per_gpu=2, test_hw=(32, 48))
