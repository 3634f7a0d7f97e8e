"""Same-run speed comparisons that stay true on a loaded machine.

A ratio goal compares a candidate with a baseline measured in the same run. Timing the two in
separate phases lets a burst of load from other processes fall on one of them only, so
`interleaved_times` runs every variant once per round, back to back, rotating which goes
first (order effects such as cache and allocator warm-up cancel), and `median_ratio` takes
the median of the per-round candidate/baseline ratios: it moves only when most rounds are
distorted, where a ratio of minima or of separately taken medians moves with one lucky or
unlucky phase. While timing, the objects alive before it (what earlier tests of the session
left) are frozen out of the cyclic garbage collector: a full collection scans every tracked
object, so it would charge a suite-order-dependent pause to whichever variant triggered it;
the objects the timed code itself creates are collected as usual.

On a shared CPU, wall time of multi-threaded torch code is not a cost measure at all: when
another process takes a core, the intra-op threads wait for each other at every parallel
region (spinning, then sleeping), so one call can take 3-10x its quiet time and the ratio of
two variants swings beyond a few-percent goal (measured on a 2-core machine loaded 4-5 deep:
R50-R101 predict calls of 0.2-0.4 s taking 1.3-4.9 s, median paired folded/eager ratios
0.85-1.13 where the quiet ratio is 0.98-0.99). `cpu_cost_times` therefore times CPU variants
on one thread in process CPU seconds, the cost per core, which such load barely moves (the
same ratios: 0.95-1.04).
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator

import torch


def wall_seconds(
    fn: Callable[[], object],
    sync: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Time of one call of `fn` (followed by `sync`, e.g. a CUDA synchronise) on `clock`."""
    start = clock()
    fn()
    sync()
    return clock() - start


@contextlib.contextmanager
def gc_frozen() -> Iterator[None]:
    """Collects garbage, then keeps the surviving objects out of collections for the block."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def interleaved_times(
    functions: dict[str, Callable[[], object]],
    rounds: int,
    sync: Callable[[], None] = lambda: None,
    warmup: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Seconds on `clock` (wall by default) of each function in each of `rounds` rounds (after
    one untimed call of each when `warmup`); in round r the order starts at the r-th function."""
    names = list(functions)
    if warmup:
        for name in names:
            functions[name]()
        sync()
    times: dict[str, list[float]] = {name: [] for name in names}
    with gc_frozen():
        for r in range(rounds):
            for i in range(len(names)):
                name = names[(r + i) % len(names)]
                times[name].append(wall_seconds(functions[name], sync, clock))
    return times


def cpu_cost_times(functions: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """`interleaved_times` in process CPU seconds with torch on one intra-op thread (restored
    after): the per-core cost of CPU code, nearly independent of other processes' load."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return interleaved_times(functions, rounds, clock=time.process_time)
    finally:
        torch.set_num_threads(threads)


def median_ratio(candidate_seconds: list[float], baseline_seconds: list[float]) -> float:
    """Median over rounds of candidate / baseline time (< 1: the candidate is faster)."""
    return statistics.median(c / b for c, b in zip(candidate_seconds, baseline_seconds))


def median_ms(seconds: list[float]) -> float:
    return 1e3 * statistics.median(seconds)
