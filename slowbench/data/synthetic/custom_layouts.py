"""Synthetic scenes written as a user's own data, each with its `dataset.toml`.

`custom`: the AVA task (the same seeded scenes, multi-label keyframes every second) at 25 fps
(or another rate),
timestamps from 0, label ids 2, 3, 5, 7, 11, 13, 17 in an `id: name` file, boxes in pixels, noisy
proposals (pixels), excluded val keyframes, videos `videos/<video>.mp4` or frames
`frames/<video>/frame_000001.jpg`. `tubes`: the MultiSports task (single-label tubes on every
frame) in UCF101-24's layout: `rgb-images/<class>/<video>/00001.jpg` and `UCF101v2-GT.pkl`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .scene import ACTIONS, Scene
from .writers import keyframe_annotations, scene_tubes, tube_gt, write_pickle

CUSTOM_FPS = 25  # the default frame rate of both kinds
LABEL_IDS = (2, 3, 5, 7, 11, 13, 17)  # ACTIONS[i] has id LABEL_IDS[i]
FRAME_NAME = "frame_{:06d}.jpg"
UCF_FRAME_NAME = "{:05d}.jpg"
UCF_CLASS_FOLDER = "Synthetic"
UCF_GT = "UCF101v2-GT.pkl"
DATASET_FILE = "dataset.toml"


def custom_video_names(first: int, count: int) -> list[str]:
    return [f"clip_{index:04d}" for index in range(first, first + count)]


def ucf_video_names(first: int, count: int) -> list[str]:
    return [
        f"{UCF_CLASS_FOLDER}/v_{UCF_CLASS_FOLDER}_g{index:03d}_c01" for index in range(first, first + count)
    ]


def custom_layout(root: Path, fmt: str) -> tuple[Path, str]:
    """(where a scene's frames or video go, the dataset file's template) of the `custom` kind."""
    if fmt == "mp4":
        return root / "videos", 'videos = "videos/{video}.mp4"'
    return root / "frames", 'frames = "frames/{video}/frame_{frame:06d}.jpg"'


def write_custom_annotations(scenes: dict[str, dict[str, Scene]], root: Path, fmt: str, seed: int) -> dict:
    """Labels, CSVs (pixels), proposals (pixels), val exclusions and `dataset.toml` of the
    `custom` kind; returns {"gt_boxes", "chance_gt", "label_map", "excluded"} (chance_gt: the
    val gt with boxes in [0, 1], as `eval.ava` reads the dataset)."""
    label_map = dict(zip(LABEL_IDS, ACTIONS))
    (root / "labels.txt").write_text("".join(f"{label}: {name}\n" for label, name in label_map.items()))
    counts, chance_gt, excluded = {}, None, set()
    for index, (split, split_scenes) in enumerate(scenes.items()):
        rng = np.random.default_rng([seed, 1_000_003, index])
        found = keyframe_annotations(split_scenes, rng, 0)
        lines, table = [], []
        for video, second, box, action, entity in found.rows:
            scene = split_scenes[video]
            pixels = np.round(box * (scene.width, scene.height, scene.width, scene.height), 1)
            lines.append(
                f"{video},{second},{','.join(f'{v:.1f}' for v in pixels)},{LABEL_IDS[action]},{entity}\n"
            )
            table.append(
                (
                    video,
                    second,
                    *(pixels / (scene.width, scene.height, scene.width, scene.height)),
                    LABEL_IDS[action],
                    entity,
                )
            )
        (root / f"{split}.csv").write_text("".join(lines))
        proposals = {}
        for (video, second), value in found.proposals.items():
            scene = split_scenes[video]
            scale = (scene.width, scene.height, scene.width, scene.height, 1)
            proposals[f"{video},{second:04d}"] = value * scale
        write_pickle(root / f"{split}_proposals.pkl", proposals)
        counts[split] = len(found.labels)
        if split == "val":
            (root / "val_excluded.csv").write_text(
                "".join(f"{video},{second}\n" for video, second in found.excluded)
            )
            chance_gt = pd.DataFrame(
                table, columns=["video", "timestamp", "x1", "y1", "x2", "y2", "action", "person"]
            )
            excluded = set(found.excluded)
    _, template = custom_layout(root, fmt)
    fps = next(iter(scenes["train"].values())).fps
    (root / DATASET_FILE).write_text(
        f"""# A synthetic dataset written as a user's own (python -m slowbench.data.synthetic --kind custom).
format = "keyframes"
labels = "labels.txt"
fps = {fps}
timestamp_start = 0
{template}
boxes = "pixels"
flip = false  # the classes include "move left" and "move right"

[train]
annotations = "train.csv"
proposals = "train_proposals.pkl"

[val]
annotations = "val.csv"
proposals = "val_proposals.pkl"
exclusions = "val_excluded.csv"
"""
    )
    return {"gt_boxes": counts, "chance_gt": chance_gt, "label_map": label_map, "excluded": excluded}


def write_ucf_tubes(scenes: dict[str, dict[str, Scene]], root: Path) -> tuple[dict, list]:
    """`UCF101v2-GT.pkl` and `dataset.toml` of the `tubes` kind; returns (gt boxes per split, the
    val boxes' one-hot label rows)."""
    tubes = {video: scene_tubes(scene) for split in scenes.values() for video, scene in split.items()}
    write_pickle(root / UCF_GT, tube_gt(scenes, tubes))
    counts, val_labels = {}, []
    for split, split_scenes in scenes.items():
        labels = [
            np.arange(len(ACTIONS)) == label
            for video in split_scenes
            for label, label_tubes in tubes[video].items()
            for tube in label_tubes
            for _ in tube
        ]
        counts[split] = len(labels)
        if split == "val":
            val_labels = labels
    (root / DATASET_FILE).write_text(
        f"""# A synthetic tube dataset in UCF101-24's layout (python -m slowbench.data.synthetic --kind tubes).
format = "tubes"
gt = "{UCF_GT}"
frames = "rgb-images/{{video}}/{{frame:05d}}.jpg"
flip = false  # the classes include "move left" and "move right"
"""
    )
    return counts, val_labels
