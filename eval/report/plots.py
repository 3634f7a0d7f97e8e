"""The evaluators' figures: precision-recall grids, per-class AP bars, stacked error bars
(matplotlib is imported on first use only)."""

import functools
import io
import math
import os

import numpy as np

from eval.atomic import atomic_write
from eval.errors import InputError

__all__ = [
    "ap_bars_png",
    "error_bars_png",
    "plot_pr_curves",
    "png_of",
    "pop_curves",
    "pr_curves_png",
    "pyplot",
    "user_text",
]


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
    from matplotlib.backend_bases import FigureCanvasBase  # matplotlib loads only when plotting

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


def png_of(figure):
    """The figure as PNG bytes (the figure is closed)."""
    plt = pyplot()
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return buffer.getvalue()


@user_text
def ap_bars_png(groups, series, *, title):
    """Horizontal bars per class, classes sorted by the first series within each group.

    groups: {group name: [(class label, {series name: AP fraction or None})]}; series: the
    series names drawn side by side (at most 2). Unscored classes are drawn empty.
    """
    plt = pyplot()
    rows = []
    for group, classes in groups.items():
        ranked = sorted(classes, key=lambda c: -(c[1][series[0]] or 0.0))
        rows += [(group, label, values) for label, values in ranked]
    height = 0.8 / len(series)
    figure, axis = plt.subplots(figsize=(9, 1.6 + 0.22 * max(len(rows), 3)))
    positions = np.arange(len(rows))[::-1]
    for offset, name in enumerate(series):
        values = [100 * (v[name] or 0.0) for _, _, v in rows]
        axis.barh(positions - offset * height, values, height=height, label=name)
    axis.set_yticks(positions - (len(series) - 1) * height / 2)
    axis.set_yticklabels([f"{label}" for _, label, _ in rows], fontsize=7)
    colours = {group: f"C{i % 10}" for i, group in enumerate(groups)}
    for tick, (group, _, _) in zip(axis.get_yticklabels(), rows):
        tick.set_color(colours[group])
    for boundary in np.flatnonzero([a[0] != b[0] for a, b in zip(rows, rows[1:])]):
        axis.axhline(positions[boundary] - 0.5, color="grey", lw=0.5)
    axis.set_xlim(0, 100)
    axis.set_xlabel("AP %")
    axis.set_title(f"{title} (label colour = {', '.join(groups)})", fontsize=9)
    if len(series) > 1:
        axis.legend(fontsize=8, loc="lower right")
    axis.set_ylim(-1, len(rows))
    return png_of(figure)


@user_text
def error_bars_png(rows, kinds, *, title, xlabel):
    """Stacked horizontal bars: rows = [(class label, {kind: value})], drawn in the given order."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(9, 1.6 + 0.22 * max(len(rows), 3)))
    positions = np.arange(len(rows))[::-1]
    left = np.zeros(len(rows))
    for i, kind in enumerate(kinds):
        values = np.array([float(v.get(kind) or 0.0) for _, v in rows])
        axis.barh(positions, values, left=left, color=plt.get_cmap("tab20")(i % 20), label=kind)
        left += values
    axis.set_yticks(positions)
    axis.set_yticklabels([label for label, _ in rows], fontsize=7)
    axis.set_ylim(-1, len(rows))
    axis.set_xlabel(xlabel)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.6 / max(len(rows), 1) - 0.04), ncol=6)
    return png_of(figure)


@user_text
def pr_curves_png(best, worst, *, title):
    """Precision-recall curves in one plot: best {label: (precision, recall)} solid, worst
    dashed."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(7, 5))
    for style, curves in (("-", best), ("--", worst)):
        for label, (precision, recall) in curves.items():
            axis.step(recall, precision, style, where="post", label=label, lw=1.2)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.02)
    axis.set_xlabel("recall")
    axis.set_ylabel("precision")
    axis.set_title(title, fontsize=9)
    if best or worst:
        axis.legend(fontsize=7, loc="lower left")
    return png_of(figure)
