"""Seeded damage for the bad-input tests: small random edits of text, bytes and nested data.

Every bad-input test that uses these asserts the same thing: a damaged file is either read or
refused with the project's one-line input error, never another exception or a hang.
"""

import copy
import random

import numpy as np

# Characters and tokens that break CSV rows and numbers in many ways.
TEXT_PIECES = [*',.\n\r -0123456789eEnaNiIf"\t#{}:', "inf", "nan", "1e309", "-0", "\ufeff", "é", ",,", "\n\n"]
# Values of the wrong kind for any field of a nested structure.
WRONG_VALUES = [
    None,
    "x",
    -1,
    0,
    1.5,
    float("nan"),
    float("inf"),
    [],
    {},
    True,
    10**20,
    [[1, 2]],
    np.zeros((2, 3)),
]


def damaged_text(text: str, rng: random.Random) -> str:
    """`text` with 1-4 characters deleted, or pieces of `TEXT_PIECES` inserted."""
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(chars) + 1)
        if rng.random() < 0.4 and chars:
            del chars[min(position, len(chars) - 1)]
        else:
            chars.insert(position, rng.choice(TEXT_PIECES))
    return "".join(chars)


def damaged_bytes(data: bytes, rng: random.Random, *, head: int | None = None) -> bytes:
    """`data` cut at a random length, or with 1-10 random bytes overwritten (within the first
    `head` bytes when given: headers hold the structure)."""
    if rng.random() < 0.4:
        return data[: rng.randrange(len(data))]
    damaged = bytearray(data)
    for _ in range(rng.randint(1, 10)):
        damaged[rng.randrange(min(len(damaged), head or len(damaged)))] = rng.randrange(256)
    return bytes(damaged)


def damaged_structure(value, rng: random.Random):
    """A deep copy of nested dicts/lists with one entry (at most 3 levels of 3 items deep)
    deleted or replaced by one of `WRONG_VALUES`."""
    value = copy.deepcopy(value)
    paths = list(_paths(value, ()))
    path = rng.choice(paths)
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    if rng.random() < 0.2:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(WRONG_VALUES))
    return value


def _paths(value, prefix):
    items = list(value.items())[:3] if isinstance(value, dict) else list(enumerate(value[:3]))
    for key, item in items:
        yield (*prefix, key)
        if isinstance(item, (dict, list)):
            yield from _paths(item, (*prefix, key))
