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
"""
from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Iterator
from typing import Callable


def wall_seconds(fn: Callable[[], object], sync: Callable[[], None] = lambda: None) -> float:
    """Wall time of one call of `fn` (followed by `sync`, e.g. a CUDA synchronise)."""
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


@contextlib.contextmanager
def gc_frozen() -> Iterator[None]:
    """Collects garbage, then keeps the surviving objects out of collections for the block."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def interleaved_times(functions: dict[str, Callable[[], object]], rounds: int,
                      sync: Callable[[], None] = lambda: None,
                      warmup: bool = True) -> dict[str, list[float]]:
    """Wall seconds of each function in each of `rounds` rounds (after one untimed call of
    each when `warmup`); in round r the order starts at the r-th function."""
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
                times[name].append(wall_seconds(functions[name], sync))
    return times


def median_ratio(candidate_seconds: list[float], baseline_seconds: list[float]) -> float:
    """Median over rounds of candidate / baseline time (< 1: the candidate is faster)."""
    return statistics.median(c / b for c, b in zip(candidate_seconds, baseline_seconds))


def median_ms(seconds: list[float]) -> float:
    return 1e3 * statistics.median(seconds)
