"""argparse value types of the train and test commands: a bad value is one line that names the
argument and says what it accepts (``argument --workers: expected an integer >= 0, got '-1'``)."""

import argparse
import math
from fractions import Fraction


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


def positive_float(text: str) -> float:
    """The type of a float argument that accepts finite values > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def unit_float(text: str) -> float:
    """The type of a float argument that accepts values in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


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
