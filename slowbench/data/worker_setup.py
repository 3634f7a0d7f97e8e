"""DataLoader workers: how many, and the set-up of each."""
import os

import cv2


def init_worker(_worker_id: int) -> None:
    """One OpenCV thread per worker, as mmaction2's workers run: each worker is already one of
    several decoding processes, and OpenCV's own thread pool would oversubscribe the cores.
    Pixels do not depend on it (OpenCV splits rows across threads, not sums)."""
    cv2.setNumThreads(1)


def default_workers(cap: int = 8) -> int:
    """Loader workers for a run on real data: this process's share of the usable cores (torchrun
    sets LOCAL_WORLD_SIZE), at most `cap` (the reference's loaders use 8), at least 1.

    Decoding 720p JPEGs gives about 60 (4x16) or 11 (16x4) clips/s per worker, far below what a
    GPU detector consumes, so a GPU run wants as many workers as the host can spare.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    share = cores // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, min(cap, share))
