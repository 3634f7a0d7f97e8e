"""argparse value types of the train and test commands: a bad value is one line that names the
argument and says what it accepts (``argument --workers: expected an integer >= 0, got '-1'``);
and ``check_data_source``, the one rule across arguments that train, test and demo share."""

import argparse
import math
from fractions import Fraction

from slowbench.errors import InputError


def at_least(minimum: int):
    """The type of an integer argument that accepts ``minimum`` and above."""
    return _integer_type(minimum, None)


def int_between(low: int, high: int):
    """The type of an integer argument that accepts ``low`` to ``high`` (inclusive)."""
    return _integer_type(low, high)


def _integer_type(low: int, high: int | None):
    expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def _float_type(accept, expected: str):
    """The type of a float argument whose finite values pass ``accept``; ``expected`` words them."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and accept(value)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


positive_float = _float_type(lambda value: value > 0, "a finite number > 0")
unit_float = _float_type(lambda value: 0 <= value <= 1, "a number from 0 to 1")


def frame_rate(text: str) -> Fraction:
    """The type of a frame-rate argument, read as ffmpeg reads ``-r``: ``30``, ``29.97`` (2997/100)
    or ``30000/1001``; finite and > 0."""
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        value = None
    if value is None or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a frame rate > 0 (30, 29.97 or 30000/1001), got {text!r}")
    return value


def check_data_source(dataset, data_root) -> None:
    """``--dataset`` and ``--data-root`` name the data in two ways: at most one may be given."""
    if dataset is not None and data_root is not None:
        raise InputError("--dataset and --data-root: give one of them (a dataset file or an official layout)")
