"""EpochSampler / SeededDataset: deterministic order, sharding, resume offsets, per-sample seeds."""

import numpy as np
import torch

from slowbench.engine.sampling import EpochSampler, SeededDataset


def test_epoch_order_is_seeded_and_changes_between_epochs():
    a, b = EpochSampler(10, seed=0), EpochSampler(10, seed=0)
    a.set_epoch(0), b.set_epoch(0)
    first = list(a)
    assert first == list(b)
    assert sorted(i for i, _ in first) == list(range(10))
    a.set_epoch(1)
    assert [i for i, _ in a] != [i for i, _ in first]
    assert len({s for _, s in first}) == 10


def test_start_skips_exactly_the_consumed_prefix():
    s = EpochSampler(9, seed=3)
    s.set_epoch(2)
    full = list(s)
    s.set_epoch(2, start=4)
    assert list(s) == full[4:] and len(s) == 5


def test_ranks_partition_the_epoch():
    shards = []
    for rank in range(2):
        s = EpochSampler(8, seed=1, rank=rank, world_size=2)
        s.set_epoch(0)
        shards.append([i for i, _ in s])
    assert sorted(shards[0] + shards[1]) == list(range(8))


def test_unshuffled_order_is_the_dataset_order():
    s = EpochSampler(5, seed=0, shuffle=False)
    assert [i for i, _ in s] == list(range(5))


class RandomDraws(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return index, np.random.rand(), torch.rand(()).item()


def test_seeded_dataset_depends_only_on_the_seed_and_spares_the_caller_rng():
    ds = SeededDataset(RandomDraws())
    torch.manual_seed(0), np.random.seed(0)
    expected_next = torch.rand(()).item(), np.random.rand()
    torch.manual_seed(0), np.random.seed(0)
    first = ds[(2, 77)]
    assert ds[(2, 77)] == first and ds[(2, 78)] != first
    assert (torch.rand(()).item(), np.random.rand()) == expected_next
