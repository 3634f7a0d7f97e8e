"""Where each dataset's files live in the reference (mmaction2 `tools/data/*`) layout."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("train", "val")
# AVA-Kinetics: the cut Kinetics clips `<youtube_id>_<start>_<end>.mp4` (the AVA part is frames).
KINETICS_VIDEOS = "videos"


@dataclass(frozen=True)
class DatasetFiles:
    """The files of one split. `frames` holds `<video>/img_%05d.jpg` folders; optional files are None.

    `videos` (MultiSports, AVA-Kinetics) holds `<video>.mp4` files, read where present instead of a
    frame folder. `gt_pickle` (MultiSports only) is the tube ground truth the evaluator reads;
    `exclusions` and `label_map` exist for AVA only. `gt_csv` (the Kinetics part of AVA-Kinetics
    val) is the gt in the official form the evaluator reads, keyed by YouTube id and source-video
    seconds, where `annotations` names the cut clips.
    """

    root: Path
    frames: Path
    annotations: Path
    proposals: Path
    exclusions: Path | None
    label_map: Path | None
    gt_pickle: Path | None
    videos: Path | None = None
    gt_csv: Path | None = None

    def has_frames(self) -> bool:
        """Whether the frames folder or the videos folder exists."""
        return self.frames.is_dir() or (self.videos is not None and self.videos.is_dir())


def ava_files(root: Path, split: str, version: str) -> DatasetFiles:
    """The AVA v`version` ("2.1" / "2.2") files of `split` under `root`."""
    anno = root / "annotations"
    label_map = (
        "ava_action_list_v2.1_for_activitynet_2018.pbtxt"
        if version == "2.1"
        else "ava_action_list_v2.2_for_activitynet_2019.pbtxt"
    )
    return DatasetFiles(
        root=root,
        frames=root / "rawframes",
        annotations=anno / f"ava_{split}_v{version}.csv",
        proposals=anno / f"ava_dense_proposals_{split}.FAIR.recall_93.9.pkl",
        exclusions=anno / f"ava_{split}_excluded_timestamps_v{version}.csv",
        label_map=anno / label_map,
        gt_pickle=None,
    )


def kinetics_val_files(root: Path) -> DatasetFiles:
    """The Kinetics part of the AVA-Kinetics val split under `root` (written by
    `python -m slowbench.data.prepare_ava_kinetics`; mmaction2's layout has no such part):
    `kinetics_val.csv` in the reference's converted form (`<clip>,<seconds>,x1,y1,x2,y2,label,-1`,
    plus `<clip>,<seconds>` rows for frames annotated without any action), the official-form
    `kinetics_val_gt.csv` and the person proposals keyed `<youtube_id>,<seconds:04d>`."""
    anno = Path(root) / "annotations"
    return DatasetFiles(
        root=Path(root),
        frames=Path(root) / "rawframes",
        annotations=anno / "kinetics_val.csv",
        proposals=anno / "kinetics_dense_proposals_val.pkl",
        exclusions=None,
        label_map=ava_files(Path(root), "val", "2.2").label_map,
        gt_pickle=None,
        videos=Path(root) / KINETICS_VIDEOS,
        gt_csv=anno / "kinetics_val_gt.csv",
    )


def has_kinetics_val(root) -> bool:
    """Whether `root` holds the Kinetics part of the AVA-Kinetics val split."""
    files = kinetics_val_files(Path(root))
    return all(path.is_file() for path in (files.annotations, files.proposals, files.gt_csv))


def multisports_files(root: Path, split: str) -> DatasetFiles:
    """The MultiSports files of `split` under `root`."""
    anno = root / "annotations"
    # The official videos (trainval/<sport>/<video>.mp4, as the reference decodes them) or
    # extracted frames (rawframes/<sport>/<video>/img_%05d.jpg, 1-based as ffmpeg writes them).
    return DatasetFiles(
        root=root,
        frames=root / "rawframes",
        annotations=anno / f"multisports_{split}.csv",
        proposals=anno / f"multisports_dense_proposals_{split}.recall_96.13.pkl",
        exclusions=None,
        label_map=None,
        gt_pickle=anno / "multisports_GT.pkl",
        videos=root / "trainval",
    )


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def dataset_files(row, data_root, split: str) -> DatasetFiles:
    """The reference file names of `row.dataset` under `data_root` for `split` ("train"/"val")."""
    check_split(split)
    root = Path(data_root)
    if row.dataset == "ava21":
        return ava_files(root, split, "2.1")
    if row.dataset == "ava22":
        return ava_files(root, split, "2.2")
    if row.dataset == "ava-kinetics":
        return dataclasses.replace(ava_files(root, split, "2.2"), videos=root / KINETICS_VIDEOS)
    if row.dataset == "multisports":
        return multisports_files(root, split)
    raise ValueError(f"unknown dataset {row.dataset!r} of row {getattr(row, 'name', row)!r}")


def default_data_root(row) -> Path:
    """The reference data root of a row, relative to the working directory (e.g. `data/ava`)."""
    names = {"ava21": "ava", "ava22": "ava", "ava-kinetics": "ava_kinetics", "multisports": "multisports"}
    if row.dataset not in names:
        raise ValueError(f"unknown dataset {row.dataset!r} of row {getattr(row, 'name', row)!r}")
    return Path("data") / names[row.dataset]


def find_dataset(row, data_root) -> bool:
    """True when the frames (or videos) folder and both splits' annotations and proposals are
    present."""
    for split in SPLITS:
        files = dataset_files(row, data_root, split)
        required = [files.annotations, files.proposals]
        if files.gt_pickle is not None:
            required.append(files.gt_pickle)
        if not files.has_frames() or not all(path.is_file() for path in required):
            return False
    return True
