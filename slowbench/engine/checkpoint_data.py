"""The data a trained checkpoint is tested on (``slowbench.test``, ``slowbench.demo``): the dataset
file its training recorded, or one given, read with the classes it was trained on."""

import pathlib

from slowbench.data.dataset_file import DatasetSpec, read_dataset_file
from slowbench.data.label_columns import LabelColumns
from slowbench.engine.arguments import check_data_source
from slowbench.errors import CheckpointError, InputError


def checkpoint_dataset(dataset, data_root, meta: dict, *, width: int, source) -> DatasetSpec | None:
    """``--dataset``, else (without ``--data-root``) the checkpoint's ``dataset_file``, read with the
    checkpoint's ``classes``; None for an official layout. The file's head columns must be the
    ones the checkpoint was trained for (``label_ids``; ``width``: the detector's columns)."""
    check_data_source(dataset, data_root)
    if dataset is None:
        if data_root is not None or not meta.get("dataset_file"):
            return None
        dataset = meta["dataset_file"]
        if not pathlib.Path(dataset).is_file():
            raise InputError(
                f"{source}: was trained on the dataset file {dataset}, which is gone; give --dataset"
            )
    classes = meta.get("classes")
    spec = read_dataset_file(dataset, classes=None if classes is None else tuple(classes))
    trained = meta.get("label_ids")
    if trained is not None and list(spec.columns.ids) != list(trained):
        raise CheckpointError(
            f"{source}: its head scores label ids {trained}, but {spec.path} gives {list(spec.columns.ids)}"
        )
    if spec.columns.width != width:
        raise CheckpointError(
            f"{source}: its head has {width} columns, {spec.path} needs {spec.columns.width} "
            f"({len(spec.columns.ids)} labels{' + background' if spec.columns.first else ''})"
        )
    return spec


def checkpoint_columns(meta: dict) -> LabelColumns | None:
    """An official AVA dataset: the ``--classes`` the checkpoint was trained with (None: all)."""
    classes = meta.get("classes")
    return None if classes is None else LabelColumns(tuple(classes), first=1)
