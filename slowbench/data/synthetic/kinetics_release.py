"""The synthetic Kinetics part of AVA-Kinetics in its *release* form, the input of
`python -m slowbench.data.prepare_ava_kinetics`: Kinetics-700-style videos named
`<youtube_id>_<start:06d>_<end:06d>.mp4` (seconds of the source video) and the annotation release
`ava_kinetics_v1_0/kinetics_{train,val}_v1.0.csv` (`youtube_id,seconds,x1,y1,x2,y2,label`), one
annotated keyframe per video, plus person proposals keyed `<youtube_id>,<seconds:04d>`.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from .scene import ACTIONS, FPS, Scene, person_box
from .writers import noisy_proposals

RELEASE_DIR = "ava_kinetics_v1_0"
VIDEOS_DIR = "kinetics700"
PROPOSALS_NAME = "kinetics_proposals_{split}.pkl"
SECONDS = 6  # Kinetics clips are ~10 s; shorter keeps tests fast and still leaves 2 s each side
EMPTY_KEYFRAME_RATE = 0.2  # val keyframes annotated without any action (2-column rows)


def annotation_path(root: Path, split: str) -> Path:
    return Path(root) / RELEASE_DIR / f"kinetics_{split}_v1.0.csv"


def proposals_path(root: Path, split: str) -> Path:
    return Path(root) / RELEASE_DIR / PROPOSALS_NAME.format(split=split)


def youtube_id(index: int) -> str:
    """11 characters with an underscore inside, as real ids may have (`kin_0000012`)."""
    return f"kin_{index:07d}"


def video_name(scene_id: str, start: int) -> str:
    return f"{scene_id}_{start:06d}_{start + SECONDS:06d}"


def write_kinetics_annotations(
    scenes: dict[str, Scene], starts: dict[str, int], root: Path, split: str, rng: np.random.Generator
) -> list[np.ndarray]:
    """The release CSV and proposals of one split; returns one bool [len(ACTIONS)] per gt box.

    Each video gets one keyframe 2 .. SECONDS - 2 s after its start; val keyframes fall on half
    seconds half of the time (the fractional timestamps of the real val set) and
    EMPTY_KEYFRAME_RATE of them are listed without any action.
    """
    rows, proposals, labels = [], {}, []
    for name, scene in scenes.items():
        offset = float(rng.integers(2, SECONDS - 1))
        if split == "val" and rng.random() < 0.5:
            offset -= 0.5
        seconds = starts[name] + offset
        stamp = f"{seconds:g}"
        frame = int(round(FPS * offset))
        boxes = []
        empty = split == "val" and rng.random() < EMPTY_KEYFRAME_RATE
        for person in scene.persons:
            box = np.round(
                person_box(person, frame, scene.width, scene.height)
                / np.array([scene.width, scene.height] * 2),
                3,
            )
            boxes.append(box)
            if empty:
                continue
            actions = person.segment_at(frame).actions
            rows += [
                f"{name},{stamp},{','.join(f'{v:.3f}' for v in box)},{ACTIONS.index(a) + 1}"
                for a in sorted(actions, key=ACTIONS.index)
            ]
            labels.append(np.isin(ACTIONS, list(actions)))
        if empty:
            rows.append(f"{name},{stamp}")
        proposals[f"{name},{int(seconds):04d}"] = noisy_proposals(np.array(boxes), rng)
    path = annotation_path(root, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")
    with open(proposals_path(root, split), "wb") as file:
        pickle.dump(proposals, file, protocol=4)
    return labels
