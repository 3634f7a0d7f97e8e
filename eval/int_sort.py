"""Fast multi-key argsorts (compose bounded integer keys into one int64 and quicksort it) and
first-appearance codes.

numpy's `lexsort` and stable float sorts are several times slower than an unstable
quicksort of distinct int64 values; making the last key the row position makes every
composed value distinct, so the unstable sort gives the stable order.
"""

import numpy as np

__all__ = ["coarser_rank", "descending_rank", "first_appearance_codes", "order_by", "runs"]


def runs(values):
    """(starts int64 `[R]`, lengths int64 `[R]`) of the runs of equal consecutive values of
    `values` `[N]`."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    return starts, np.diff(np.append(starts, values.size))


def first_appearance_codes(values):
    """Codes int64 `[N]` numbering the distinct values of `values` `[N]` 0, 1, ... in the order
    they first appear. Only the first value of each run of equal values is looked up (files list
    a frame's rows together): object arrays (names) by hashing, numbers and fixed-width text by
    sorting."""
    starts, lengths = runs(values)
    heads = values[starts]
    if values.dtype == object:
        index = {}
        codes = np.array([index.setdefault(value, len(index)) for value in heads.tolist()], dtype=np.int64)
    else:
        _, first, inverse = np.unique(heads, return_index=True, return_inverse=True)
        rank = np.empty(first.size, dtype=np.int64)
        rank[np.argsort(first)] = np.arange(first.size)
        codes = rank[inverse.reshape(-1)]
    return np.repeat(codes, lengths)


def descending_rank(values):
    """Dense rank `[N]` int64 with 0 for the largest value (equal values share a rank)."""
    unique, inverse = np.unique(values, return_inverse=True)
    return (unique.size - 1) - inverse.reshape(-1).astype(np.int64)


def coarser_rank(rank, values, dtype):
    """`descending_rank(values.astype(dtype))` `[N]` from `rank = descending_rank(values)`
    without sorting again: a cast to a narrower float keeps the order, so it only merges ranks."""
    by_rank = np.empty(int(rank.max(initial=-1)) + 1, dtype=values.dtype)
    by_rank[rank] = values
    with np.errstate(over="ignore"):  # values beyond the narrow type become inf, still in order
        narrow = by_rank.astype(dtype)
    return np.cumsum(np.concatenate([[False], narrow[1:] != narrow[:-1]]))[rank]


def order_by(*keys, last_is_unique=False):
    """Indices sorting rows by `keys` (first key primary), ties in row order.

    Each key is a non-negative int64 array `[N]`; `last_is_unique` says the last key has no
    ties (so the row index is not needed). Falls back to `np.lexsort` when the composed key
    would not fit in 63 bits.
    """
    n = keys[0].size
    composed = np.zeros(n, dtype=np.int64)
    capacity = 1
    tiebreak = () if last_is_unique else (np.arange(n, dtype=np.int64),)
    for key in (*keys, *tiebreak):
        size = int(key.max(initial=0)) + 1
        capacity *= size
        if capacity >= 1 << 62:
            return np.lexsort(tuple(reversed(keys)))
        composed = composed * size + key
    return np.argsort(composed)
