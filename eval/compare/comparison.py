"""Two `--json` results of the same evaluator side by side (`python -m eval.compare A.json B.json`).

Both files come from the same evaluator (`eval.ava` or `eval.multisports`). Printed: the
headline metrics of A and B with their difference, then every class with its AP in A and B
and the change B - A in points, sorted by the change (classes scored in only one file last),
and the classes that changed most. `--metric` picks MultiSports' per-class AP (frame-AP, or
video-AP at 0.2 / 0.5); `--plot` draws the sorted per-class changes (PNG).
"""

import json

from eval.atomic import atomic_bytes
from eval.errors import InputError, is_finite
from eval.report.plots import png_of, pyplot, user_text
from eval.report.tables import format_table, percent

__all__ = ["compare", "format_comparison", "plot_comparison", "METRICS"]

METRICS = ("frame", "video@0.2", "video@0.5")  # MultiSports per-class AP; AVA has one
_SHOWN_MOST_CHANGED = 5


def compare(a, b, metric="frame"):
    """Compares two result dicts of the same evaluator.

    Returns {"kind", "metric", "headline": [(name, A, B)], "classes": [(key, name, A, B)]}
    with fractions (None where unscored); classes sorted by B - A, descending, unscored last.
    """
    kind = _kind(a, "A")
    if _kind(b, "B") != kind:
        raise InputError("A and B come from different evaluators (AVA and MultiSports)")
    _check_fields(a, "A", kind)
    _check_fields(b, "B", kind)
    if kind == "ava":
        headline = [("frame-mAP", a["mAP"], b["mAP"])]
        headline += [(name, value, b["categories"].get(name)) for name, value in a["categories"].items()]
        metric = "AP"
    else:
        if metric not in METRICS:
            raise InputError(f"--metric: expected one of {', '.join(METRICS)}, got {metric!r}")
        headline = [("frame-mAP", a["frame_mAP"], b["frame_mAP"])]
        headline += [
            (f"video-mAP@{key}", value, b["video_mAP"].get(key)) for key, value in a["video_mAP"].items()
        ]
    keys = list(a["per_class"]) + [k for k in b["per_class"] if k not in a["per_class"]]
    classes = []
    for key in keys:
        entry = a["per_class"].get(key) or b["per_class"][key]
        classes.append((key, entry["name"], _class_ap(a, key, kind, metric), _class_ap(b, key, kind, metric)))
    classes.sort(key=lambda row: (_delta(row) is None, -(_delta(row) or 0.0)))
    return {"kind": kind, "metric": metric, "headline": headline, "classes": classes}


def _kind(result, which):
    if not isinstance(result, dict) or not isinstance(result.get("per_class"), dict):
        raise InputError(f"{which}: not an eval --json result (no 'per_class')")
    if "mAP" in result and "categories" in result:
        return "ava"
    if "frame_mAP" in result and "video_mAP" in result:
        return "multisports"
    raise InputError(f"{which}: neither an eval.ava nor an eval.multisports --json result")


# The fields `compare` reads: headline {name: value or {threshold: value}}, per class the same.
_HEADLINE_FIELDS = {
    "ava": {"mAP": False, "categories": True},
    "multisports": {"frame_mAP": False, "video_mAP": True},
}
_CLASS_FIELDS = {"ava": {"ap": False}, "multisports": {"frame_ap": False, "video_ap": True}}


def _check_fields(result, which, kind):
    """Raises InputError naming the first field `compare` reads that is not a fraction (a finite
    number or null), a {name: fraction} mapping where one is expected, or a class without a name."""
    _check_values(result, _HEADLINE_FIELDS[kind], which)
    for key, entry in result["per_class"].items():
        where = f"{which}: per_class[{key!r}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise InputError(f"{where}: expected an object with a 'name'")
        _check_values(entry, _CLASS_FIELDS[kind], where, required=False)


def _check_values(record, fields, where, *, required=True):
    for field, is_mapping in fields.items():
        if field not in record:
            if required:
                raise InputError(f"{where}: missing {field!r}")
            continue
        value = record[field]
        values = value.values() if is_mapping and isinstance(value, dict) else [value]
        if (is_mapping and not isinstance(value, dict)) or not all(map(_is_fraction, values)):
            expected = "an object of numbers or nulls" if is_mapping else "a number or null"
            raise InputError(f"{where}: {field!r} must be {expected}, got {json.dumps(value)[:60]}")


def _is_fraction(value):
    return value is None or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and is_finite(value)
    )


def _class_ap(result, key, kind, metric):
    entry = result["per_class"].get(key)
    if entry is None:
        return None
    try:
        if kind == "ava":
            return entry["ap"]
        return entry["frame_ap"] if metric == "frame" else entry["video_ap"][metric.split("@")[1]]
    except KeyError:
        raise InputError(f"per_class[{key!r}]: missing the {metric} AP") from None


def _delta(row):
    return None if row[-1] is None or row[-2] is None else row[-1] - row[-2]


def _points(value):
    return "-" if value is None else f"{100 * value:+.2f}"


def format_comparison(comparison, names):
    """The headline table, the per-class table and the most-changed line, as text."""
    a, b = names
    headline = format_table(
        ["metric", f"A % ({a})", f"B % ({b})", "B - A"],
        [(n, percent(x, 2), percent(y, 2), _points(_delta((x, y)))) for n, x, y in comparison["headline"]],
    )
    classes = format_table(
        ["id", "class", f"A {comparison['metric']} %", f"B {comparison['metric']} %", "B - A"],
        [
            (k, n, percent(x, 2), percent(y, 2), _points(_delta((x, y))))
            for k, n, x, y in comparison["classes"]
        ],
    )
    changed = sorted(
        (row for row in comparison["classes"] if _delta(row) is not None), key=lambda row: -abs(_delta(row))
    )[:_SHOWN_MOST_CHANGED]
    most = "changed most: " + ", ".join(f"{row[1]} {_points(_delta(row))}" for row in changed)
    return "\n\n".join([headline, classes, most])


@user_text
def plot_comparison(comparison, names, path):
    """Horizontal bars of the per-class change B - A in points, sorted, as a PNG file."""
    plt = pyplot()
    rows = [row for row in comparison["classes"] if _delta(row) is not None]
    figure, axis = plt.subplots(figsize=(8, 1.2 + 0.2 * max(len(rows), 1)))
    deltas = [100 * _delta(row) for row in rows]
    positions = list(range(len(rows)))[::-1]
    axis.barh(positions, deltas, color=["tab:green" if d >= 0 else "tab:red" for d in deltas])
    axis.set_yticks(positions)
    axis.set_yticklabels([f"{k} {n}" for k, n, _, _ in rows], fontsize=7)
    axis.axvline(0, color="black", lw=0.6)
    axis.set_xlabel(f"change in {comparison['metric']} AP, points")
    first = comparison["headline"][0]
    axis.set_title(
        f"{names[1]} vs {names[0]}: {first[0]} {percent(first[1], 2)} -> {percent(first[2], 2)}", fontsize=9
    )
    atomic_bytes(path, png_of(figure))
