"""A dataset described in one TOML file (`--dataset DATASET.toml`): `read_dataset_file -> DatasetSpec`.

Every key is checked here, before any data is read: a mistake is one `DataError` line
`DATASET.toml: <key>: <problem>`. What the files hold (CSV rows, frames, video lengths) is
checked by `slowbench.data.dataset_check`. The keys and their defaults are in docs/custom_data.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import tomllib

from eval.ava.io import read_label_map
from eval.ava.protocols import PROTOCOLS
from eval.multisports.io import prepare_gt

from .build import read_multisports_gt
from .errors import DataError
from .frame_template import template_fields
from .label_columns import LabelColumns

FORMATS = ("keyframes", "tubes")
BOX_UNITS = ("normalized", "pixels")
SPLITS = ("train", "val")
GT_PROPOSALS = "gt"  # `proposals = "gt"`: the annotated boxes are the proposals
TOP_KEYS = {
    "keyframes": {
        "format",
        "labels",
        "fps",
        "timestamp_start",
        "frames",
        "videos",
        "boxes",
        "classes",
        "protocol",
        "flip",
    },
    "tubes": {"format", "gt", "gt_split", "frames", "videos", "classes", "flip"},
}
SPLIT_KEYS = {"keyframes": {"annotations", "proposals", "exclusions"}, "tubes": {"proposals", "frame_step"}}


@dataclass(frozen=True)
class SplitSpec:
    """One split's files (absolute paths). `annotations`: the keyframes CSV (None for tubes);
    `proposals`: a proposals pickle, or None for the annotated boxes; `exclusions`: optional;
    `frame_step` (tubes, train only): every how many annotated frames of a tube is a keyframe."""

    annotations: Path | None
    proposals: Path | None
    exclusions: Path | None
    frame_step: int = 1


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset file, read and checked: paths are absolute, templates are absolute patterns.

    `labels`: every label id -> name (the labels file; for tubes, the gt pickle's label indices);
    `columns`: the head's columns (`classes`, or every label in id order); `frames` / `videos`:
    exactly one is set; `gt` (tubes): the pickle's dict with `train_videos` / `test_videos`
    reduced to the chosen `gt_split`; `splits`: the [train] / [val] tables present (tubes: both
    splits always, the pickle's).
    """

    path: Path
    format: str
    labels: dict
    labels_file: Path | None
    columns: LabelColumns
    classes: tuple[int, ...] | None
    fps: float | None
    timestamp_start: float
    frames: str | None
    videos: str | None
    boxes: str
    protocol: str
    flip: bool
    gt_file: Path | None
    gt: dict | None
    gt_split: int
    splits: dict

    @property
    def root(self) -> Path:
        """The folder of the dataset file, which its relative paths start from."""
        return self.path.parent

    def split(self, name: str) -> SplitSpec:
        """The `[train]` / `[val]` table (a DataError naming the file when it has none)."""
        if name not in self.splits:
            raise DataError(f"{self.path}: [{name}]: missing; this command needs the {name} split")
        return self.splits[name]

    def class_names(self) -> dict:
        """Label id -> name of the evaluated labels (the columns' ids)."""
        return {label: self.labels[label] for label in self.columns.ids}


def read_dataset_file(path, *, classes: tuple[int, ...] | None = None) -> DatasetSpec:
    """The dataset file at `path`, every key checked; `classes` (the `--classes` option) replaces
    the file's `classes` key."""
    path = Path(path).absolute()
    where = _Where(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: dataset file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read the dataset file ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise DataError(f"{path}: not TOML ({error})") from None
    kind = data.get("format", "keyframes")
    if kind not in FORMATS:
        raise where.error("format", f"expected one of {', '.join(map(repr, FORMATS))}, got {kind!r}")
    where.check_keys(data, TOP_KEYS[kind] | set(SPLITS), "", kind)
    splits = {name: _split(where, data[name], name, kind) for name in SPLITS if name in data}
    if kind == "tubes":  # the gt pickle has both splits; the tables only choose proposals
        splits = {name: splits.get(name, SplitSpec(None, None, None)) for name in SPLITS}
    frames, videos = _templates(where, data)
    labels, labels_file, gt_file, gt = _label_source(where, data, kind)
    if classes is None:
        chosen = _classes(where, data.get("classes"), labels, "classes")
    else:
        chosen = _classes(where, list(classes), labels, "--classes")
    ids = chosen if chosen is not None else tuple(sorted(labels))
    protocol = _choice(where, data, "protocol", PROTOCOLS)
    if protocol == "activitynet-2020" and "val" in splits and splits["val"].exclusions is not None:
        raise where.error(
            "val.exclusions",
            "the activitynet-2020 protocol has no exclusions; leave those keyframes out of the CSV",
        )
    return DatasetSpec(
        path=path,
        format=kind,
        labels=labels,
        labels_file=labels_file,
        columns=LabelColumns(ids, first=1 if kind == "keyframes" else 0),
        classes=chosen,
        fps=_number(where, data, "fps", positive=True) if kind == "keyframes" else None,
        timestamp_start=_number(where, data, "timestamp_start", default=0.0),
        frames=frames,
        videos=videos,
        boxes=_choice(where, data, "boxes", BOX_UNITS),
        protocol=protocol,
        flip=_flag(where, data, "flip", default=True),
        gt_file=gt_file,
        gt=gt,
        gt_split=data.get("gt_split", 0),
        splits=splits,
    )


class _Where:
    """Names the dataset file and key in one-line errors and resolves relative paths."""

    def __init__(self, path: Path):
        self.path = path

    def error(self, key: str, problem: str) -> DataError:
        return DataError(f"{self.path}: {key}: {problem}")

    def check_keys(self, table: dict, known: set, prefix: str, kind: str) -> None:
        for key in table:
            if key not in known:
                raise self.error(
                    f"{prefix}{key}",
                    f"unknown key for format = {kind!r} (known: {', '.join(sorted(known))})",
                )

    def file(self, table: dict, key: str, *, required: bool, prefix: str = "") -> Path | None:
        """The file a key names, resolved against the dataset file's folder; it must exist."""
        if key not in table:
            if required:
                raise self.error(f"{prefix}{key}", "missing (a file name)")
            return None
        value = table[key]
        if not isinstance(value, str) or not value:
            raise self.error(f"{prefix}{key}", f"expected a file name, got {value!r}")
        path = self.path.parent / value
        if not path.is_file():
            raise self.error(f"{prefix}{key}", f"file {path} not found")
        return path


def _label_source(where: _Where, data: dict, kind: str) -> tuple[dict, Path | None, Path | None, dict | None]:
    """(label id -> name, the labels file, the gt pickle, its dict): keyframes name a labels file
    (ids sorted), tubes take the gt pickle's `labels` (indices)."""
    if kind == "keyframes":
        labels_file = where.file(data, "labels", required=True)
        return dict(sorted(read_label_map(labels_file).items())), labels_file, None, None
    gt_file = where.file(data, "gt", required=True)
    gt = _tube_gt(where, gt_file, data.get("gt_split", 0))
    return dict(enumerate(gt["labels"])), None, gt_file, gt


def _split(where: _Where, table, name: str, kind: str) -> SplitSpec:
    if not isinstance(table, dict):
        raise where.error(name, "expected a table [" + name + "]")
    where.check_keys(table, SPLIT_KEYS[kind], f"{name}.", kind)
    proposals = None
    if table.get("proposals", GT_PROPOSALS) != GT_PROPOSALS:
        proposals = where.file(table, "proposals", required=True, prefix=f"{name}.")
    step = table.get("frame_step", 1)
    if not isinstance(step, int) or isinstance(step, bool) or step < 1:
        raise where.error(f"{name}.frame_step", f"expected an integer >= 1, got {step!r}")
    if step != 1 and name != "train":
        raise where.error(
            f"{name}.frame_step", "only [train] takes a frame step (evaluation needs every frame)"
        )
    return SplitSpec(
        annotations=where.file(table, "annotations", required=kind == "keyframes", prefix=f"{name}."),
        proposals=proposals,
        exclusions=where.file(table, "exclusions", required=False, prefix=f"{name}."),
        frame_step=step,
    )


def _templates(where: _Where, data: dict) -> tuple[str | None, str | None]:
    """The absolute `frames` / `videos` templates (exactly one of them)."""
    given = [key for key in ("frames", "videos") if key in data]
    if len(given) != 1:
        raise where.error("frames", "give exactly one of frames (a frame-file template) and videos")
    key = given[0]
    template = data[key]
    if not isinstance(template, str) or not template:
        raise where.error(key, f"expected a path template, got {template!r}")
    try:
        fields = template_fields(template)
        template.format(video="v", frame=1)
    except (ValueError, KeyError, IndexError) as error:
        raise where.error(key, f"not a template ({error})") from None
    needed = {"video", "frame"} if key == "frames" else {"video"}
    if fields != needed:
        raise where.error(
            key,
            f"the template must use exactly the fields {{{'}, {'.join(sorted(needed))}}}, got {template!r}",
        )
    absolute = str(where.path.parent / template)
    return (absolute, None) if key == "frames" else (None, absolute)


def _tube_gt(where: _Where, path: Path, split) -> dict:
    """The gt pickle with `train_videos` / `test_videos` reduced to the chosen split."""
    gt = read_multisports_gt(path)
    if not isinstance(split, int) or isinstance(split, bool) or split < 0:
        raise where.error("gt_split", f"expected an index >= 0, got {split!r}")
    lists = {}
    for key in ("train_videos", "test_videos"):
        value = gt.get(key)
        if not isinstance(value, (list, tuple)) or split >= len(value):
            count = len(value) if isinstance(value, (list, tuple)) else 0
            raise where.error("gt_split", f"{path} has {count} split(s) in {key!r}, no split {split}")
        lists[key] = [list(value[split])]
    gt = {**gt, **lists}
    prepare_gt(gt, source=str(path))  # the evaluator's checks: labels, nframes, tubes
    return gt


def _classes(where: _Where, value, labels: dict, key: str) -> tuple[int, ...] | None:
    """The `classes` key (or the `--classes` option, `key`): label ids of `labels`, no repeats."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise where.error(key, f"expected a non-empty list of label ids, got {value!r}")
    for label in value:
        if not isinstance(label, int) or isinstance(label, bool):
            raise where.error(key, f"expected label ids (integers), got {label!r}")
        if label not in labels:
            raise where.error(key, f"{label} is not a label id ({_id_range(labels)})")
    if len(set(value)) != len(value):
        raise where.error(key, f"a label id is repeated in {value}")
    return tuple(value)


def _id_range(labels: dict) -> str:
    ids = sorted(labels)
    shown = ", ".join(map(str, ids[:12])) + (", ..." if len(ids) > 12 else "")
    return f"the labels are {shown}"


def _number(where: _Where, data: dict, key: str, *, positive=False, default=None) -> float:
    if key not in data:
        if default is None:
            raise where.error(key, "missing (a number)")
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise where.error(key, f"expected a number, got {value!r}")
    if positive and value <= 0:
        raise where.error(key, f"must be > 0, got {value}")
    if not positive and value < 0:
        raise where.error(key, f"must be >= 0, got {value}")
    return value


def _choice(where: _Where, data: dict, key: str, choices: tuple) -> str:
    value = data.get(key, choices[0])
    if value not in choices:
        raise where.error(key, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _flag(where: _Where, data: dict, key: str, *, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise where.error(key, f"expected true or false, got {value!r}")
    return value
