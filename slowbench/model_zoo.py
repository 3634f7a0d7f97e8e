"""The SlowOnly detection model zoo: one plain dataclass per row of mmaction2's tables.

Rows A-E are AVA v2.1, F-I AVA-Kinetics (validated on AVA v2.2), J-N the cumulative "tricks"
ablation on top of I, O MultiSports. Every row can be asked for by its short name or by the
reference config name (with or without `.py` and a directory). `python -m slowbench.model_zoo list`
prints them as a table.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Literal

from tabulate import tabulate

from slowbench.errors import ArgumentParser, InputError, run_cli

_RECOGNITION = "https://download.openmmlab.com/mmaction/v1.0/recognition/slowonly"
_RECOGNITION_0X = "https://download.openmmlab.com/mmaction/recognition/slowonly"
_DETECTION = "https://download.openmmlab.com/mmaction/v1.0/detection/slowonly"

PRETRAINED_K400_R50_4X16 = (
    f"{_RECOGNITION}/slowonly_imagenet-pretrained-r50_8xb16-4x16x1-steplr-150e_kinetics400-rgb/"
    "slowonly_imagenet-pretrained-r50_8xb16-4x16x1-steplr-150e_kinetics400-rgb_20220901-e7b65fad.pth"
)
# Directory says 8xb16, file name says 16xb16: verbatim from the reference config.
PRETRAINED_K700_R50_4X16 = (
    f"{_RECOGNITION}/slowonly_imagenet-pretrained-r50_8xb16-4x16x1-steplr-150e_kinetics700-rgb/"
    "slowonly_imagenet-pretrained-r50_16xb16-4x16x1-steplr-150e_kinetics700-rgb_20220901-f73b3e89.pth"
)
PRETRAINED_K400_R50_8X8 = (
    f"{_RECOGNITION}/slowonly_imagenet-pretrained-r50_8xb16-8x8x1-steplr-150e_kinetics400-rgb/"
    "slowonly_imagenet-pretrained-r50_8xb16-8x8x1-steplr-150e_kinetics400-rgb_20220901-df42dc84.pth"
)
PRETRAINED_K700_R50_8X8 = (
    f"{_RECOGNITION}/slowonly_imagenet-pretrained-r50_16xb16-8x8x1-steplr-150e_kinetics700-rgb/"
    "slowonly_imagenet-pretrained-r50_16xb16-8x8x1-steplr-150e_kinetics700-rgb_20221013-15b93b10.pth"
)
PRETRAINED_K400_R50NL_4X16 = (
    f"{_RECOGNITION_0X}/slowonly_nl_embedded_gaussian_r50_4x16x1_150e_kinetics400_rgb/"
    "slowonly_nl_embedded_gaussian_r50_4x16x1_150e_kinetics400_rgb_20210308-0d6e5a69.pth"
)
PRETRAINED_K400_R50NL_8X8 = (
    f"{_RECOGNITION_0X}/slowonly_nl_embedded_gaussian_r50_8x8x1_150e_kinetics400_rgb/"
    "slowonly_nl_embedded_gaussian_r50_8x8x1_150e_kinetics400_rgb_20210308-e8dd9e82.pth"
)
PRETRAINED_K400_R101_8X8 = (
    f"{_RECOGNITION_0X}/omni/slowonly_r101_without_omni_8x8x1_kinetics400_rgb_20200926-0c730aef.pth"
)

Dataset = Literal["ava21", "ava22", "ava-kinetics", "multisports"]


@dataclass(frozen=True)
class ZooRow:
    """One released SlowOnly detector: model, data, schedule and published results.

    Schedules: `warmup_end_epoch` is the `end` of the reference LinearLR (factor
    `warmup_start_factor` -> 1); `warmup_by_iter` says whether it steps per iteration
    (AVA-Kinetics) or per epoch (AVA2.1, MultiSports; mmengine reaches factor 1 at epoch
    end-1). `decay` is "step" (x `decay_gamma` at each of `milestones`) or "cosine" (from the
    end of the warm-up to `epochs`, eta_min 0).
    """

    name: str
    letter: str  # row letter A-O of the reference inventory
    config: str  # reference config file name without `.py`
    dataset: Dataset
    # model
    depth: int
    non_local: bool  # embedded-Gaussian non-local blocks at the reference positions (R50-NL);
    # named like mmaction2's argument because `nonlocal` is a Python keyword
    num_classes: int  # AVA: 81, raw action id = column, column 0 is the unused background
    background_class: bool
    multilabel: bool  # sigmoid + BCE; False means softmax cross-entropy (MultiSports)
    temporal_pool_mode: Literal["avg", "max"]
    with_global: bool  # "context": clip feature concatenated to every RoI feature
    mlp_head: bool
    focal_gamma: float
    focal_alpha: float
    dropout: float
    # data
    clip_len: int
    frame_interval: int
    test_hw: tuple[int, int]  # network input at test time (short side 256)
    pretrain: Literal["k400", "k700"]
    pretrained: str  # Kinetics recognition checkpoint loaded into the backbone
    # schedule
    epochs: int
    base_lr: float
    batch_per_gpu: int
    gpus: int
    warmup_start_factor: float
    warmup_end_epoch: int
    warmup_by_iter: bool
    decay: Literal["step", "cosine"]
    milestones: tuple[int, ...]
    decay_gamma: float
    weight_decay: float
    momentum: float
    grad_clip: float  # max L2 norm
    # published results and release
    checkpoint: str
    mAP: float | None = None  # AVA frame mAP (percent)
    frame_mAP: float | None = None  # MultiSports frame mAP (percent)
    video_mAP: dict[str, float] = field(default_factory=dict)  # MultiSports, by IoU threshold
    gpu_mem_mb: int | None = None

    @property
    def batch_size(self) -> int:
        return self.batch_per_gpu * self.gpus

    @property
    def test_clip_shape(self) -> tuple[int, int, int, int]:
        """`[3, T, H, W]` of one test clip."""
        return (3, self.clip_len, *self.test_hw)


def _checkpoint_url(config: str, stamp: str) -> str:
    return f"{_DETECTION}/{config}/{config}_{stamp}.pth"


_AVA21 = dict(
    dataset="ava21",
    depth=50,
    non_local=False,
    num_classes=81,
    background_class=True,
    multilabel=True,
    temporal_pool_mode="avg",
    with_global=False,
    mlp_head=False,
    focal_gamma=0.0,
    focal_alpha=1.0,
    dropout=0.5,
    clip_len=4,
    frame_interval=16,
    test_hw=(256, 340),
    pretrain="k400",
    pretrained=PRETRAINED_K400_R50_4X16,
    epochs=20,
    base_lr=0.2,
    batch_per_gpu=16,
    gpus=8,
    warmup_start_factor=0.1,
    warmup_end_epoch=5,
    warmup_by_iter=False,
    decay="step",
    milestones=(10, 15),
    decay_gamma=0.1,
    weight_decay=1e-5,
    momentum=0.9,
    grad_clip=40.0,
)
_AVA_KINETICS = dict(
    _AVA21,
    dataset="ava-kinetics",
    epochs=10,
    base_lr=0.1,
    batch_per_gpu=8,
    warmup_end_epoch=2,
    warmup_by_iter=True,
    decay="cosine",
    milestones=(),
)
_TRICKS = dict(
    _AVA_KINETICS, pretrain="k700", pretrained=PRETRAINED_K700_R50_8X8, clip_len=8, frame_interval=8
)


def _row(name: str, letter: str, config: str, stamp: str, base: dict, **changes) -> ZooRow:
    return ZooRow(
        name=name,
        letter=letter,
        config=config,
        checkpoint=_checkpoint_url(config, stamp),
        **{**base, **changes},
    )


ROWS: tuple[ZooRow, ...] = (
    _row(
        "ava21-k400-r50-4x16",
        "A",
        "slowonly_kinetics400-pretrained-r50_8xb16-4x16x1-20e_ava21-rgb",
        "20220906-953ef5fe",
        _AVA21,
        mAP=20.72,
    ),
    _row(
        "ava21-k700-r50-4x16",
        "B",
        "slowonly_kinetics700-pretrained-r50_8xb16-4x16x1-20e_ava21-rgb",
        "20220906-b3b6d44e",
        _AVA21,
        pretrain="k700",
        pretrained=PRETRAINED_K700_R50_4X16,
        mAP=22.77,
    ),
    _row(
        "ava21-k400-r50nl-4x16",
        "C",
        "slowonly_kinetics400-pretrained-r50-nl_8xb16-4x16x1-20e_ava21-rgb",
        "20220906-5ae3f91b",
        _AVA21,
        non_local=True,
        pretrained=PRETRAINED_K400_R50NL_4X16,
        mAP=21.55,
    ),
    _row(
        "ava21-k400-r50nl-8x8",
        "D",
        "slowonly_kinetics400-pretrained-r50-nl_8xb16-8x8x1-20e_ava21-rgb",
        "20220906-9760eadb",
        _AVA21,
        non_local=True,
        clip_len=8,
        frame_interval=8,
        pretrained=PRETRAINED_K400_R50NL_8X8,
        mAP=23.77,
    ),
    _row(
        "ava21-k400-r101-8x8",
        "E",
        "slowonly_kinetics400-pretrained-r101_8xb16-8x8x1-20e_ava21-rgb",
        "20220906-43f16877",
        _AVA21,
        depth=101,
        clip_len=8,
        frame_interval=8,
        pretrained=PRETRAINED_K400_R101_8X8,
        mAP=24.83,
    ),
    _row(
        "ava22-k400-r50-4x16",
        "F",
        "slowonly_k400-pre-r50_8xb8-4x16x1-10e_ava-kinetics-rgb",
        "20221205-33e3ca7c",
        _AVA_KINETICS,
        mAP=24.53,
    ),
    # The reference config pretrains this 4x16 detector from the 8x8 K700 recogniser.
    _row(
        "ava22-k700-r50-4x16",
        "G",
        "slowonly_k700-pre-r50_8xb8-4x16x1-10e_ava-kinetics-rgb",
        "20221205-a07e8c15",
        _AVA_KINETICS,
        pretrain="k700",
        pretrained=PRETRAINED_K700_R50_8X8,
        mAP=25.87,
    ),
    _row(
        "ava22-k400-r50-8x8",
        "H",
        "slowonly_k400-pre-r50_8xb8-8x8x1-10e_ava-kinetics-rgb",
        "20221205-8f8dff3b",
        _AVA_KINETICS,
        clip_len=8,
        frame_interval=8,
        pretrained=PRETRAINED_K400_R50_8X8,
        mAP=26.10,
    ),
    _row(
        "ava22-k700-r50-8x8",
        "I",
        "slowonly_k700-pre-r50_8xb8-8x8x1-10e_ava-kinetics-rgb",
        "20221205-16a01c37",
        _TRICKS,
        mAP=27.82,
    ),
    _row(
        "ava22-k700-context",
        "J",
        "slowonly_k700-pre-r50-context_8xb8-8x8x1-10e_ava-kinetics-rgb",
        "20221205-5d514f8c",
        _TRICKS,
        with_global=True,
        mAP=28.31,
    ),
    _row(
        "ava22-k700-tmax",
        "K",
        "slowonly_k700-pre-r50-context-temporal-max_8xb8-8x8x1-10e_ava-kinetics-rgb",
        "20221205-5b5e71eb",
        _TRICKS,
        with_global=True,
        temporal_pool_mode="max",
        mAP=28.48,
    ),
    _row(
        "ava22-k700-mlp",
        "L",
        "slowonly_k700-pre-r50-context-temporal-max-nl-head_8xb8-8x8x1-10e_ava-kinetics-rgb",
        "20221205-87624265",
        _TRICKS,
        with_global=True,
        temporal_pool_mode="max",
        mlp_head=True,
        mAP=29.83,
    ),
    _row(
        "ava22-k700-focal",
        "M",
        "slowonly_k700-pre-r50-context-temporal-max-nl-head_8xb8-8x8x1-focal-10e_ava-kinetics-rgb",
        "20221205-37aa8395",
        _TRICKS,
        with_global=True,
        temporal_pool_mode="max",
        mlp_head=True,
        focal_gamma=1.0,
        mAP=30.33,
    ),
    _row(
        "ava22-k700-16x4",
        "N",
        "slowonly_k700-pre-r50_8xb8-16x4x1-10e-tricks_ava-kinetics-rgb",
        "20221205-dd652f81",
        _TRICKS,
        with_global=True,
        temporal_pool_mode="max",
        mlp_head=True,
        focal_gamma=1.0,
        clip_len=16,
        frame_interval=4,
        mAP=31.29,
    ),
    _row(
        "multisports-k400-r50-4x16",
        "O",
        "slowonly_kinetics400-pretrained-r50_8xb16-4x16x1-8e_multisports-rgb",
        "20230320-a1ca5e76",
        _AVA21,
        dataset="multisports",
        num_classes=66,
        background_class=False,
        multilabel=False,
        test_hw=(256, 455),
        epochs=8,
        milestones=(6, 7),
        grad_clip=5.0,
        frame_mAP=26.40,
        video_mAP={"0.2": 15.48, "0.5": 10.62, "0.1:0.9": 9.65},
        gpu_mem_mb=8509,
    ),
)

_BY_KEY: dict[str, ZooRow] = {key: row for row in ROWS for key in (row.name, row.config)}


class UnknownRowError(KeyError, InputError):
    """An unknown row name; caught as KeyError or InputError, printed as one plain line."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_row(name_or_config: str) -> ZooRow:
    """The row named by its short name or by its reference config name (a path or `.py` is fine)."""
    key = str(name_or_config).rsplit("/", 1)[-1].removesuffix(".py")
    try:
        return _BY_KEY[key]
    except KeyError:
        known = ", ".join(row.name for row in ROWS)
        raise UnknownRowError(
            f"unknown model-zoo row {name_or_config!r}; known rows: {known} (or their reference config names)"
        ) from None


def _table() -> str:
    headers = [
        "row",
        "name",
        "dataset",
        "backbone",
        "clip",
        "pretrain",
        "head",
        "epochs",
        "lr",
        "batch",
        "published",
    ]
    lines = []
    for row in ROWS:
        backbone = f"R{row.depth}" + ("-NL" if row.non_local else "")
        head = (
            "+".join(
                part
                for part, on in (
                    ("context", row.with_global),
                    ("tmax", row.temporal_pool_mode == "max"),
                    ("mlp", row.mlp_head),
                    ("focal", row.focal_gamma > 0),
                )
                if on
            )
            or "linear"
        )
        if row.mAP is not None:
            published = f"mAP {row.mAP:.2f}"
        else:
            video = ", ".join(f"v@{thr} {value:.2f}" for thr, value in row.video_mAP.items())
            published = f"f-mAP {row.frame_mAP:.2f}; {video}"
        lines.append(
            [
                row.letter,
                row.name,
                row.dataset,
                backbone,
                f"{row.clip_len}x{row.frame_interval}",
                row.pretrain,
                head,
                row.epochs,
                row.base_lr,
                f"{row.batch_per_gpu}x{row.gpus}",
                published,
            ]
        )
    return tabulate(lines, headers=headers)


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (2 after one `error:` line for bad input)."""
    return run_cli(_run, argv)


def parser() -> ArgumentParser:
    """The command line's options."""
    parser = ArgumentParser(
        prog="python -m slowbench.model_zoo", description="SlowOnly detection model-zoo rows"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print every row as a table")
    show = commands.add_parser("show", help="print every field of one row")
    show.add_argument("name", help="short row name or reference config name")
    return parser


def _run(argv: list[str] | None) -> None:
    args = parser().parse_args(argv)
    if args.command == "list":
        print(_table())
    else:
        row = get_row(args.name)
        print(tabulate(list(dataclasses.asdict(row).items()), headers=["field", "value"]))


if __name__ == "__main__":
    sys.exit(main())
