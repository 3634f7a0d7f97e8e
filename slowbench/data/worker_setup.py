"""How many DataLoader workers a run uses."""

import os

from eval.fork_map import usable_cpus


def default_workers(cap: int = 16) -> int:
    """Loader workers for a run on real data: this process's share of the usable cores (torchrun
    sets LOCAL_WORLD_SIZE) less one, the core of the process that runs the model; at least 1, at
    most `cap`.

    Decoding 720p JPEGs as mmaction2 does gives about 60 (4x16) or 11 (16x4) clips/s per worker,
    below what a GPU detector consumes, so a GPU run wants every core the host can spare.
    """
    share = usable_cpus() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, min(cap, share - 1))
