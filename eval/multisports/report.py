"""The MultiSports page of `--report`: frame- and video-AP by sport, the video-AP errors."""

from eval.multisports.error_analysis import ERROR_KINDS

__all__ = ["report_content"]


def report_content(result):
    """What `eval.report.html.write_report` shows of an `eval.multisports` result."""
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
        "per_class": result["per_class"],
    }
