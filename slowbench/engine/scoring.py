"""Evaluates val-split predictions with the stand-alone ``eval`` package, as the reference metrics do."""

import os
import pathlib

import eval.ava
import eval.ava.report
import eval.multisports
import eval.multisports.report
from eval.atomic import atomic_pickle
from eval.multisports.official_files import write_official_files
from eval.report.html import write_report
from eval.report.plots import pop_curves
from slowbench.engine.detections import ava_detections, multisports_frame_dets
from slowbench.errors import InputError

# The figures a run reports and logs, in this order, of those an evaluation result holds.
HEADLINE_KEYS = ("mAP", "ava_mAP", "kinetics_mAP", "frame_mAP", "video_mAP")
# How the evaluator's warnings name the model's predictions (the gt is named by its file).
PREDICTIONS_NAME = "val predictions"


def headline(result: dict) -> dict:
    """The headline metrics of an evaluation result: ``{"mAP"}`` (AVA; with ``ava_mAP`` and
    ``kinetics_mAP`` for both AVA-Kinetics parts) or ``{"frame_mAP", "video_mAP"}``."""
    return {key: result[key] for key in HEADLINE_KEYS if key in result}


def evaluate_predictions(row, files, predictions, report=None) -> dict:
    """The evaluator's result for a row's val predictions: what ``eval.ava`` / ``eval.multisports``
    write with ``--json`` (fractions; ``headline`` picks the headline metrics); ``files`` is the
    val split's ``slowbench.data.dataset_files.DatasetFiles``. With ``report`` (a directory), the
    evaluator's HTML report (error analysis included) goes there and the result holds the errors."""
    details = {"keep_curves": True, "errors": True} if report else {}
    if row.dataset == "multisports":
        gt = eval.multisports.load_gt(files.gt_pickle)
        result = eval.multisports.evaluate(
            gt,
            multisports_frame_dets(predictions, gt),
            keep_curves=bool(report),
            errors_thr=0.5 if report else None,
            source=PREDICTIONS_NAME,
            gt_source=str(files.gt_pickle),
        )
        write_result_report(report, "multisports", result, {"row": row.name, "gt": files.gt_pickle})
        return result
    excluded = (
        eval.ava.read_exclusions(files.exclusions)
        if files.exclusions is not None and pathlib.Path(files.exclusions).is_file()
        else ()
    )
    label_map = eval.ava.read_label_map(files.label_map)
    result = eval.ava.evaluate(
        eval.ava.read_csv_gt(files.annotations),
        label_map_detections(ava_detections(predictions), label_map),
        label_map,
        excluded=excluded,
        names=(str(files.annotations), PREDICTIONS_NAME),
        **details,
    )
    write_result_report(
        report, "ava", result, {"row": row.name, "protocol": result["protocol"], "gt": files.annotations}
    )
    return result


def label_map_detections(detections, label_map):
    """The detection rows of label-map classes: the head scores every column (AVA's 80), the
    reference reads only the label map's (60) from its result CSV; not the user's input, so
    the other columns are left out without a warning."""
    return detections[detections["action"].isin(list(label_map))].reset_index(drop=True)


def write_result_report(directory, kind, result, settings) -> None:
    """``--report``: eval's report.html and PNGs for this result (no-op without a directory)."""
    if directory:
        curves = pop_curves(result["per_class"])
        content = (eval.ava.report if kind == "ava" else eval.multisports.report).report_content(result)
        print(f"wrote {write_report(directory, content, curves, settings)}")


def write_dump(row, files, predictions, path) -> pathlib.Path:
    """Writes predictions in the format the evaluators read: the official AVA detection CSV, or for
    MultiSports a pickle ``{"frame_dets": [N, 8], "gt_path": str}`` (plain containers + numpy), or,
    given a directory, the official toolkit's ``frame_detections.pkl`` and ``video_detections.pkl``
    (tubes linked by ``eval``)."""
    is_directory = _is_directory(path)
    path = check_dump_path(row, path)
    if row.dataset == "multisports":
        gt = eval.multisports.load_gt(files.gt_pickle)
        if is_directory:
            prepared = eval.multisports.prepare(gt, multisports_frame_dets(predictions, gt))
            write_official_files(path, prepared.gt, prepared.frame_dets, prepared.tubes, option="--dump")
            return path
        return atomic_pickle(
            path,
            {
                "frame_dets": multisports_frame_dets(predictions, gt),
                "gt_path": str(pathlib.Path(files.gt_pickle).resolve()),
            },
        )
    eval.ava.write_csv_pred(path, ava_detections(predictions))
    return path


def check_dump_path(row, path) -> pathlib.Path:
    """The dump format follows the dataset: ``.pkl`` (or a directory ``DIR/`` for the official
    toolkit's pair) for MultiSports, ``.csv`` for AVA rows."""
    if row.dataset == "multisports" and _is_directory(path):
        return pathlib.Path(path)
    path = pathlib.Path(path)
    suffix = ".pkl" if row.dataset == "multisports" else ".csv"
    if path.suffix != suffix:
        kind = (
            "a MultiSports dump is a .pkl file or a directory DIR/"
            if suffix == ".pkl"
            else "an AVA dump is the official detection .csv file"
        )
        raise InputError(f"--dump {path}: {kind}")
    return path


def _is_directory(path) -> bool:
    return str(path).endswith(("/", os.sep)) or pathlib.Path(path).is_dir()
