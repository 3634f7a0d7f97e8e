"""Evaluation and ``--dump`` of a dataset file's val split, through ``eval`` as for the official rows.

Keyframes: ``eval.ava`` over the evaluated labels (``classes``, else every label of ``labels``)
with the file's ``protocol``, exclusions and the val CSV's rows (boxes normalised); detections carry
label ids (column -> id, as mmaction2 maps ``custom_classes``). Tubes: ``eval.multisports`` (frame-
mAP at 0.5, video-mAP) against the gt pickle reduced to the chosen split and the evaluated labels.
"""

import pathlib

import numpy as np
import pandas as pd

import eval.ava
from eval.atomic import atomic_pickle, atomic_write
from slowbench.data.dataset_file import DatasetSpec
from slowbench.data.dataset_split import clip_source, read_keyframe_rows
from slowbench.engine.detections import ava_detections, multisports_frame_dets
from slowbench.engine.scoring import (
    dump_path,
    evaluate_keyframes,
    evaluate_tubes,
    names_directory,
    write_tube_dump,
)

GT_COLUMNS = ["video", "timestamp", "x1", "y1", "x2", "y2", "action", "person"]


def evaluation_gt(spec: DatasetSpec) -> dict:
    """Tubes: the gt dict ``eval.multisports`` evaluates: the file's, ``train_videos`` /
    ``test_videos`` reduced to ``gt_split``, tubes of the evaluated labels only."""
    ids = set(spec.columns.ids)
    tubes = {
        video: {label: value for label, value in by_label.items() if label in ids}
        for video, by_label in spec.gt["gttubes"].items()
    }
    return {**spec.gt, "gttubes": tubes}


def keyframe_gt(spec: DatasetSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keyframes: (gt rows ``GT_COLUMNS`` with boxes in [0, 1], annotated frames without an
    action ``video, timestamp``) of the val CSV, as ``eval.ava`` reads them."""
    rows = read_keyframe_rows(spec, "val", clip_source(spec))
    table = pd.DataFrame({name: rows[name] for name in GT_COLUMNS})
    boxed = rows["action"] >= 0
    return table[boxed].reset_index(drop=True), table.loc[~boxed, ["video", "timestamp"]].reset_index(
        drop=True
    )


def evaluate_dataset(spec: DatasetSpec, predictions, report=None, row_name: str = "") -> dict:
    """The evaluator's result (``--json`` fields) for the val predictions of a dataset file."""
    gt_file = spec.gt_file if spec.format == "tubes" else spec.split("val").annotations
    settings = {"row": row_name, "dataset": spec.path, "gt": gt_file}
    if spec.format == "tubes":
        gt = evaluation_gt(spec)
        frame_dets = multisports_frame_dets(predictions, gt, label_ids=spec.columns.label_ids())
        return evaluate_tubes(gt, frame_dets, report, settings)
    gt, empty = keyframe_gt(spec)
    exclusions = spec.split("val").exclusions
    fractional = spec.protocol == "activitynet-2020"
    return evaluate_keyframes(
        gt,
        ava_detections(predictions, label_ids=spec.columns.label_ids()),
        spec.class_names(),
        excluded=eval.ava.read_exclusions(exclusions) if exclusions and not fractional else (),
        protocol=spec.protocol,
        empty_keyframes=empty if fractional else (),
        report=report,
        settings=settings,
    )


def write_dataset_dump(spec: DatasetSpec, predictions, path) -> tuple[list, str]:
    """Writes the val predictions as the evaluators read them; returns (paths written, the command
    that evaluates them).

    Keyframes: the detection CSV (label ids); when the val CSV is in pixels, ``<stem>_gt.csv`` (its
    rows with boxes in [0, 1], exact to the last digit); with ``classes``, ``<stem>_labels.txt``
    (the evaluated labels, ``id: name``). Tubes: ``eval.multisports``' pickle (or ``DIR/``), its
    ``gt_path`` the file's gt, or ``<stem>_gt.pkl`` (the evaluated gt) when a split or classes
    reduce it.
    """
    is_directory = names_directory(path)
    path = dump_path(path, tubes=spec.format == "tubes")
    if spec.format == "tubes":
        gt = evaluation_gt(spec)
        gt_path = spec.gt_file
        written = []
        if spec.classes is not None or spec.gt_split != 0:
            gt_path = atomic_pickle(_beside(path, "_gt.pkl"), gt)
            written.append(gt_path)
        frame_dets = multisports_frame_dets(predictions, gt, label_ids=spec.columns.label_ids())
        written.insert(0, write_tube_dump(path, gt, gt_path, frame_dets, is_directory))
        preds = path / "frame_detections.pkl" if is_directory else path
        return written, f"python -m eval.multisports {preds}" + (f" --gt {gt_path}" if is_directory else "")
    eval.ava.write_csv_pred(path, ava_detections(predictions, label_ids=spec.columns.label_ids()))
    written, files = [path], spec.split("val")
    gt_path, labels_path = files.annotations, spec.labels_file
    if spec.boxes == "pixels":
        gt_path = _write_gt_csv(_beside(path, "_gt.csv"), spec)
        written.append(gt_path)
    if spec.classes is not None:
        labels_path = _beside(path, "_labels.txt")
        names = "".join(f"{label}: {name}\n" for label, name in spec.class_names().items())
        atomic_write(labels_path, lambda file: file.write(names.encode("utf-8")))
        written.append(labels_path)
    command = f"python -m eval.ava --gt {gt_path} --pred {path} --label-map {labels_path}"
    if files.exclusions and spec.protocol != "activitynet-2020":
        command += f" --exclude {files.exclusions}"
    return written, command + (f" --protocol {spec.protocol}" if spec.protocol != "mmaction2" else "")


def _beside(path: pathlib.Path, suffix: str) -> pathlib.Path:
    """``out/pred.csv`` -> ``out/pred<suffix>``; a folder ``out/dump`` -> ``out/dump<suffix>``."""
    return path.parent / f"{path.stem}{suffix}"


def _write_gt_csv(path: pathlib.Path, spec: DatasetSpec) -> pathlib.Path:
    """The val CSV with boxes in [0, 1] (``repr`` digits: read back, the values are the same)."""
    gt, empty = keyframe_gt(spec)
    lines = []
    for row in gt.itertuples(index=False):
        stamp = _timestamp(row.timestamp)
        person = "" if np.isnan(row.person) else f",{int(row.person)}"
        lines.append(
            f"{row.video},{stamp},{row.x1!r},{row.y1!r},{row.x2!r},{row.y2!r},{row.action}{person}\n"
        )
    lines += [f"{video},{_timestamp(stamp)}\n" for video, stamp in zip(empty["video"], empty["timestamp"])]
    atomic_write(path, lambda file: file.write("".join(lines).encode("utf-8")))
    return path


def _timestamp(value: float) -> str:
    return f"{int(value):04d}" if float(value).is_integer() else repr(float(value))
