"""A row's validation split in parts: AVA-Kinetics rows validate on AVA v2.2 val and on the Kinetics
part of the val split, each scored, plus their union as the AVA-Kinetics challenge scores it.

Protocols (``eval.ava``): the AVA part with ``mmaction2`` (the number mmaction2's model zoo reports
for rows F-N), the Kinetics part and the union with ``activitynet-2020`` (the challenge's evaluator:
fractional timestamps, 2-column gt rows). In the union, AVA frames listed as excluded are left out
of the gt, so detections there are ignored, as the ``activitynet`` protocol does with exclusions.
Other rows have one part, evaluated as ``slowbench.engine.scoring`` does; a dataset file's val split
is one part too, evaluated by ``slowbench.engine.dataset_scoring``.
"""

import dataclasses
import pathlib
import warnings

import numpy as np
import pandas as pd
from torch.utils.data import ConcatDataset

import eval.ava
from eval.ignored import ignoring_message
from slowbench.data import build_dataset, load_split
from slowbench.data.dataset_file import DatasetSpec
from slowbench.data.dataset_files import DatasetFiles, dataset_files, has_kinetics_val, kinetics_val_files
from slowbench.data.dataset_split import load_dataset_split
from slowbench.data.label_columns import LabelColumns, label_ids_of
from slowbench.engine.dataset_scoring import evaluate_dataset, write_dataset_dump
from slowbench.engine.detections import ava_detections
from slowbench.engine.scoring import (
    PREDICTIONS_NAME,
    check_dump_path,
    evaluate_predictions,
    label_map_detections,
    write_dump,
    write_result_report,
)
from slowbench.errors import InputError, InputWarning

PART_CHOICES = ("ava", "kinetics", "both")
PROTOCOL = {"ava": "mmaction2", "kinetics": "activitynet-2020", "both": "activitynet-2020"}


@dataclasses.dataclass
class ValPart:
    """One evaluated part: ``name`` ("ava", "kinetics", or the row's dataset for one-part rows)."""

    name: str
    dataset: object  # slowbench.data.DetectionDataset
    files: DatasetFiles | None  # None for a dataset file's split


@dataclasses.dataclass
class ValSplit:
    """The parts of a row's val split; ``dataset`` concatenates them (part order). ``columns``: the
    head's label ids (``--classes``; None: column = label id); ``spec``: the dataset file, if any."""

    row: object
    parts: list
    columns: LabelColumns | None = None
    spec: DatasetSpec | None = None

    @property
    def dataset(self):
        if len(self.parts) == 1:
            return self.parts[0].dataset
        return ConcatDataset([part.dataset for part in self.parts])

    def __len__(self) -> int:
        return sum(len(part.dataset) for part in self.parts)

    def by_part(self, predictions) -> list:
        """Predictions of ``dataset`` (in its order) -> one list per part."""
        bounds = np.cumsum([0] + [len(part.dataset) for part in self.parts])
        return [predictions[begin:end] for begin, end in zip(bounds[:-1], bounds[1:])]

    def describe(self) -> str:
        """``ava 32 clips (mmaction2) + kinetics 12 clips (activitynet-2020)``."""
        if self.row.dataset != "ava-kinetics":
            return f"{len(self)} clips"
        return " + ".join(f"{p.name} {len(p.dataset)} clips ({PROTOCOL[p.name]})" for p in self.parts)


def build_val_split(row, data_root, pipeline, part=None, *, columns=None, spec=None) -> ValSplit:
    """The val split of ``row`` under ``data_root``, or of the dataset file ``spec``. ``part``
    (AVA-Kinetics rows only): "ava", "kinetics" or "both"; None means both when the Kinetics part
    is there, else the AVA part. ``columns``: ``--classes`` of an official dataset."""
    root = pathlib.Path(data_root)
    if spec is not None or row.dataset != "ava-kinetics":
        if part is not None:
            raise InputError(f"--part {part}: only AVA-Kinetics rows have parts, not {row.name}")
    if spec is not None:
        dataset = load_dataset_split(spec, "val", pipeline, test_mode=True)
        return ValSplit(row, [ValPart(spec.path.stem, dataset, None)], spec.columns, spec)
    if row.dataset != "ava-kinetics":
        dataset = build_dataset(row, root, "val", pipeline, test_mode=True, columns=columns)
        return ValSplit(row, [ValPart(row.dataset, dataset, dataset_files(row, root, "val"))], columns)
    if part not in (None, *PART_CHOICES):
        raise InputError(f"--part: expected one of {', '.join(PART_CHOICES)}, got {part!r}")
    kinetics = has_kinetics_val(root)
    part = part or ("both" if kinetics else "ava")
    if part != "ava" and not kinetics:
        raise InputError(
            f"--part {part}: {root} has no Kinetics part of the val split "
            f"({kinetics_val_files(root).annotations.name} and its gt and proposals "
            "in annotations/); write it with python -m "
            "slowbench.data.prepare_ava_kinetics, or use --part ava"
        )
    parts = []
    if part in ("ava", "both"):
        parts.append(
            ValPart(
                "ava",
                build_dataset(row, root, "val", pipeline, test_mode=True, columns=columns),
                dataset_files(row, root, "val"),
            )
        )
    if part in ("kinetics", "both"):
        files = kinetics_val_files(root)
        parts.append(
            ValPart(
                "kinetics",
                load_split(
                    files,
                    dataset=row.dataset,
                    split="val",
                    num_classes=row.num_classes,
                    pipeline=pipeline,
                    test_mode=True,
                    columns=columns,
                ),
                files,
            )
        )
    return ValSplit(row, parts, columns)


def evaluate_val(val: ValSplit, predictions, report=None) -> dict:
    """The evaluator's result (``evaluate_predictions``; ``headline`` picks the metrics). One part:
    that part's. AVA-Kinetics with both parts: the union's, plus ``"ava_mAP"`` and
    ``"kinetics_mAP"``. ``report`` (a directory): eval's HTML report of the headline ``mAP``."""
    row, columns = val.row, val.columns
    if val.spec is not None:
        return evaluate_dataset(val.spec, predictions, report, row.name)
    if row.dataset != "ava-kinetics" or [part.name for part in val.parts] == ["ava"]:
        return evaluate_predictions(row, val.parts[0].files, predictions, report=report, columns=columns)
    scored, gts = {}, []
    for part, part_predictions in zip(val.parts, val.by_part(predictions)):
        if part.name == "ava":
            ava = evaluate_predictions(row, part.files, part_predictions, columns=columns)
            scored["ava_mAP"] = ava["mAP"]
        gts.append(_part_for_2020(part, part_predictions, columns))
    gt, empty, detections = (pd.concat(frames, ignore_index=True) for frames in zip(*gts))
    kinetics = val.parts[-1]
    if len(val.parts) == 2:
        alone = _score_2020(kinetics.files, *gts[-1], gt_name=str(kinetics.files.gt_csv), columns=columns)
        scored["kinetics_mAP"] = alone["mAP"]
    union = f"{' + '.join(str(part.files.annotations) for part in val.parts)} (union)"
    result = _score_2020(
        kinetics.files, gt, empty, detections, details=bool(report), gt_name=union, columns=columns
    )
    if report:
        settings = {
            "row": row.name,
            "protocol": result["protocol"],
            "parts": " + ".join(part.name for part in val.parts),
        }
        write_result_report(report, "ava", result, settings)
    return {**result, **scored}


def _official_detections(part: ValPart, predictions, columns) -> pd.DataFrame:
    """Detection rows of a part as the official files name frames: a Kinetics clip
    (``<youtube_id>_<start>_<end>``) by its YouTube id; its timestamps already are source seconds."""
    detections = ava_detections(predictions, label_ids=label_ids_of(columns))
    if part.name == "kinetics":
        detections["video"] = detections["video"].str.rsplit("_", n=2).str[0]
    return detections


def _part_for_2020(part: ValPart, predictions, columns):
    """(gt, empty keyframes, detections) of a part as the 2020 evaluator reads them; the AVA part
    without its excluded frames."""
    detections = _official_detections(part, predictions, columns)
    if part.name == "kinetics":
        gt, empty = eval.ava.read_csv_gt_2020(part.files.gt_csv)
        return gt, empty, detections
    gt = eval.ava.read_csv_gt(part.files.annotations)
    if part.files.exclusions is not None and part.files.exclusions.is_file():
        excluded = eval.ava.read_exclusions(part.files.exclusions)
        keep = np.array([key not in excluded for key in zip(gt["video"], gt["timestamp"])], dtype=bool)
        if not keep.all():
            first = gt[~keep].iloc[0]
            warnings.warn(
                ignoring_message(
                    part.files.exclusions,
                    "AVA gt rows on excluded timestamps in the union with Kinetics",
                    int((~keep).sum()),
                    f"{first['video']},{int(first['timestamp']):04d}",
                ),
                InputWarning,
                stacklevel=2,
            )
        gt = gt[keep]
    return gt, gt[["video", "timestamp"]].iloc[:0], detections


def _score_2020(files: DatasetFiles, gt, empty, detections, *, gt_name, details=False, columns=None) -> dict:
    label_map = eval.ava.read_label_map(files.label_map)
    if columns is not None:
        label_map = {label: label_map[label] for label in columns.ids}
    detections = label_map_detections(detections, label_map)
    extra = {"keep_curves": True, "errors": True} if details else {}
    return eval.ava.evaluate(
        gt,
        detections,
        label_map,
        protocol="activitynet-2020",
        empty_keyframes=empty,
        names=(gt_name, PREDICTIONS_NAME),
        **extra,
    )


def write_val_dump(val: ValSplit, predictions, path) -> list:
    """Writes the predictions the evaluators read; returns the paths written. AVA-Kinetics: the AVA
    part to ``path`` and the Kinetics part to ``<stem>_kinetics.csv`` beside it, in the official
    submission form (YouTube id and the keyframe's seconds in the source video). A dataset file:
    ``write_dataset_dump``'s files (it prints the command that evaluates them)."""
    if val.spec is not None:
        written, command = write_dataset_dump(val.spec, predictions, path)
        print(f"evaluate the dump with: {command}")
        return written
    if val.row.dataset != "ava-kinetics":
        return [write_dump(val.row, val.parts[0].files, predictions, path, val.columns)]
    path = check_dump_path(val.row, path)
    written = []
    for part, part_predictions in zip(val.parts, val.by_part(predictions)):
        if part.name == "ava":
            written.append(write_dump(val.row, part.files, part_predictions, path, val.columns))
            continue
        target = kinetics_dump_path(path)
        eval.ava.write_csv_pred(target, _official_detections(part, part_predictions, val.columns))
        written.append(target)
    return written


def kinetics_dump_path(path) -> pathlib.Path:
    """``pred.csv`` -> ``pred_kinetics.csv`` (the Kinetics part's submission file)."""
    path = pathlib.Path(path)
    return path.with_name(f"{path.stem}_kinetics{path.suffix}")
