"""Evaluates val-split predictions with the stand-alone ``eval`` package, as the reference metrics do."""
import pathlib

import eval.ava
import eval.multisports
from slowbench.engine.atomic import atomic_pickle
from slowbench.engine.detections import ava_detections, multisports_frame_dets
from slowbench.errors import InputError


def evaluate_predictions(row, files, predictions) -> dict:
    """Metrics of a row's val predictions (fractions): ``{"mAP"}`` for AVA rows, else
    ``{"frame_mAP", "video_mAP"}``; ``files`` is the val split's ``slowbench.data.layout.DatasetFiles``."""
    if row.dataset == "multisports":
        gt = eval.multisports.load_gt(files.gt_pickle)
        result = eval.multisports.evaluate(gt, multisports_frame_dets(predictions, gt))
        return {"frame_mAP": result["frame_mAP"], "video_mAP": result["video_mAP"]}
    excluded = (eval.ava.read_exclusions(files.exclusions)
                if files.exclusions is not None and pathlib.Path(files.exclusions).is_file() else ())
    label_map = eval.ava.read_label_map(files.label_map)
    detections = ava_detections(predictions)
    # The reference reads only label-map classes from its result CSV; the head scores all 80 columns.
    detections = detections[detections["action"].isin(list(label_map))].reset_index(drop=True)
    result = eval.ava.evaluate(eval.ava.read_csv_gt(files.annotations), detections, label_map,
                               excluded=excluded)
    return {"mAP": result["mAP"]}


def write_dump(row, files, predictions, path) -> pathlib.Path:
    """Writes predictions in the format the evaluators read: the official AVA detection CSV, or for
    MultiSports a pickle ``{"frame_dets": [N, 8], "gt_path": str}`` (plain containers + numpy)."""
    path = check_dump_path(row, path)
    if row.dataset == "multisports":
        gt = eval.multisports.load_gt(files.gt_pickle)
        return atomic_pickle({"frame_dets": multisports_frame_dets(predictions, gt),
                             "gt_path": str(pathlib.Path(files.gt_pickle).resolve())}, path)
    eval.ava.write_csv_pred(path, ava_detections(predictions))
    return path


def check_dump_path(row, path) -> pathlib.Path:
    """The dump format follows the dataset: ``.pkl`` for MultiSports, ``.csv`` for AVA rows."""
    path = pathlib.Path(path)
    suffix = ".pkl" if row.dataset == "multisports" else ".csv"
    if path.suffix != suffix:
        kind = "a MultiSports dump is a .pkl" if suffix == ".pkl" else "an AVA dump is the official detection .csv"
        raise InputError(f"--dump {path}: {kind} file")
    return path
