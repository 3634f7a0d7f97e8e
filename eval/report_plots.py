"""The report's figures as PNG bytes: grouped per-class AP bars and stacked error bars."""

import io

import numpy as np

from eval.pr_plot import pyplot, user_text

__all__ = ["ap_bars_png", "error_bars_png", "pr_curves_png", "png_of"]


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
