"""Per-class precision-recall curves (matplotlib is imported only when plotting)."""

import math

from eval.errors import InputError

__all__ = ["plot_pr_curves", "pop_curves", "pyplot"]


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (imported on first use only)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plots need matplotlib (pip install matplotlib)") from None
    return plt


def plot_pr_curves(curves, path, *, title):
    """Draws {label: (precision [D], recall [D])} as a grid of step plots saved to `path`
    (a file name or a binary file object; PNG unless the name says otherwise)."""
    plt = pyplot()
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
    figure.savefig(path, dpi=80)
    plt.close(figure)


def pop_curves(per_class):
    """Removes the "precision"/"recall" arrays of an evaluator's per_class dict; returns them as
    {"<key> <name>": (precision [D], recall [D])}."""
    return {
        f"{key} {entry['name']}": (entry.pop("precision"), entry.pop("recall"))
        for key, entry in per_class.items()
        if "precision" in entry
    }
