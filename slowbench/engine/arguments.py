"""argparse value types of the train and test commands: a bad value is one line that names the
argument and says what it accepts (``argument --workers: expected an integer >= 0, got '-1'``)."""

import argparse
import math


def at_least(minimum: int):
    """The type of an integer argument that accepts ``minimum`` and above."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
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
