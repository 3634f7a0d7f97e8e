"""Plain-text result tables and output folders shared by the evaluator CLIs."""

import os

from eval.errors import InputError

__all__ = ["format_table", "make_output_dir", "percent"]


def percent(fraction, digits=4):
    """A fraction in 0..1 as a percentage string; '-' for a class that is not scored."""
    return "-" if fraction is None else f"{100 * fraction:.{digits}f}"


def format_table(header, rows):
    """Left-aligned text columns with a dashed rule under the header."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def make_output_dir(path, option):
    """Creates the output directory `path` (given by `option`); an OSError (a file is in the
    way, no permission) becomes a one-line InputError."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"{option} {path}: cannot create the directory ({error.strerror or error})"
        ) from None
