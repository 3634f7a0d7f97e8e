"""What a training run does once every option is applied: ``plan_run(row, args, info) -> RunPlan``."""

import dataclasses
import pathlib

from eval.ava.io import read_label_map
from slowbench.data import PipelineConfig, dataset_files, default_data_root, find_dataset
from slowbench.data.dataset_check import check_dataset
from slowbench.data.dataset_file import DatasetSpec, read_dataset_file
from slowbench.data.label_columns import LabelColumns
from slowbench.data.worker_setup import default_workers
from slowbench.engine.arguments import check_data_source
from slowbench.engine.synthetic_profile import is_synthetic, prepare_synthetic, synthetic_profile
from slowbench.errors import InputError

CHECKPOINT_NAME = "latest.pth"
RESULTS_NAME = "results.json"
LOG_NAME = "log.jsonl"


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """The effective settings of a run: the row's (or the synthetic profile's) values with the
    command-line options applied."""

    work_dir: pathlib.Path
    data_root: pathlib.Path  # a dataset file's folder for --dataset
    dataset: DatasetSpec | None  # --dataset, read and checked
    columns: LabelColumns | None  # the head's label ids (--dataset or --classes); None: column = id
    chance_mAP: float | None  # synthetic data only: expected frame-mAP of random scores
    pipeline: PipelineConfig
    model_overrides: dict  # build_detector keywords: the profile's, then the user's
    user_overrides: dict  # the user's --model-override values alone
    epochs: int
    batch_size: int
    lr: float
    workers: int
    seed: int
    val_every: int
    save_every: int  # 0: at epoch ends only
    log_every: int
    stop_after: int  # 0: run to the end
    amp: str | None  # autocast dtype of --amp ("bf16", "fp16"), None: float32

    @property
    def synthetic(self) -> bool:
        return self.chance_mAP is not None

    @property
    def checkpoint(self) -> pathlib.Path:
        return self.work_dir / CHECKPOINT_NAME


def plan_run(row, args, info) -> RunPlan:
    """Resolves the work dir and data root (generating synthetic data when no dataset is at the
    default root), or reads and checks the ``--dataset`` file, and the effective settings; every
    check of the data runs here, before anything is written. ``args`` is read, never changed."""
    work_dir = pathlib.Path(args.work_dir or pathlib.Path("work_dirs") / row.name)
    spec = None
    check_data_source(args.dataset, args.data_root)
    if args.dataset is not None:
        spec = read_dataset_file(args.dataset, classes=args.classes)
        check_dataset(spec, ["train", "val"], clip=(row.clip_len, row.frame_interval))
        data_root = spec.root
    else:
        data_root = _data_root(row, args.data_root, work_dir, info)
    if spec is None and is_synthetic(data_root):
        profile = synthetic_profile(row, data_root)
        base = dict(
            pipeline=profile.pipeline,
            model_overrides=profile.model_overrides,
            epochs=profile.epochs,
            batch_size=profile.batch_size,
            lr=profile.lr,
            workers=0,
        )
        chance = profile.chance_mAP
    else:
        base = dict(
            pipeline=PipelineConfig.from_row(row),
            model_overrides={},
            epochs=row.epochs,
            batch_size=row.batch_per_gpu,
            lr=row.base_lr,
            workers=default_workers(),
        )
        chance = None
    batch_size = args.batch_size or base["batch_size"]
    lr = args.lr if args.lr is not None else base["lr"]
    if args.auto_scale_lr:
        lr *= batch_size * info.world_size / row.batch_size
    pipeline = base["pipeline"]
    columns = spec.columns if spec is not None else official_columns(row, data_root, args.classes)
    head = _head_overrides(columns, spec)
    if spec is not None and not spec.flip:
        pipeline = pipeline.replace(flip=False)
    if args.short_side:
        side = args.short_side
        pipeline = pipeline.replace(train_scale=(side, side * 5 // 4), crop_size=side, test_short_side=side)
    if args.fast_decode:
        pipeline = pipeline.replace(fast_decode=True)
    user_overrides = dict(args.model_override)
    for key, value in head.items():
        if key in user_overrides and user_overrides[key] != value:
            raise InputError(
                f"--model-override {key}={user_overrides[key]}: the data sets it to {value} "
                f"({'--dataset' if spec is not None else '--classes'})"
            )
    return RunPlan(
        work_dir=work_dir,
        data_root=data_root,
        dataset=spec,
        columns=columns,
        chance_mAP=chance,
        pipeline=pipeline,
        model_overrides={**base["model_overrides"], **head, **user_overrides},
        user_overrides=user_overrides,
        epochs=args.epochs or base["epochs"],
        batch_size=batch_size,
        lr=lr,
        workers=base["workers"] if args.workers is None else args.workers,
        seed=args.seed,
        val_every=args.val_every,
        save_every=args.save_every,
        log_every=args.log_every,
        stop_after=args.stop_after,
        amp=args.amp,
    )


def _data_root(row, given, work_dir, info) -> pathlib.Path:
    """``--data-root`` when given (it must hold the row's dataset); else the row's default root,
    or synthetic data generated under the work dir when nothing is there."""
    if given is not None:
        data_root = pathlib.Path(given)
        if not find_dataset(row, data_root):
            raise InputError(
                f"--data-root {data_root}: no {row.dataset} dataset in the reference "
                f"layout (annotations, proposals and rawframes/ or, for MultiSports, "
                f"trainval/ for train and val)"
            )
        return data_root
    data_root = default_data_root(row)
    if find_dataset(row, data_root):
        return data_root
    return prepare_synthetic(row, work_dir, info, missing_root=data_root)


def official_columns(row, data_root, classes) -> LabelColumns | None:
    """``--classes`` on an official AVA dataset, checked as mmaction2 checks ``custom_classes``:
    ids of the dataset's label map, not 0, no repeats; None without ``--classes``."""
    if classes is None:
        return None
    if row.dataset == "multisports":
        raise InputError(
            "--classes: applies to AVA rows and to --dataset files, not to the MultiSports layout"
        )
    label_map_file = dataset_files(row, data_root, "val").label_map
    label_map = read_label_map(label_map_file)
    for label in classes:
        if label not in label_map:
            raise InputError(f"--classes: {label} is not a class of {label_map_file}")
    if len(set(classes)) != len(classes):
        raise InputError(f"--classes: a label id is repeated in {list(classes)}")
    return LabelColumns(tuple(classes), first=1)


def _head_overrides(columns: LabelColumns | None, spec: DatasetSpec | None) -> dict:
    """The head the data needs: one column per label id (plus the background column of keyframe
    datasets); none for an official dataset without ``--classes``."""
    if columns is None:
        return {}
    head = {"num_classes": columns.width}
    if spec is not None:
        head["background_class"] = columns.first == 1
    return head
