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
from eval.report import make_output_dir, percent

__all__ = ["write_report", "KINDS"]

KINDS = ("ava", "multisports")
_SHOWN_CURVES = 4  # best and worst classes with precision-recall curves


def write_report(directory, kind, result, curves, settings):
    """Writes report.html and its PNGs into `directory`; returns the HTML path.

    kind: "ava" or "multisports"; result: the evaluator's `--json` dict (with "errors");
    curves: {"<key> <name>": (precision, recall)}; settings: {name: value} shown as given.
    """
    from eval import report_plots

    make_output_dir(directory, "--report")
    content = _ava_content(result) if kind == "ava" else _multisports_content(result)
    figures = {
        "ap_per_class.png": report_plots.ap_bars_png(
            content["groups"], content["series"], title=content["ap_title"]
        ),
        "pr_best_worst.png": report_plots.pr_curves_png(
            *_best_and_worst(curves, result["per_class"], content["ap_key"]),
            title=f"precision-recall of the {_SHOWN_CURVES} best (solid) and worst (dashed) classes",
        ),
    }
    if content["errors"] is not None and content["errors"][0]:  # not without any detection
        rows, kinds, title, xlabel = content["errors"]
        figures["errors.png"] = report_plots.error_bars_png(rows, kinds, title=title, xlabel=xlabel)
    for name, png in figures.items():
        atomic_bytes(png, os.path.join(directory, name))
    page = _page(content, settings, figures)
    path = os.path.join(directory, "report.html")
    atomic_bytes(page.encode("utf-8"), path)
    return path


def _ava_content(result):
    from eval.ava import CATEGORIES
    from eval.ava_errors import FP_KINDS

    groups = {name: [] for name in CATEGORIES}
    for key, entry in result["per_class"].items():
        group = next(name for name, (low, high) in CATEGORIES.items() if low <= int(key) <= high)
        groups[group].append((f"{key} {entry['name']}", {"AP": entry["ap"]}))
    headline = [("frame-mAP", result["mAP"])] + list(result["categories"].items())
    columns = ["id", "class", "AP %", "gt", "det"]
    rows = [[key, e["name"], e["ap"], e["num_gt"], e["num_det"]] for key, e in result["per_class"].items()]
    errors = result.get("errors")
    error_figure = None
    if errors is not None:
        kinds = ("tp", *FP_KINDS)
        columns += [*kinds, "missed", "classification FPs sit on persons doing"]
        for row, entry in zip(rows, errors["per_class"].values()):
            row += [entry[k] for k in (*kinds, "missed")]
            row.append(", ".join(f"{name} ({n})" for name, n in entry["confused_with"].items()))
        shares = [
            (f"{key} {e['name']}", {k: e[k] / max(e["tp"] + e["fp"], 1) for k in kinds})
            for key, e in errors["per_class"].items()
            if e["tp"] + e["fp"]
        ]
        shares.sort(key=lambda row: -row[1]["tp"])
        error_figure = (
            shares,
            kinds,
            f"what the detections are (IoU 0.5; localisation from IoU {errors['localisation_min_iou']})",
            "share of the class's detections",
        )
    return {
        "title": f"AVA frame-mAP ({result['protocol']} protocol)",
        "headline": headline,
        "groups": {k: v for k, v in groups.items() if v},
        "series": ("AP",),
        "ap_key": "ap",
        "ap_title": "per-class AP by category",
        "columns": columns,
        "rows": rows,
        "errors": error_figure,
    }


def _multisports_content(result):
    from eval.video_errors import ERROR_KINDS

    series = (f"frame-AP@{result['frame_thr']}", "video-AP@0.5")
    groups = {}
    for key, entry in result["per_class"].items():
        groups.setdefault(entry["name"].split()[0], []).append(
            (f"{key} {entry['name']}", dict(zip(series, (entry["frame_ap"], entry["video_ap"]["0.5"]))))
        )
    headline = [(f"frame-mAP@{result['frame_thr']}", result["frame_mAP"])]
    headline += [(f"video-mAP@{key}", value) for key, value in result["video_mAP"].items()]
    columns = [
        "label",
        "class",
        f"frame-AP@{result['frame_thr']} %",
        "video-AP@0.2 %",
        "video-AP@0.5 %",
        "gt boxes",
        "dets",
        "gt tubes",
        "tubes",
    ]
    rows = [
        [
            key,
            e["name"],
            e["frame_ap"],
            e["video_ap"]["0.2"],
            e["video_ap"]["0.5"],
            e["num_gt_boxes"],
            e["num_det"],
            e["num_gt_tubes"],
            e["num_tubes"],
        ]
        for key, e in result["per_class"].items()
    ]
    errors = result.get("errors")
    error_figure = None
    if errors is not None:
        kinds = ("AP", *ERROR_KINDS, "missed")
        error_rows = [
            (name, {k: 100 * v for k, v in entry.items()}) for name, entry in errors["per_class"].items()
        ]
        error_rows.sort(key=lambda row: -row[1]["AP"])
        error_figure = (
            error_rows,
            kinds,
            f"video-AP error analysis at tube IoU {errors['thr']} (the official videoAP_error)",
            "percent",
        )
        headline += [
            (f"error analysis mean {k} (tube IoU {errors['thr']})", errors["mean"][k]) for k in kinds
        ]
        columns += [f"{k} %" for k in kinds]
        by_name = errors["per_class"]
        for row in rows:
            row += [by_name[row[1]][k] for k in kinds]
    return {
        "title": f"MultiSports frame-/video-mAP (tubes: {result['tubes']})",
        "headline": headline,
        "groups": groups,
        "series": series,
        "ap_key": "frame_ap",
        "ap_title": "per-class AP by sport",
        "columns": columns,
        "rows": rows,
        "errors": error_figure,
    }


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
