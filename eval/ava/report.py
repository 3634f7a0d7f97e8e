"""The AVA page of `--report`: per-class AP by category, the false-positive breakdown."""

from eval.ava.error_analysis import FP_KINDS
from eval.ava.protocols import CATEGORIES

__all__ = ["report_content"]


def report_content(result):
    """What `eval.report.html.write_report` shows of an `eval.ava` result (with "errors")."""
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
        "per_class": result["per_class"],
    }
