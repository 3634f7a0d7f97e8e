"""A small seeded synthetic dataset in the AVA or MultiSports layout, readable by `build_dataset`.

`generate(out_dir, kind="ava")` writes `rawframes/`, `annotations/` and `synthetic_info.json`
(parameters, class names and the chance-level frame-mAP of the val split) into `out_dir`;
`python -m slowbench.data.synthetic --out DIR` does the same from the command line. With
`fmt="mp4"` the videos are written as H.264 files instead of frame folders: MultiSports'
`trainval/<sport>/<video>.mp4` (read directly), AVA's `videos/<video>.mp4` (extract them with
`python -m slowbench.data.extract_frames` before training, as with the real movies).
`kind="ava-kinetics"` writes what `python -m slowbench.data.prepare_ava_kinetics` reads: an AVA
root in `ava/` (frame folders), Kinetics-style videos in `kinetics700/` and the annotation
release in `ava_kinetics_v1_0/` (see `kinetics_release`). `kind="custom"` (the AVA task) and
`kind="tubes"` (the MultiSports task) write a user's own data at 25 fps with its `dataset.toml`
(see `custom_layouts`).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

import eval.ava
from eval.ap import precision_recall, voc_ap
from eval.atomic import atomic_folder
from eval.fork_map import usable_cpus
from slowbench.errors import DataError, InputError, first_line

from ..dataset_files import ava_files
from .custom_layouts import (
    CUSTOM_FPS,
    FRAME_NAME,
    UCF_FRAME_NAME,
    custom_layout,
    custom_video_names,
    ucf_video_names,
    write_custom_annotations,
    write_ucf_tubes,
)
from .kinetics_release import SECONDS, VIDEOS_DIR, video_name, write_kinetics_annotations, youtube_id
from .scene import ACTIONS, FPS, make_scene
from .writers import (
    write_ava_annotations,
    write_frames,
    write_multisports_annotations,
    write_multisports_gt,
    write_video,
)

INFO_FILE = "synthetic_info.json"
KINDS = ("ava", "multisports", "ava-kinetics", "custom", "tubes")
FORMATS = ("frames", "mp4")
AVA_DIR = "ava"  # the AVA root inside an "ava-kinetics" dataset
KINETICS_FIRST_INDEX = 1_000_000  # scene seeds of Kinetics videos, apart from the AVA ones
# 2: bigger persons, chance from the AVA evaluator; 3: wider stripes, thicker arm, uniform sensor
# noise, excluded keyframes unannotated
FORMAT_VERSION = 3
MAX_WORKERS = 8
PARALLEL_FROM_VIDEOS = 32  # below this, starting worker processes costs more than it saves


def read_info(root) -> dict:
    """The `synthetic_info.json` of the dataset at `root`: {"params", "classes", "chance_frame_mAP",
    "gt_boxes"}. A file that is not one (damaged, edited) is a DataError naming it."""
    path = Path(root) / INFO_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DataError(f"{path}: cannot be read as JSON ({first_line(error)})") from None
    checks = {
        "params": lambda value: isinstance(value, dict),
        "classes": lambda value: isinstance(value, list) and value and all(isinstance(c, str) for c in value),
        "chance_frame_mAP": lambda value: type(value) in (int, float) and 0 <= value <= 1,
        "gt_boxes": lambda value: isinstance(value, dict),
    }
    bad = [key for key, check in checks.items() if not isinstance(info, dict) or not check(info.get(key))]
    if bad:
        raise DataError(
            f"{path}: not a synthetic dataset's info file (bad or missing {', '.join(bad)}); "
            "delete the dataset and generate it again"
        )
    return info


def chance_frame_map(labels: list[np.ndarray], *, draws: int = 50, seed: int = 0) -> float:
    """Frame-mAP of chance: every GT box detected exactly and scored at random for every class.

    labels: one bool [len(ACTIONS)] row per GT box. The mean over `draws` random rankings of the
    per-class VOC AP (`eval.ap`), averaged over the classes that have positives. It is above the
    class frequency for small sets (the AP envelope favours a lucky early hit).
    """
    matrix = np.array(labels, dtype=bool).reshape(-1, len(ACTIONS))
    present = np.flatnonzero(matrix.any(axis=0))
    rng = np.random.default_rng(seed)
    aps = []
    for _ in range(draws):
        order = rng.permutation(len(matrix))
        for column in present:
            ranked = matrix[order, column]
            aps.append(voc_ap(*precision_recall(ranked, ranked.sum())))
    return float(np.mean(aps))


def chance_ava_map(root: Path, split: str = "val", *, draws: int = 30, seed: int = 0) -> float:
    """`chance_keyframe_map` of the AVA-layout split at `root`."""
    files = ava_files(root, split, "2.1")
    gt = eval.ava.read_csv_gt(files.annotations)
    label_map = eval.ava.read_label_map(files.label_map)
    excluded = eval.ava.read_exclusions(files.exclusions)
    return chance_keyframe_map(gt, label_map, excluded, draws=draws, seed=seed)


def chance_keyframe_map(gt, label_map: dict, excluded, *, draws: int = 30, seed: int = 0) -> float:
    """AVA frame-mAP of chance as `eval.ava` computes it: every GT box detected exactly and scored
    at random for every class, averaged over `draws`. Unlike `chance_frame_map` it counts the hits
    that overlapping persons (IoU >= 0.5) lend each other, so it is the floor a model must beat.
    """
    boxes = gt.drop_duplicates(["video", "timestamp", "x1", "y1", "x2", "y2"])
    every_class = boxes.drop(columns=["action", "person"]).merge(
        pd.DataFrame({"action": sorted(label_map)}), how="cross"
    )
    rng = np.random.default_rng(seed)
    return float(
        np.mean(
            [
                eval.ava.evaluate(
                    gt, every_class.assign(score=rng.random(len(every_class))), label_map, excluded
                )["mAP"]
                for _ in range(draws)
            ]
        )
    )


def _video_names(kind: str, first: int, count: int) -> list[str]:
    if kind == "ava":
        return [f"synth{index:06d}" for index in range(first, first + count)]  # 11 chars, as AVA ids
    if kind == "custom":
        return custom_video_names(first, count)
    if kind == "tubes":
        return ucf_video_names(first, count)
    return [f"synthetic_sport/v_synth{index:06d}" for index in range(first, first + count)]


@dataclass(frozen=True)
class _Spec:
    """What a generated dataset is made of: `generate`'s arguments, the frame rate resolved."""

    seed: int
    videos: int
    val_videos: int
    seconds: int
    width: int
    height: int
    persons: tuple[int, int]
    fmt: str
    fps: int


def _scenes(kind: str, names: list[str], first: int, spec: _Spec) -> dict:
    scenes = {}
    for offset, name in enumerate(names):
        # One generator per video: a video does not change when more videos are asked for.
        rng = np.random.default_rng([spec.seed, first + offset])
        scenes[name] = make_scene(
            rng,
            width=spec.width,
            height=spec.height,
            n_frames=spec.seconds * spec.fps,
            persons=spec.persons,
            multilabel=kind in ("ava", "custom"),
            fps=spec.fps,
        )
    return scenes


def _check(
    kind: str,
    fmt: str,
    videos: int,
    val_videos: int,
    seconds: int,
    width: int,
    height: int,
    persons: tuple[int, int],
    fps: int | None,
) -> None:
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {FORMATS}, got {fmt!r}")
    if kind == "ava-kinetics" and fmt != "frames":
        raise InputError(
            "format: ava-kinetics writes AVA frame folders and Kinetics mp4 videos; it takes no other format"
        )
    if kind == "tubes" and fmt != "frames":
        raise InputError(
            "format: tubes writes UCF101-24's rgb-images/ frame folders; it takes no other format"
        )
    if (fmt == "mp4" or kind == "ava-kinetics") and (width % 2 or height % 2):
        raise InputError(f"mp4 (yuv420p) needs an even width and height, got {width}x{height}")
    if videos < 1 or val_videos < 1:
        raise InputError(f"videos ({videos}) and val_videos ({val_videos}) must be >= 1")
    if seconds < 5:
        raise InputError(f"seconds must be >= 5 (keyframes need 2 s on each side), got {seconds}")
    if width < 48 or height < 48:
        raise InputError(f"frames must be at least 48x48, got {width}x{height}")
    if not 1 <= persons[0] <= persons[1]:
        raise InputError(f"persons must be 1 <= min <= max, got {persons}")
    if fps is not None and (kind not in ("custom", "tubes") or fps < 1):
        raise InputError(f"fps: the custom and tubes kinds take a frame rate >= 1, not {kind} {fps}")


def generate(
    out_dir,
    kind: str = "ava",
    seed: int = 0,
    *,
    videos: int = 24,
    val_videos: int = 8,
    seconds: int = 10,
    width: int = 128,
    height: int = 96,
    persons: tuple[int, int] = (2, 4),
    fmt: str = "frames",
    fps: int | None = None,
    progress: bool = True,
) -> Path:
    """Writes the dataset into `out_dir` (created atomically) and returns its path.

    AVA kind: `videos` train and `val_videos` val videos of `seconds` s at 30 fps, keyframes every
    second from 902 to 900 + seconds - 2, multi-label actions, in the AVA v2.1 and v2.2 file names.
    MultiSports kind: single-label action tubes annotated on every frame. An `out_dir` that already
    holds a dataset generated with the same arguments is reused; any other non-empty one is an error.
    `fmt` "frames" writes JPEG frame folders, "mp4" H.264 files (see the module docstring). `fps`
    (custom and tubes kinds only, default 25): the frame rate the same scenes are rendered at.
    """
    persons = tuple(persons)
    _check(kind, fmt, videos, val_videos, seconds, width, height, persons, fps)
    out_dir = Path(out_dir)
    params = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "seed": seed,
        "videos": videos,
        "val_videos": val_videos,
        "seconds": seconds,
        "width": width,
        "height": height,
        "persons": list(persons),
    }
    if fmt != "frames":  # only then: datasets written before the option existed stay reusable
        params["format"] = fmt
    if fps is not None:
        params["fps"] = fps
    if (out_dir / INFO_FILE).is_file():
        info = read_info(out_dir)
        if info["params"] == params:
            return out_dir
        raise DataError(
            f"{out_dir}: holds a synthetic dataset made with other arguments "
            f"({info.get('params')}); delete it or choose another --out"
        )
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise DataError(f"{out_dir}: exists and is not empty; delete it or choose another --out")
    rate = fps or (CUSTOM_FPS if kind in ("custom", "tubes") else FPS)
    spec = _Spec(seed, videos, val_videos, seconds, width, height, persons, fmt, rate)
    with atomic_folder(out_dir) as staging:
        info = _write(staging, params, kind, spec, progress)
        (staging / INFO_FILE).write_text(json.dumps(info, indent=1) + "\n")
    return out_dir


def _custom_info(kind: str, scenes: dict, root: Path, params: dict, fmt: str, seed: int) -> dict:
    """Writes the annotations and dataset file of the `custom` / `tubes` kinds; returns the info."""
    if kind == "custom":
        written = write_custom_annotations(scenes, root, fmt, seed)
        counts = written["gt_boxes"]
        chance = chance_keyframe_map(written["chance_gt"], written["label_map"], written["excluded"])
    else:
        counts, val_labels = write_ucf_tubes(scenes, root)
        chance = chance_frame_map(val_labels)
    return {"params": params, "classes": list(ACTIONS), "chance_frame_mAP": chance, "gt_boxes": counts}


def _write_every_video(jobs: list, writer, *, desc: str, progress: bool) -> None:
    """Renders and encodes (scene, path) jobs with `writer`; in one process per core when there
    are many (rendering is pure numpy/Pillow work, ~0.3 s per 10 s video)."""
    workers = min(usable_cpus(), MAX_WORKERS)
    with tqdm(total=len(jobs), desc=desc, unit="video", disable=not progress) as bar:
        if workers == 1 or len(jobs) < PARALLEL_FROM_VIDEOS:
            for job in jobs:
                writer(*job)
                bar.update(1)
            return
        # fork, as torch's DataLoader: spawn would re-run a caller's unguarded script. The children
        # run only numpy arithmetic, Pillow and FFmpeg encoding, none of the thread pools a fork
        # leaves broken.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for future in as_completed([pool.submit(writer, *job) for job in jobs]):
                future.result()
                bar.update(1)


def _write_kinetics_release(root: Path, spec: _Spec, progress: bool) -> dict:
    """Kinetics-style mp4 videos and the annotation release; returns gt boxes per split."""
    first_val = KINETICS_FIRST_INDEX + spec.videos
    sizes = {"train": (KINETICS_FIRST_INDEX, spec.videos), "val": (first_val, spec.val_videos)}
    counts, jobs, splits = {}, [], {}
    for index, (split, (first, count)) in enumerate(sizes.items()):
        rng = np.random.default_rng([spec.seed, 2_000_003, index])
        ids = [youtube_id(i) for i in range(first, first + count)]
        clip = dataclasses.replace(spec, seconds=SECONDS, fps=FPS)  # Kinetics clips: 6 s at 30 fps
        scenes = _scenes("ava", ids, first, clip)
        starts = {scene_id: int(rng.integers(0, 300)) for scene_id in ids}
        jobs += [
            (scene, root / VIDEOS_DIR / f"{video_name(i, starts[i])}.mp4") for i, scene in scenes.items()
        ]
        splits[split] = (scenes, starts, rng)
    _write_every_video(jobs, write_video, desc="synthetic Kinetics videos", progress=progress)
    for split, (scenes, starts, rng) in splits.items():
        counts[split] = len(write_kinetics_annotations(scenes, starts, root, split, rng))
    return counts


def _write(root: Path, params: dict, kind: str, spec: _Spec, progress: bool) -> dict:
    if kind == "ava-kinetics":
        info = _write(root / AVA_DIR, params, "ava", dataclasses.replace(spec, fmt="frames"), progress)
        info["kinetics_gt_boxes"] = _write_kinetics_release(root, spec, progress)
        return info
    sizes = {"train": (0, spec.videos), "val": (spec.videos, spec.val_videos)}
    scenes = {
        split: _scenes(kind, _video_names(kind, first, count), first, spec)
        for split, (first, count) in sizes.items()
    }
    fmt, seed = spec.fmt, spec.seed
    every = [(scene, name) for split_scenes in scenes.values() for name, scene in split_scenes.items()]
    if fmt == "mp4":
        folder = root / ("trainval" if kind == "multisports" else "videos")
        jobs, writer = [(scene, folder / f"{name}.mp4") for scene, name in every], write_video
    else:
        folder, frame_name = {
            "custom": (custom_layout(root, fmt)[0], FRAME_NAME),
            "tubes": (root / "rgb-images", UCF_FRAME_NAME),
        }.get(kind, (root / "rawframes", "img_{:05d}.jpg"))
        jobs, writer = (
            [(scene, folder / name) for scene, name in every],
            partial(write_frames, name=frame_name),
        )
    _write_every_video(jobs, writer, desc=f"synthetic {kind} {fmt}", progress=progress)
    if kind in ("custom", "tubes"):
        return _custom_info(kind, scenes, root, params, fmt, seed)
    labels, tubes = {}, {}
    for index, (split, split_scenes) in enumerate(scenes.items()):
        rng = np.random.default_rng([seed, 1_000_003, index])
        if kind == "ava":
            labels[split] = write_ava_annotations(split_scenes, root, split, rng)
        else:
            split_tubes, labels[split] = write_multisports_annotations(split_scenes, root, split, rng)
            tubes.update(split_tubes)
    if kind == "multisports":
        write_multisports_gt(root, scenes, tubes)
    chance = chance_ava_map(root) if kind == "ava" else chance_frame_map(labels["val"])
    return {
        "params": params,
        "classes": list(ACTIONS),
        "chance_frame_mAP": chance,
        "gt_boxes": {split: len(split_labels) for split, split_labels in labels.items()},
    }
