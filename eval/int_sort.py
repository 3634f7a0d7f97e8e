"""Fast multi-key argsorts: compose bounded integer keys into one int64 and quicksort it.

numpy's `lexsort` and stable float sorts are several times slower than an unstable
quicksort of distinct int64 values; making the last key the row position makes every
composed value distinct, so the unstable sort gives the stable order.
"""
import numpy as np

__all__ = ["descending_rank", "order_by"]


def descending_rank(values):
    """Dense rank `[N]` int64 with 0 for the largest value (equal values share a rank)."""
    unique, inverse = np.unique(values, return_inverse=True)
    return (unique.size - 1) - inverse.reshape(-1).astype(np.int64)


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
