"""`--report DIR`: one self-contained report.html (PNG plots embedded) plus the PNG files.

It shows the headline numbers and the settings that produced them, per-class AP bars sorted
within groups (AVA categories; MultiSports sports), precision-recall curves of the best and
worst classes, the error breakdown as stacked bars, and every per-class number in tables.
Each number cell carries its exact value in `data-value` (the `--json` fraction), so the
page can be checked against the JSON.
"""

import base64
import html
import os

from eval.atomic import atomic_bytes
from eval.report import plots
from eval.report.tables import make_output_dir, percent

__all__ = ["write_report"]

_SHOWN_CURVES = 4  # best and worst classes with precision-recall curves


def write_report(directory, content, curves, settings):
    """Writes report.html and its PNGs into `directory`; returns the HTML path.

    content: what the page shows, from the evaluator's `report_content(result)` (`eval.ava.report`,
    `eval.multisports.report`): "title", "headline" [(name, fraction)], "groups" {group: [(class
    label, {series: AP})]}, "series", "ap_key", "ap_title", "columns", "rows", "errors" (None or
    (rows, kinds, title, xlabel)), "per_class" (the result's entries); curves: {"<key> <name>":
    (precision, recall)}; settings: {name: value} shown as given.
    """
    make_output_dir(directory, "--report")
    figures = {
        "ap_per_class.png": plots.ap_bars_png(
            content["groups"], content["series"], title=content["ap_title"]
        ),
        "pr_best_worst.png": plots.pr_curves_png(
            *_best_and_worst(curves, content["per_class"], content["ap_key"]),
            title=f"precision-recall of the {_SHOWN_CURVES} best (solid) and worst (dashed) classes",
        ),
    }
    if content["errors"] is not None and content["errors"][0]:  # not without any detection
        rows, kinds, title, xlabel = content["errors"]
        figures["errors.png"] = plots.error_bars_png(rows, kinds, title=title, xlabel=xlabel)
    for name, png in figures.items():
        atomic_bytes(os.path.join(directory, name), png)
    page = _page(content, settings, figures)
    path = os.path.join(directory, "report.html")
    atomic_bytes(path, page.encode("utf-8"))
    return path


def _best_and_worst(curves, per_class, ap_key):
    """({label: curve} of the `_SHOWN_CURVES` best scored classes, the same of the worst)."""
    scored = [
        (per_class[label.split(" ", 1)[0]][ap_key], label)
        for label in curves
        if per_class[label.split(" ", 1)[0]][ap_key] is not None
    ]
    scored.sort(key=lambda item: -item[0])
    best = scored[:_SHOWN_CURVES]
    worst = scored[max(_SHOWN_CURVES, len(scored) - _SHOWN_CURVES) :]
    return tuple(
        {f"{label} (AP {100 * ap:.1f})": curves[label] for ap, label in chosen} for chosen in (best, worst)
    )


def _cell(value, *, fraction):
    """A table cell; numbers keep their exact value in data-value (fractions shown in %)."""
    if value is None:
        return '<td data-value="null">-</td>'
    if isinstance(value, str):
        return f"<td>{html.escape(value)}</td>"
    shown = percent(value) if fraction and isinstance(value, float) else str(value)
    return f'<td data-value="{value!r}">{shown}</td>'


def _table(table_id, columns, rows, *, fraction):
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "\n".join("<tr>" + "".join(_cell(v, fraction=fraction) for v in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}">\n<tr>{head}</tr>\n{body}\n</table>'


def _page(content, settings, figures):
    images = "\n".join(
        f'<h2>{html.escape(name[:-4].replace("_", " "))}</h2>\n<img alt="{name}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        for name, png in figures.items()
    )
    setting_rows = [[str(k), str(v)] for k, v in settings.items()]
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(content["title"])}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}} img{{max-width:100%}}</style>
</head><body>
<h1>{html.escape(content["title"])}</h1>
<h2>headline (%)</h2>
{_table("headline", ["metric", "value %"], content["headline"], fraction=True)}
<h2>settings</h2>
{_table("settings", ["setting", "value"], setting_rows, fraction=False)}
{images}
<h2>per class</h2>
{_table("per-class", content["columns"], content["rows"], fraction=True)}
</body></html>
"""
