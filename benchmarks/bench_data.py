"""Clip loading speed per worker at real AVA sizes: faithful and fast paths against mmaction2's.

    python -m pytest benchmarks/bench_data.py --benchmark-only

Frames: 1280x720 JPEGs (quality 90; AVA frames are extracted at the movies' 720p+ resolution),
a pan over a natural photograph (matplotlib's sample `grace_hopper.jpg`, upscaled).
One clip = one `DetectionDataset.__getitem__` (4x16 and 16x4; train: random short side 256-320,
256 crop, flip; test: short side 256), on one core (torch and OpenCV limited to one thread each,
as in a DataLoader worker under mmaction2's `opencv_num_threads=0`).

Baseline, measured in the same run: mmaction2's per-sample pipeline done its own way, the same
OpenCV calls per frame (`RawFrameDecode`: read, `cv2.imdecode`, in-place `cvtColor` to RGB, its
duplicate-frame cache; `RandomRescale`/`Resize`: `cv2.resize` of every full frame; `RandomCrop`:
slices; `Flip`: `cv2.flip`; `FormatShape`: `np.array` + transpose). Asserted goal: the faithful
path (the same pixels) is at least as fast, in CPU seconds, best of N rounds each. The fast
path's speed-up and its pixel difference from the faithful clip (same frames, same draws) are in
`extra_info` (clips/s there are per worker, from CPU seconds).
"""

from __future__ import annotations

import pickle
import time
from functools import partial
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from slowbench.data import PipelineConfig, build_dataset, dataset_files
from slowbench.model_zoo import get_row

N_FRAMES = 100
FRAME_SIZE = (1280, 720)


def _write_layout(root):
    row = get_row("ava21-k400-r50-4x16")
    for split in ("train", "val"):
        files = dataset_files(row, root, split)
        files.annotations.parent.mkdir(parents=True, exist_ok=True)
        files.annotations.write_text("bench_video,0902,0.2,0.2,0.6,0.9,12,0\n")
        files.proposals.write_bytes(
            pickle.dumps(
                {"bench_video,0902": np.array([[0.21, 0.19, 0.62, 0.88, 0.99], [0.5, 0.1, 0.8, 0.7, 0.95]])}
            )
        )
    folder = files.frames / "bench_video"
    folder.mkdir(parents=True)
    width, height = FRAME_SIZE
    with Image.open(Path(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")) as photo:
        tall = photo.convert("RGB").resize((width, width * photo.height // photo.width), Image.LANCZOS)
    for number in range(1, N_FRAMES + 1):  # a slow vertical pan over the photograph
        top = (7 * number) % (tall.height - height)
        tall.crop((0, top, width, top + height)).save(folder / f"img_{number:05d}.jpg", quality=90)
    return row


def _mmaction2_clip(dataset, index):
    """mmaction2's RawFrameDecode -> RandomRescale/Resize -> RandomCrop -> Flip -> FormatShape."""
    keyframe = dataset.keyframes[index]
    paths = dataset.frames.paths(keyframe.video, dataset.frame_indices(keyframe))
    imgs, cache = [], {}
    for i, path in enumerate(paths):
        if path in cache:
            imgs.append(imgs[cache[path]].copy())
            continue
        cache[path] = i
        with open(path, "rb") as file:
            img = cv2.imdecode(np.frombuffer(file.read(), np.uint8), cv2.IMREAD_COLOR)
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
        imgs.append(img)
    height, width = imgs[0].shape[:2]
    geometry = dataset.geometry(width, height)
    imgs = [cv2.resize(img, geometry.resized, interpolation=cv2.INTER_LINEAR) for img in imgs]
    x, y, w, h = geometry.crop
    imgs = [img[y : y + h, x : x + w] for img in imgs]
    if geometry.flipped:
        for img in imgs:
            cv2.flip(img, 1, img)
    # FormatShape stacks and transposes; its reshape only merges unit axes, so no copy follows.
    return torch.from_numpy(np.array(imgs).transpose(3, 0, 1, 2))


def _best_cpu_seconds(first, second, rounds):
    """Best-of-`rounds` CPU seconds of two loaders run in turns (alternating which goes first).

    CPU time of this process, not wall time: on a shared machine wall time counts other jobs'
    time slices, and each loader here runs on one thread, so its CPU time is its cost per worker.
    """
    times = {first: [], second: []}
    for index in range(rounds):
        for fn in (first, second) if index % 2 == 0 else (second, first):
            start = time.process_time()
            fn()
            times[fn].append(time.process_time() - start)
    return min(times[first]), min(times[second])


def _same_draws(dataset, seed):
    torch.manual_seed(seed)
    return dataset[0]["clip"].numpy().astype(np.int16)


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench_data")
    return _write_layout(root), root


@pytest.fixture
def one_core():
    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv_threads)


@pytest.mark.parametrize("split", ["train", "val"])
@pytest.mark.parametrize("clip", ["4x16", "16x4"])
def test_clip_loading_speed(benchmark, layout, one_core, split, clip):
    row, root = layout
    clip_len, interval = map(int, clip.split("x"))
    config = PipelineConfig(clip_len=clip_len, frame_interval=interval)
    faithful = build_dataset(row, root, split, config)
    fast = build_dataset(row, root, split, config.replace(fast_decode=True))
    torch.manual_seed(0)
    expected = _mmaction2_clip(faithful, 0)
    torch.manual_seed(0)
    assert torch.equal(faithful[0]["clip"], expected)  # same pixels, same draws
    rounds = 24 if clip_len == 4 else 16
    baseline, ours = _best_cpu_seconds(
        partial(_mmaction2_clip, faithful, 0), partial(faithful.__getitem__, 0), rounds
    )
    _, fast_s = _best_cpu_seconds(partial(faithful.__getitem__, 0), partial(fast.__getitem__, 0), rounds)
    benchmark.pedantic(faithful.__getitem__, args=(0,), rounds=rounds, iterations=1, warmup_rounds=1)
    ratio, fast_ratio = baseline / ours, ours / fast_s
    difference = np.abs(_same_draws(faithful, 1) - _same_draws(fast, 1))
    benchmark.extra_info.update(
        {
            "frames": f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}",
            "clip": clip,
            "split": split,
            "faithful_clips_per_s": round(1 / ours, 2),
            "mmaction2_clips_per_s": round(1 / baseline, 2),
            "fast_clips_per_s": round(1 / fast_s, 2),
            "faithful_vs_mmaction2": round(ratio, 3),
            "fast_vs_faithful": round(fast_ratio, 2),
            "fast_max_abs_diff": int(difference.max()),
            "fast_mean_abs_diff": round(float(difference.mean()), 2),
            "fast_values_differing": round(float((difference > 0).mean()), 3),
        }
    )
    print(
        f"\n{split} {clip} @ 720p, clips/s per worker: faithful {1 / ours:.1f}, mmaction2 "
        f"{1 / baseline:.1f} (faithful x{ratio:.3f}), fast {1 / fast_s:.1f} (x{fast_ratio:.2f} "
        f"faithful); fast-vs-faithful pixels: max {difference.max()}, mean "
        f"{difference.mean():.2f}, {100 * (difference > 0).mean():.0f}% differ"
    )
    assert ratio >= 1.0


# --- MultiSports from mp4 files: the seeking video reader against frame folders and a full decode.

VIDEO_FRAMES = 300  # 12 s at 25 fps
VIDEO_KEYFRAME_EVERY = 50  # 2 s GOPs, as common in downloaded (YouTube) H.264
VIDEO_CENTRE = 250  # the annotated frame (1-based): clips lie in the video's last GOPs


def _write_multisports_video_layouts(root: Path):
    """Two MultiSports roots holding the same 720p video: `video/` as `trainval/bench/v.mp4`,
    `frames/` as its extracted `rawframes/bench/v/img_%05d.jpg` (the same decoded frames)."""
    from slowbench.data.extract_frames import extract_video
    from slowbench.data.video_writer import encode_video

    row = get_row("multisports-k400-r50-4x16")
    width, height = FRAME_SIZE
    with Image.open(Path(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")) as photo:
        tall = photo.convert("RGB").resize((width, width * photo.height // photo.width), Image.LANCZOS)
    pan = (
        np.asarray(tall.crop((0, top, width, top + height)))
        for top in (3 * number % (tall.height - height) for number in range(VIDEO_FRAMES))
    )
    video = root / "video" / "trainval" / "bench" / "v.mp4"
    video.parent.mkdir(parents=True)
    encode_video(
        video, pan, 25, options={"crf": "20", "preset": "fast", "bf": "2", "g": str(VIDEO_KEYFRAME_EVERY)}
    )
    extract_video(video, root / "frames" / "rawframes" / "bench" / "v")
    for layout in ("video", "frames"):
        for split in ("train", "val"):
            files = dataset_files(row, root / layout, split)
            files.annotations.parent.mkdir(parents=True, exist_ok=True)
            files.annotations.write_text(f"bench/v.mp4,{VIDEO_CENTRE},0.2,0.2,0.6,0.9,3,0\n")
            files.proposals.write_bytes(
                pickle.dumps({f"bench/v.mp4,{VIDEO_CENTRE:04d}": np.array([[0.21, 0.19, 0.62, 0.88, 0.99]])})
            )
    return row


def _decode_from_start_clip(dataset, index):
    """The no-seeking baseline: decode the video from its first frame up to the clip's last
    frame, then the same resize / crop / flip."""
    from slowbench.data.resize_crop_flip import resize_crop_flip
    from slowbench.data.video_reader import VideoReader

    keyframe = dataset.keyframes[index]
    source = dataset.frames.videos
    wanted = np.clip(dataset.frame_indices(keyframe), 0, source.count(keyframe.video) - 1)
    frames = {}
    for position, frame in VideoReader(
        source.location(keyframe.video), source.index(keyframe.video)
    ).iter_frames(0):
        if position in wanted:
            frames[position] = frame
        if position == wanted.max():
            break
    geometry = dataset.geometry(*FRAME_SIZE)
    return resize_crop_flip([frames[i] for i in wanted], geometry)


@pytest.fixture(scope="module")
def video_layouts(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench_video")
    return _write_multisports_video_layouts(root), root


@pytest.mark.parametrize("clip", ["4x16", "16x4"])
def test_video_clip_loading_speed(benchmark, video_layouts, one_core, clip):
    row, root = video_layouts
    clip_len, interval = map(int, clip.split("x"))
    config = PipelineConfig(clip_len=clip_len, frame_interval=interval)
    from_video = build_dataset(row, root / "video", "val", config)
    from_frames = build_dataset(row, root / "frames", "val", config)
    assert type(from_video.frames._source("bench/v.mp4")).__name__ == "VideoFiles"
    assert np.array_equal(from_video[0]["meta"]["frame_inds"], from_frames[0]["meta"]["frame_inds"])
    assert np.array_equal(
        from_video[0]["clip"].permute(1, 2, 3, 0).numpy(), _decode_from_start_clip(from_video, 0)
    )
    rounds = 8
    full, seeking = _best_cpu_seconds(
        partial(_decode_from_start_clip, from_video, 0), partial(from_video.__getitem__, 0), rounds
    )
    _, folders = _best_cpu_seconds(
        partial(from_video.__getitem__, 0), partial(from_frames.__getitem__, 0), rounds
    )
    benchmark.pedantic(from_video.__getitem__, args=(0,), rounds=rounds, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(
        {
            "frames": f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}",
            "clip": clip,
            "video": f"H.264, {VIDEO_FRAMES} frames, keyframe every {VIDEO_KEYFRAME_EVERY}",
            "mp4_clips_per_s": round(1 / seeking, 2),
            "frame_folder_clips_per_s": round(1 / folders, 2),
            "decode_from_start_clips_per_s": round(1 / full, 2),
            "seeking_vs_decode_from_start": round(full / seeking, 2),
            "mp4_vs_frame_folders": round(folders / seeking, 3),
        }
    )
    print(
        f"\nMultiSports val {clip} @ 720p, clips/s per worker: mp4 (seeking) {1 / seeking:.1f}, "
        f"frame folders {1 / folders:.1f}, mp4 decoded from the start {1 / full:.1f} "
        f"(seeking x{full / seeking:.2f})"
    )
    # Frames 218-266 (4x16) or 218-278 (16x4) of 300: seeking decodes from keyframe 200 only.
    assert full / seeking >= 2.0
