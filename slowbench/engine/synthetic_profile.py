"""The CPU-sized run used when a row's dataset is absent: built-in synthetic data, small inputs.

What shrinks, and why (measured on the 2-core CPU: the row's R50 16x4 with 8 stem channels takes
~0.3 s per 8-clip training step at a 64 px short side and ~0.55 s at 96 px; full width at 256 px
would be hours per epoch):
- data: the synthetic dataset (``slowbench.data.synthetic``) in the row's layout (MultiSports as
  mp4 files, as the official download), ``DATASET_SIZE`` videos, frames decoded at a ``SHORT_SIDE`` px short side (the reference's 256-320 rescale / 256
  crop scaled to it), no flip (the synthetic classes include "move left" / "move right"), loaded in
  the main process (a clip decodes in ~10 ms; worker processes would compete for the 2 cores);
- model: the row's architecture (depth, bottleneck blocks, spatial strides, clip length and interval,
  temporal pooling, loss) with ``BASE_CHANNELS`` instead of 64 channels in the stem, so every stage
  is ``BASE_CHANNELS / 64`` as wide, one head column per synthetic action, and a linear classifier on
  the RoI feature instead of the context + MLP head of rows J-N (``--model-override
  with_global=true --model-override mlp_head=true`` restores it);
- schedule: the row's shape (warm-up, step or cosine decay) rescaled to ``EPOCHS`` epochs, with
  ``BATCH_SIZE`` clips per step and ``LR``.

The frame-mAP these runs reach is in docs/training.md (results on the synthetic data).
"""

import dataclasses
import pathlib

from slowbench.data import PipelineConfig, find_dataset
from slowbench.data.synthetic import INFO_FILE, generate, read_info
from slowbench.engine import distributed

SHORT_SIDE = 64
BASE_CHANNELS = 8
EPOCHS = 2
# Many distinct videos, because a small model memorises a few dozen instead of learning the
# motions. MultiSports annotates every frame, so its default size already gives thousands of samples.
DATASET_SIZE = {"ava": dict(videos=640, val_videos=32, persons=(1, 1))}
# MultiSports rows read the official mp4 files, so its synthetic data takes the same path.
DATASET_FORMAT = {"ava": "frames", "multisports": "mp4"}
BATCH_SIZE = 8
LR = 0.1


@dataclasses.dataclass(frozen=True)
class SyntheticProfile:
    """Settings of a synthetic-data run; ``model_overrides`` go to ``build_detector``."""

    pipeline: PipelineConfig
    model_overrides: dict
    epochs: int
    batch_size: int
    lr: float
    chance_mAP: float


def is_synthetic(data_root) -> bool:
    """Whether ``data_root`` holds a dataset written by ``slowbench.data.synthetic``."""
    return (pathlib.Path(data_root) / INFO_FILE).is_file()


def synthetic_profile(row, data_root) -> SyntheticProfile:
    """The CPU profile for the synthetic dataset at ``data_root``.

    The head gets one column per synthetic action (plus AVA's unused column 0) instead of the
    row's 81 / 66: with 7 of 80 columns labelled, the BCE gradient would be diluted ~11x.
    """
    info = read_info(data_root)
    num_classes = len(info["classes"]) + (0 if row.dataset == "multisports" else 1)
    # No flip: it would turn "move left" into "move right" without swapping the labels. The fast
    # decode path: no official checkpoint is involved, and the published synthetic-data results use it.
    pipeline = PipelineConfig.for_synthetic(row, short_side=SHORT_SIDE).replace(flip=False, fast_decode=True)
    overrides = {"base_channels": BASE_CHANNELS, "num_classes": num_classes}
    if row.with_global or row.mlp_head:
        # The context + MLP head learns far more slowly from scratch: in this short schedule it
        # stays near chance, where the linear head on the RoI feature learns the actions.
        overrides.update(with_global=False, mlp_head=False)
    return SyntheticProfile(
        pipeline=pipeline,
        model_overrides=overrides,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        lr=LR,
        chance_mAP=float(info["chance_frame_mAP"]),
    )


def synthetic_kind(row) -> str:
    return "multisports" if row.dataset == "multisports" else "ava"


def prepare_synthetic(row, work_dir, info, *, missing_root) -> pathlib.Path:
    """Generates (rank 0, once per work dir) the synthetic dataset of the row's layout, with a notice."""
    root = pathlib.Path(work_dir) / "synthetic" / synthetic_kind(row)
    if info.is_main:
        print(
            f"NOTICE: no {row.dataset} dataset at {missing_root}; using the built-in synthetic "
            f"dataset at {root} with the CPU-sized synthetic profile: an end-to-end run of the "
            f"pipeline, not the row's accuracy on real data."
        )
        # Reuses a dataset made with the same arguments; one from an older generator is an error.
        kind = synthetic_kind(row)
        generate(root, kind=kind, seed=0, fmt=DATASET_FORMAT[kind], **DATASET_SIZE.get(kind, {}))
    distributed.barrier(info)
    if not find_dataset(row, root):
        raise RuntimeError(f"{root}: synthetic generation did not produce a {row.dataset} dataset")
    return root
