"""Writes synthetic scenes in the AVA and MultiSports reference layouts (names from `..dataset_files`)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..dataset_files import ava_files, multisports_files
from ..video_writer import encode_video
from .scene import ACTIONS, Scene, person_box

AVA_VERSIONS = ("2.1", "2.2")  # both file sets, so every AVA row (v2.1, v2.2, AVA-Kinetics) reads it
AVA_FIRST_SECOND = 900
JPEG_QUALITY = 90


def video_options(fps: int) -> dict:
    """H.264 with B-frames and a keyframe every second, so reading a clip exercises seeking and
    reordering as a downloaded video does; CRF 17 keeps the codec loss near the JPEG frames'."""
    return {"crf": "17", "g": str(fps), "bf": "2", "preset": "fast"}


def write_frames(scene: Scene, folder: Path, name: str = "img_{:05d}.jpg") -> None:
    """`folder/img_%05d.jpg` (or `name`), numbered from 1 like ffmpeg's frame extraction."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(scene.seed)
    for frame in range(scene.n_frames):
        Image.fromarray(scene.render(frame, rng)).save(folder / name.format(frame + 1), quality=JPEG_QUALITY)


def write_video(scene: Scene, path: Path) -> None:
    """`path` (.mp4): the scene's frames as H.264 (yuv420p) at the scene's fps, a keyframe every second."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(scene.seed)
    encode_video(
        path,
        (scene.render(index, rng) for index in range(scene.n_frames)),
        scene.fps,
        options=video_options(scene.fps),
    )


def noisy_proposals(boxes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Detector-like proposals float64 [N, 5] (normalised box, score) around normalised GT boxes.

    Each person: its box jittered by ~4% of its size with score in [0.9, 1), or (5%) a miss
    scored below the 0.9 threshold; plus 0-2 low-scored distractor boxes; shuffled.
    """
    sizes = np.repeat(boxes[:, 2:] - boxes[:, :2], 2, axis=0).reshape(-1, 4)
    jittered = boxes + rng.normal(0, 0.04, size=boxes.shape) * sizes
    scores = np.where(
        rng.random(len(boxes)) < 0.05, rng.uniform(0.5, 0.85, len(boxes)), rng.uniform(0.9, 1.0, len(boxes))
    )
    n_false = int(rng.integers(0, 3))
    corners = np.sort(rng.random((n_false, 2, 2)), axis=1)
    false_boxes = np.concatenate([corners[:, 0], corners[:, 1]], axis=1)
    rows = np.concatenate(
        [
            np.concatenate([jittered, scores[:, None]], axis=1),
            np.concatenate([false_boxes, rng.uniform(0.05, 0.85, (n_false, 1))], axis=1),
        ]
    )
    rows[:, :4] = np.clip(rows[:, :4], 0, 1)
    rows[:, [0, 2]] = np.sort(rows[:, [0, 2]], axis=1)
    rows[:, [1, 3]] = np.sort(rows[:, [1, 3]], axis=1)
    return rows[rng.permutation(len(rows))]


def _normalised(box: np.ndarray, scene: Scene) -> np.ndarray:
    return box / np.array([scene.width, scene.height, scene.width, scene.height])


def _fmt(box: np.ndarray) -> str:
    return ",".join(f"{value:.3f}" for value in box)


def write_pickle(path: Path, value) -> None:
    with open(path, "wb") as file:
        pickle.dump(value, file, protocol=4)


@dataclass
class KeyframeAnnotations:
    """The keyframes of some scenes: `rows` (video, second, normalised box [4], action index,
    entity), `excluded` (video, second) keyframes (unannotated), `proposals` {(video, second):
    float64 [N, 5] normalised} and `labels` (one bool [len(ACTIONS)] per annotated box)."""

    rows: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    proposals: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)


def keyframe_annotations(
    scenes: dict[str, Scene], rng: np.random.Generator, first_second: int
) -> KeyframeAnnotations:
    """Keyframes at whole seconds first_second + 2 .. first_second + duration - 2 (second
    `first_second` = frame 0), labelled with the actions of the segment holding the keyframe. One
    keyframe of ~15% of the videos is listed as excluded and, as in AVA, left unannotated (it
    keeps its proposals): under the reference metric, GT rows on an excluded keyframe would still
    count as misses."""
    found = KeyframeAnnotations()
    for video, scene in scenes.items():
        seconds = range(first_second + 2, first_second + scene.n_frames // scene.fps - 1)
        dropped = int(rng.choice(seconds)) if rng.random() < 0.15 else None
        if dropped is not None:
            found.excluded.append((video, dropped))
        for second in seconds:
            frame = scene.fps * (second - first_second)
            boxes = []
            for entity, person in enumerate(scene.persons):
                box = _normalised(person_box(person, frame, scene.width, scene.height), scene)
                boxes.append(np.round(box, 3))
                if second == dropped:
                    continue
                actions = person.segment_at(frame).actions
                found.rows += [
                    (video, second, box, ACTIONS.index(a), entity) for a in sorted(actions, key=ACTIONS.index)
                ]
                found.labels.append(np.isin(ACTIONS, list(actions)))
            found.proposals[video, second] = noisy_proposals(np.array(boxes), rng)
    return found


def write_ava_annotations(
    scenes: dict[str, Scene], root: Path, split: str, rng: np.random.Generator
) -> list[np.ndarray]:
    """CSV, exclusions, label maps and proposals of one AVA split (`keyframe_annotations` from
    second 900 = img_00001); returns the label rows of its annotated boxes."""
    found = keyframe_annotations(scenes, rng, AVA_FIRST_SECOND)
    rows = [
        f"{video},{second:04d},{_fmt(box)},{action + 1},{entity}"
        for video, second, box, action, entity in found.rows
    ]
    proposals = {f"{video},{second:04d}": value for (video, second), value in found.proposals.items()}
    label_map = "".join(
        f'item {{\n  name: "{name}"\n  id: {index + 1}\n}}\n' for index, name in enumerate(ACTIONS)
    )
    for version in AVA_VERSIONS:
        files = ava_files(root, split, version)
        files.annotations.parent.mkdir(parents=True, exist_ok=True)
        files.annotations.write_text("\n".join(rows) + "\n")
        files.exclusions.write_text("".join(f"{video},{second:04d}\n" for video, second in found.excluded))
        files.label_map.write_text(label_map)
        write_pickle(files.proposals, proposals)  # same name in both versions
    return found.labels


def write_multisports_annotations(
    scenes: dict[str, Scene], root: Path, split: str, rng: np.random.Generator
) -> tuple[dict, list[np.ndarray]]:
    """CSV and proposals of one MultiSports split; returns (GT tubes, one-hot label rows).

    Every (person, action segment) is a tube with one label, annotated on all its frames;
    CSV rows follow the reference conversion (`parse_anno.py`): `<video>.mp4,frame,box/(w,h),
    label,entity` with entity counting tubes per (video, label).
    """
    rows, proposals, tubes, labels = [], {}, {}, []
    for video, scene in scenes.items():
        per_label = tubes[video] = scene_tubes(scene)
        frame_boxes: dict[int, list] = {}
        for label, label_tubes in per_label.items():
            for entity, tube in enumerate(label_tubes):
                for frame, *box in tube:
                    box = _normalised(np.array(box), scene)
                    rows.append(f"{video}.mp4,{int(frame)},{_fmt(box)},{label},{entity}")
                    frame_boxes.setdefault(int(frame), []).append(np.round(box, 3))
                    labels.append(np.arange(len(ACTIONS)) == label)
        for frame, boxes in sorted(frame_boxes.items()):
            proposals[f"{video}.mp4,{frame:04d}"] = noisy_proposals(np.array(boxes), rng)
    files = multisports_files(root, split)
    files.annotations.parent.mkdir(parents=True, exist_ok=True)
    files.annotations.write_text("\n".join(rows) + "\n")
    write_pickle(files.proposals, proposals)
    return tubes, labels


def scene_tubes(scene: Scene) -> dict[int, list[np.ndarray]]:
    """Every (person, action segment) of a single-label scene as a tube: {label index: [float32
    [n, 5] (1-based frame, x1, y1, x2, y2 in pixels)]}."""
    per_label: dict[int, list] = {}
    for person in scene.persons:
        for segment in person.segments:
            label = ACTIONS.index(next(iter(segment.actions)))
            frames = np.arange(segment.start, segment.end)
            boxes = np.stack([person_box(person, f, scene.width, scene.height) for f in frames])
            per_label.setdefault(label, []).append(
                np.concatenate([frames[:, None] + 1, boxes], axis=1).astype(np.float32)
            )
    return per_label


def tube_gt(scenes: dict[str, dict[str, Scene]], tubes: dict) -> dict:
    """The gt pickle's dict (MultiSports' keys, ACT's layout): labels, train/test video lists,
    nframes, resolution (h, w), gttubes {video: {label: [float32 [n, 5] (frame, x1, y1, x2, y2)]}}."""
    every = {video: scene for split in scenes.values() for video, scene in split.items()}
    return {
        "labels": list(ACTIONS),
        "train_videos": [list(scenes["train"])],
        "test_videos": [list(scenes["val"])],
        "nframes": {video: scene.n_frames for video, scene in every.items()},
        "resolution": {video: (scene.height, scene.width) for video, scene in every.items()},
        "gttubes": tubes,
    }


def write_multisports_gt(root: Path, scenes: dict[str, dict[str, Scene]], tubes: dict) -> None:
    """`annotations/multisports_GT.pkl` (`tube_gt`)."""
    write_pickle(multisports_files(root, "val").gt_pickle, tube_gt(scenes, tubes))
