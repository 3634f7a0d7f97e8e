"""Reproducible, resumable sample order: every sample is drawn with its own seed.

``EpochSampler`` yields ``(index, sample_seed)`` for this rank's shard of one epoch (the order of
``torch.utils.data.DistributedSampler``), optionally starting part-way through the epoch (resume).
``SeededDataset`` seeds python/numpy/torch from ``sample_seed`` around each ``__getitem__``, so the random
augmentation of a sample depends only on (seed, epoch, position) — not on worker count, worker
assignment, or whether the run was interrupted and resumed.
"""

import random

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler, Sampler


def sample_seed(seed: int, epoch: int, rank: int, position: int) -> int:
    """Independent 32-bit seed for one draw (SeedSequence mixing, no correlation between neighbours)."""
    return int(np.random.SeedSequence([seed, epoch, rank, position]).generate_state(1)[0])


class EpochSampler(Sampler):
    """This rank's ``(index, sample_seed)`` pairs for the epoch set by ``set_epoch``."""

    def __init__(
        self, num_samples: int, *, seed: int, rank: int = 0, world_size: int = 1, shuffle: bool = True
    ):
        self._order = DistributedSampler(
            range(num_samples),
            num_replicas=world_size,
            rank=rank,
            shuffle=shuffle,
            seed=seed,
            drop_last=False,
        )
        self.seed, self.rank = seed, rank
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Selects the epoch; ``start`` skips that many of this rank's samples (already trained on)."""
        self.epoch, self.start = epoch, start
        self._order.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self._order) - self.start

    def __iter__(self):
        indices = list(self._order)
        for position in range(self.start, len(indices)):
            yield indices[position], sample_seed(self.seed, self.epoch, self.rank, position)


class SeededDataset(Dataset):
    """Wraps a dataset so ``ds[(index, seed)]`` draws its randomness from ``seed`` alone."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        index, seed = key
        saved = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        try:
            return self.dataset[index]
        finally:
            # In the main process (workers=0) the training RNG stream must not see the data draws.
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.random.set_rng_state(saved[2])
