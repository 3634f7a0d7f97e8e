"""Which label id each column of the detector's head scores (mmaction2's `custom_classes`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelColumns:
    """Column `first + i` of the head scores label id `ids[i]`.

    `first` is 1 for keyframe (AVA-style) datasets, whose column 0 is the never-trained background
    column, and 0 for tube datasets. mmaction2's `custom_classes = [17, 79]` is
    `LabelColumns((17, 79), first=1)`: a 3-column head, label 17 in column 1, 79 in column 2, in the
    order given. The official AVA rows without `custom_classes` need no mapping (column = label id).
    """

    ids: tuple[int, ...]
    first: int

    def __post_init__(self):
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"LabelColumns: repeated label ids in {list(self.ids)}")

    @property
    def width(self) -> int:
        """The head's number of columns."""
        return len(self.ids) + self.first

    def label_ids(self) -> np.ndarray:
        """int64 `[width]`: the label id of every column (-1 for the background column)."""
        return np.array([-1] * self.first + list(self.ids), dtype=np.int64)

    def columns_of(self, ids) -> np.ndarray:
        """int64 `[N]`: the column of every label id in `ids`, -1 for an id that has none."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        order = np.array(self.ids, dtype=np.int64)
        columns = np.full(ids.shape, -1, dtype=np.int64)
        for column, label in enumerate(order, start=self.first):
            columns[ids == label] = column
        return columns


def label_ids_of(columns: LabelColumns | None) -> np.ndarray | None:
    """`columns.label_ids()`, or None where the column is the label id (no `LabelColumns`)."""
    return None if columns is None else columns.label_ids()


def parse_label_ids(text: str) -> tuple[int, ...]:
    """The `--classes` option's type: `"11,12,14"` -> `(11, 12, 14)`."""
    try:
        return tuple(int(item) for item in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated label ids, got {text!r}") from None
