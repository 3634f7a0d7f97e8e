"""Evaluates val-split predictions with the stand-alone ``eval`` package, as the reference metrics do."""

import os
import pathlib

import eval.ava
import eval.ava.report
import eval.multisports
import eval.multisports.report
from eval.atomic import atomic_pickle
from eval.multisports.official_files import write_official_files
from eval.report.curve_outputs import write_curve_outputs
from slowbench.data.label_columns import label_ids_of
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


def evaluate_predictions(row, files, predictions, report=None, columns=None) -> dict:
    """The evaluator's result for a row's val predictions: what ``eval.ava`` / ``eval.multisports``
    write with ``--json`` (fractions; ``headline`` picks the headline metrics); ``files`` is the
    val split's ``slowbench.data.dataset_files.DatasetFiles``. With ``report`` (a directory), the
    evaluator's HTML report (error analysis included) goes there and the result holds the errors.
    ``columns`` (``LabelColumns``, AVA rows with ``--classes``): the head's label ids, which are
    also the only classes evaluated (mmaction2's ``custom_classes``)."""
    if row.dataset == "multisports":
        gt = eval.multisports.load_gt(files.gt_pickle)
        frame_dets = multisports_frame_dets(predictions, gt)
        return evaluate_tubes(gt, frame_dets, report, {"row": row.name, "gt": files.gt_pickle})
    excluded = (
        eval.ava.read_exclusions(files.exclusions)
        if files.exclusions is not None and pathlib.Path(files.exclusions).is_file()
        else ()
    )
    label_map = eval.ava.read_label_map(files.label_map)
    if columns is not None:
        label_map = {label: label_map[label] for label in columns.ids}
    return evaluate_keyframes(
        eval.ava.read_csv_gt(files.annotations),
        label_map_detections(ava_detections(predictions, label_ids=label_ids_of(columns)), label_map),
        label_map,
        excluded=excluded,
        report=report,
        settings={"row": row.name, "protocol": "mmaction2", "gt": files.annotations},
    )


def evaluate_tubes(gt, frame_dets, report, settings: dict) -> dict:
    """``eval.multisports.evaluate`` of ``[N, 8]`` frame detections against ``settings["gt"]`` (a
    file, naming it in warnings; its HTML report to ``report``)."""
    result = eval.multisports.evaluate(
        gt,
        frame_dets,
        keep_curves=bool(report),
        errors_thr=0.5 if report else None,
        source=PREDICTIONS_NAME,
        gt_source=str(settings["gt"]),
    )
    write_result_report(report, "multisports", result, settings)
    return result


def evaluate_keyframes(
    gt, detections, label_map, *, excluded=(), protocol="mmaction2", empty_keyframes=(), report=None, settings
) -> dict:
    """``eval.ava.evaluate`` over the classes of ``label_map`` against ``settings["gt"]`` (a file,
    naming it in warnings; its HTML report to ``report``, with ``settings`` and the protocol)."""
    details = {"keep_curves": True, "errors": True} if report else {}
    result = eval.ava.evaluate(
        gt,
        detections,
        label_map,
        excluded,
        protocol,
        empty_keyframes=empty_keyframes,
        names=(str(settings["gt"]), PREDICTIONS_NAME),
        **details,
    )
    write_result_report(report, "ava", result, {**settings, "protocol": result["protocol"]})
    return result


def label_map_detections(detections, label_map):
    """The detection rows of label-map classes: the head scores every column (AVA's 80), the
    reference reads only the label map's (60) from its result CSV; not the user's input, so
    the other columns are left out without a warning."""
    return detections[detections["action"].isin(list(label_map))].reset_index(drop=True)


def write_result_report(directory, kind, result, settings) -> None:
    """``--report``: eval's report.html and PNGs for this result (no-op without a directory)."""
    if directory:
        content_of = (eval.ava.report if kind == "ava" else eval.multisports.report).report_content
        write_curve_outputs(result, content_of, report=directory, settings=settings)


def write_dump(row, files, predictions, path, columns=None) -> pathlib.Path:
    """Writes predictions in the format the evaluators read: the official AVA detection CSV (label
    ids through ``columns`` when given), or for MultiSports ``write_tube_dump``'s files."""
    is_directory = names_directory(path)
    path = check_dump_path(row, path)
    if row.dataset == "multisports":
        gt = eval.multisports.load_gt(files.gt_pickle)
        return write_tube_dump(
            path, gt, files.gt_pickle, multisports_frame_dets(predictions, gt), is_directory
        )
    eval.ava.write_csv_pred(path, ava_detections(predictions, label_ids=label_ids_of(columns)))
    return path


def write_tube_dump(path, gt: dict, gt_path, frame_dets, is_directory: bool) -> pathlib.Path:
    """A pickle ``{"frame_dets": [N, 8], "gt_path": str}`` (plain containers + numpy) that
    ``python -m eval.multisports`` reads, or, for a directory, the official toolkit's
    ``frame_detections.pkl`` and ``video_detections.pkl`` (tubes linked by ``eval``)."""
    if is_directory:
        prepared = eval.multisports.prepare(gt, frame_dets)
        write_official_files(path, prepared.gt, prepared.frame_dets, prepared.tubes, option="--dump")
        return path
    return atomic_pickle(path, {"frame_dets": frame_dets, "gt_path": str(pathlib.Path(gt_path).resolve())})


def check_dump_path(row, path) -> pathlib.Path:
    """The dump format follows the dataset: ``.pkl`` (or a directory ``DIR/`` for the official
    toolkit's pair) for MultiSports, ``.csv`` for AVA rows."""
    return dump_path(path, tubes=row.dataset == "multisports")


def dump_path(path, *, tubes: bool) -> pathlib.Path:
    """``--dump``'s path, checked: a ``.pkl`` file or a directory ``DIR/`` for tube datasets
    (MultiSports), a ``.csv`` file for keyframe datasets (AVA)."""
    if tubes and names_directory(path):
        return pathlib.Path(path)
    path = pathlib.Path(path)
    suffix = ".pkl" if tubes else ".csv"
    if path.suffix != suffix:
        kind = (
            "a MultiSports dump is a .pkl file or a directory DIR/"
            if suffix == ".pkl"
            else "an AVA dump is the official detection .csv file"
        )
        raise InputError(f"--dump {path}: {kind}")
    return path


def names_directory(path) -> bool:
    """Whether ``--dump``'s path means a directory: it ends with a separator or is one."""
    return str(path).endswith(("/", os.sep)) or pathlib.Path(path).is_dir()
