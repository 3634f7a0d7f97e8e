"""What AVA false positives are: one kind per false positive of the AP computation.

A person is a distinct gt box of an evaluated frame (AVA lists one gt row per person and
action; rows with the same box are one person). A false positive of class c on frame f is,
checked in this order:
1. **duplicate**: its best class-c gt box (the one the AP matching looked at) has IoU >= 0.5
   but was already matched by a higher-scored detection;
2. **classification**: a person of f who does not do c has IoU >= 0.5 with it (the classes
   that person does are counted in `confused_with`);
3. **localisation**: a person of f who does c has 0.1 <= IoU < 0.5 with it;
4. **background**: anything else (no person doing c within IoU 0.1, no person at IoU >= 0.5;
   with the ActivityNet protocol this includes detections on frames without gt).
The four counts sum to the false positives of the AP computation (evaluated detections that
are not true positives). **missed** = class-c gt rows not matched (with the mmaction2
protocol this includes the gt of excluded frames, which counts in its recall). IoUs are those
of the AP computation (same dtype, no +1).
"""

import numpy as np

from eval.greedy_match import best_gt_overlap
from eval.report.tables import format_table

__all__ = [
    "FP_KINDS",
    "LOCALISATION_MIN_IOU",
    "persons",
    "error_counts",
    "error_breakdown",
    "format_errors_table",
]

FP_KINDS = ("duplicate", "localisation", "classification", "background")
LOCALISATION_MIN_IOU = 0.1
SHOWN_CONFUSIONS = 5  # classes named per class in confused_with


def error_counts(det, persons, n_classes, iou_thr):
    """The false-positive kinds of the evaluated detections `det`, as counts that add up over
    disjoint sets of detections (e.g. of different classes).

    det: dict of arrays `[D]`: "frame", "cls" (class index), "boxes" `[D, 4]`, "tp", "gt_iou"
    (IoU with the best same-class gt box, NaN without one); persons: `persons(evaluated gt)`.
    Returns {"kinds": int64 `[C, len(FP_KINDS)]`, "tp": `[C]`, "confusion": `[C, C]`
    (classification FPs of class c on a person who does class k)}.
    """
    person_frame, person_boxes, person_does = persons
    own_iou = det["gt_iou"].astype(np.float64)
    with np.errstate(invalid="ignore"):
        duplicate = ~det["tp"] & (own_iou >= iou_thr)
        near_own = own_iou >= LOCALISATION_MIN_IOU
    rest = np.flatnonzero(~det["tp"] & ~duplicate)
    best_person, person_iou = best_gt_overlap(
        det["frame"][rest], det["boxes"][rest], person_frame, person_boxes
    )
    with np.errstate(invalid="ignore"):
        on_person = person_iou.astype(np.float64) >= iou_thr
    kind = np.full(det["tp"].size, -1, dtype=np.int64)
    kind[duplicate] = FP_KINDS.index("duplicate")
    kind[rest] = np.where(
        on_person,
        FP_KINDS.index("classification"),
        np.where(near_own[rest], FP_KINDS.index("localisation"), FP_KINDS.index("background")),
    )
    fp = kind >= 0
    kinds = np.bincount(
        det["cls"][fp] * len(FP_KINDS) + kind[fp], minlength=n_classes * len(FP_KINDS)
    ).reshape(n_classes, len(FP_KINDS))
    fp_index, done = np.nonzero(person_does[best_person[on_person]])
    confusion = np.bincount(
        det["cls"][rest[on_person]][fp_index] * n_classes + done, minlength=n_classes * n_classes
    ).reshape(n_classes, n_classes)
    return {
        "kinds": kinds,
        "tp": np.bincount(det["cls"][det["tp"]], minlength=n_classes),
        "confusion": confusion,
    }


def error_breakdown(label_map, class_ids, num_gt, counts, iou_thr):
    """Per-class false-positive kinds and missed gt from `error_counts` (summed over parts).

    num_gt: `[C]` recall denominators.
    Returns {"iou_thr", "localisation_min_iou", "per_class": {"<id>": {"name", "tp", "fp",
    <FP_KINDS>, "missed", "confused_with": {name: count}}}, "total": {...}}.
    """
    kinds, tp, confusion = counts["kinds"], counts["tp"], counts["confusion"]
    per_class = {}
    for index, class_id in enumerate(class_ids.tolist()):
        shown = sorted(np.flatnonzero(confusion[index]), key=lambda k: (-confusion[index, k], k))[
            :SHOWN_CONFUSIONS
        ]
        per_class[str(class_id)] = {
            "name": label_map[class_id],
            "tp": int(tp[index]),
            "fp": int(kinds[index].sum()),
            **{kind_name: int(kinds[index, i]) for i, kind_name in enumerate(FP_KINDS)},
            "missed": int(num_gt[index] - tp[index]),
            "confused_with": {label_map[int(class_ids[k])]: int(confusion[index, k]) for k in shown},
        }
    total = {
        key: sum(entry[key] for entry in per_class.values()) for key in ("tp", "fp", *FP_KINDS, "missed")
    }
    return {
        "iou_thr": iou_thr,
        "localisation_min_iou": LOCALISATION_MIN_IOU,
        "per_class": per_class,
        "total": total,
    }


def persons(gt, n_classes):
    """Distinct boxes per frame of the evaluated gt rows `gt` (dict of arrays `[G]`: "frame",
    "cls", "boxes" `[G, 4]`): (frame `[P]` sorted, boxes `[P, 4]`, does `[P, C]` bool)."""
    boxes = gt["boxes"]
    if boxes.shape[0] == 0:
        return (np.zeros(0, dtype=np.int64), boxes.reshape(0, 4), np.zeros((0, n_classes), dtype=bool))
    order = np.lexsort((*boxes.T[::-1], gt["frame"]))
    frame, boxes = gt["frame"][order], boxes[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (frame[1:] != frame[:-1]) | (boxes[1:] != boxes[:-1]).any(axis=1)
    person = np.cumsum(new) - 1
    does = np.zeros((int(person[-1]) + 1, n_classes), dtype=bool)
    does[person, gt["cls"][order]] = True
    return frame[new], boxes[new], does


def format_errors_table(errors):
    """Counts per class (and the total) as a text table; the most-confused classes last."""
    keys = ("tp", "fp", *FP_KINDS, "missed")
    rows = [
        (
            class_id,
            entry["name"],
            *(entry[k] for k in keys),
            ", ".join(f"{name} ({n})" for name, n in list(entry["confused_with"].items())[:3]),
        )
        for class_id, entry in errors["per_class"].items()
        if entry["tp"] or entry["fp"] or entry["missed"]
    ]
    rows.append(("", "total", *(errors["total"][k] for k in keys), ""))
    return format_table(["id", "class", *keys, "classification FPs sit on persons doing"], rows)
