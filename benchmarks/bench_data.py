"""Clip loading speed: decode + reference train augmentation, against a naive pipeline.

    python -m pytest benchmarks/bench_data.py --benchmark-only

Frames are smooth random textures saved as JPEG (quality 90) at 640x360 and 1280x720 (AVA
source videos are mostly 360p-720p+). One "clip" = one `DetectionDataset.__getitem__` in train
mode (4x16 and 16x4, random short side 256-320, 256 crop, flip). The naive baseline decodes
every sampled frame at full size (even repeated ones), converts to float and resizes with
`torch.nn.functional.interpolate`, then crops, as a straightforward torch pipeline would.
The asserted goal: the dataset loads clips at least 2x (720p) / 1.3x (360p) as fast.
"""
from __future__ import annotations

import pickle
import statistics
import time

import numpy as np
import pytest
import torch
from PIL import Image

from slowbench.data import PipelineConfig, build_dataset, dataset_files
from slowbench.zoo import get_row

N_FRAMES = 130


def _write_layout(root, size):
    row = get_row("ava21-k400-r50-4x16")
    files = dataset_files(row, root, "train")
    files.annotations.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    folder = files.frames / "bench_video"
    folder.mkdir(parents=True)
    for number in range(1, N_FRAMES + 1):
        low = rng.integers(0, 255, (size[1] // 24, size[0] // 24, 3), dtype=np.uint8)
        image = Image.fromarray(low).resize(size, Image.BICUBIC)
        noisy = np.asarray(image, dtype=np.int16) + rng.integers(-6, 7, (size[1], size[0], 3))
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(
            folder / f"img_{number:05d}.jpg", quality=90)
    files.annotations.write_text("".join(
        f"bench_video,{second:04d},0.2,0.2,0.6,0.9,12,0\n" for second in (902, 903)))
    files.proposals.write_bytes(pickle.dumps({}))
    return row


def _naive_clip(dataset, index):
    """Full-size decode of every sampled frame, float resize, crop, flip: the baseline."""
    keyframe = dataset.keyframes[index]
    paths = dataset.frames.paths(keyframe.video, dataset.frame_indices(keyframe))
    frames = torch.stack([torch.from_numpy(np.array(Image.open(p).convert("RGB"))) for p in paths])
    height, width = frames.shape[1:3]
    geometry = dataset.geometry(width, height)
    clip = frames.permute(3, 0, 1, 2).float()  # [3, T, H, W]
    clip = torch.nn.functional.interpolate(clip, size=geometry.resized[::-1], mode="bilinear",
                                           align_corners=False)
    x, y, w, h = geometry.crop
    clip = clip[:, :, y:y + h, x:x + w]
    if geometry.flipped:
        clip = clip.flip(-1)
    return clip.round().clamp(0, 255).to(torch.uint8)


def _median_seconds(fn, rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@pytest.mark.parametrize("frame_size, goal", [((640, 360), 1.3), ((1280, 720), 2.0)],
                         ids=["360p", "720p"])
@pytest.mark.parametrize("clip", ["4x16", "16x4"])
def test_clip_loading_speed(benchmark, tmp_path, frame_size, goal, clip):
    clip_len, interval = map(int, clip.split("x"))
    row = _write_layout(tmp_path, frame_size)
    pipeline = PipelineConfig(clip_len=clip_len, frame_interval=interval, fast_decode=True)
    dataset = build_dataset(row, tmp_path, "train", pipeline)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one DataLoader worker's view
    try:
        _measure(benchmark, dataset, frame_size, goal, clip, clip_len)
    finally:
        torch.set_num_threads(threads)


def _measure(benchmark, dataset, frame_size, goal, clip, clip_len):
    torch.manual_seed(0)
    sample = dataset[0]
    assert sample["clip"].shape == (3, clip_len, 256, 256)
    assert _naive_clip(dataset, 0).shape == sample["clip"].shape
    rounds = 12 if clip_len == 4 else 5
    baseline = _median_seconds(lambda: _naive_clip(dataset, 0), rounds)
    benchmark.pedantic(dataset.__getitem__, args=(0,), rounds=rounds, iterations=1,
                       warmup_rounds=1)
    ours = benchmark.stats.stats.median
    ratio = baseline / ours
    benchmark.extra_info.update({
        "frame_size": f"{frame_size[0]}x{frame_size[1]}", "clip": clip,
        "clips_per_s": round(1 / ours, 2), "naive_clips_per_s": round(1 / baseline, 2),
        "speedup": round(ratio, 2), "goal": goal})
    print(f"\n{clip} @ {frame_size}: {1 / ours:.1f} clips/s vs naive {1 / baseline:.1f} "
          f"clips/s (x{ratio:.2f})")
    assert ratio >= goal
