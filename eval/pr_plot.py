"""Per-class precision-recall curves (matplotlib is imported only when plotting)."""

import functools
import math
import os

from eval.atomic import atomic_write
from eval.errors import InputError

__all__ = ["plot_pr_curves", "pop_curves", "pyplot", "user_text"]


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (imported on first use only)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plots need matplotlib (pip install matplotlib)") from None
    return plt


def user_text(plot):
    """Runs the plotting function `plot` with matplotlib's mathtext off: the class, video and file
    names it draws are user text, in which a `$` is a character (as TeX, `$\\foo$` would fail)."""

    @functools.wraps(plot)
    def run(*args, **kwargs):
        with pyplot().rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return run


@user_text
def plot_pr_curves(curves, path, *, title):
    """Draws {label: (precision [D], recall [D])} as a grid of step plots saved to the file `path`,
    atomically (`eval.atomic`, folders created), in the format its suffix names (PNG without one)."""
    plt = pyplot()
    from matplotlib.backend_bases import FigureCanvasBase

    image_format = os.path.splitext(os.fspath(path))[1][1:].lower() or "png"
    if image_format not in FigureCanvasBase.get_supported_filetypes():
        raise InputError(f"{path}: matplotlib cannot write .{image_format} images (use .png, .pdf or .svg)")
    count = max(len(curves), 1)
    columns = min(6, count)
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3 * columns, 2.6 * rows), squeeze=False)
    for axis in axes.flat[len(curves) :]:
        axis.axis("off")
    for axis, (label, (precision, recall)) in zip(axes.flat, curves.items()):
        axis.step(recall, precision, where="post")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1.02)
        axis.set_title(label[:40], fontsize=8)
        axis.tick_params(labelsize=6)
    figure.suptitle(title)
    figure.tight_layout()
    atomic_write(path, lambda file: figure.savefig(file, dpi=80, format=image_format))
    plt.close(figure)


def pop_curves(per_class):
    """Removes the "precision"/"recall" arrays of an evaluator's per_class dict; returns them as
    {"<key> <name>": (precision [D], recall [D])}."""
    return {
        f"{key} {entry['name']}": (entry.pop("precision"), entry.pop("recall"))
        for key, entry in per_class.items()
        if "precision" in entry
    }
