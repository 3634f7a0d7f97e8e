"""MultiSports from mp4 files: the same clips (frame indices, boxes, geometry) as from frame
folders, pixels from the video reader, and per-video choice of the source."""

import dataclasses
import shutil

import numpy as np
import pytest
import torch
from data_helpers import MULTISPORTS_ROW

from slowbench.data import PipelineConfig, build_dataset
from slowbench.data.resize_crop_flip import resize_crop_flip
from slowbench.data.video_files import VideoFiles
from slowbench.data.video_reader import VideoReader

PIPELINE = PipelineConfig(
    clip_len=4, frame_interval=16, train_scale=(64, 80), crop_size=64, test_short_side=64, flip=True
)
ROW = dataclasses.replace(MULTISPORTS_ROW, num_classes=7)  # the synthetic actions


def _pair(frames_root, video_root, split, index, *, seed=0):
    torch.manual_seed(seed)
    from_frames = build_dataset(ROW, frames_root, split, PIPELINE)[index]
    torch.manual_seed(seed)
    from_video = build_dataset(ROW, video_root, split, PIPELINE)[index]
    return from_frames, from_video


@pytest.mark.parametrize("split", ["train", "val"])
def test_video_clips_have_the_frame_folder_indices_and_geometry(
    synthetic_multisports, synthetic_multisports_mp4, split
):
    assert not (synthetic_multisports_mp4 / "rawframes").exists()
    dataset = build_dataset(ROW, synthetic_multisports_mp4, split, PIPELINE)
    for index in (0, 7, len(dataset) // 2, len(dataset) - 1):
        frames, video = _pair(synthetic_multisports, synthetic_multisports_mp4, split, index, seed=index)
        for key in ("frame_inds", "crop", "scale_factor", "flipped", "img_shape", "video"):
            assert np.array_equal(np.asarray(video["meta"][key]), np.asarray(frames["meta"][key]))
        for key in ("proposals", "gt_boxes", "gt_labels"):
            torch.testing.assert_close(video[key], frames[key], rtol=0, atol=0)
        assert video["clip"].shape == frames["clip"].shape
        # Same frames, two codecs (JPEG q90 vs H.264 CRF 17) on noisy synthetic pixels.
        difference = (video["clip"].float() - frames["clip"].float()).abs().mean()
        assert difference < 12


def test_video_clip_pixels_are_the_readers_frames_resized(synthetic_multisports_mp4):
    dataset = build_dataset(ROW, synthetic_multisports_mp4, "val", PIPELINE)
    sample = dataset[40]
    meta = sample["meta"]
    assert list(meta["frame_inds"]) == [9, 25, 41, 57]  # centre = frame 40, 1-based 41
    reader = VideoReader(dataset.frames.videos.location(meta["video"]))
    expected = resize_crop_flip(reader.frames(meta["frame_inds"] - 1), dataset.geometry(96, 64))
    np.testing.assert_array_equal(sample["clip"].permute(1, 2, 3, 0).numpy(), expected)


def test_each_video_uses_its_video_file_else_its_frames(
    synthetic_multisports, synthetic_multisports_mp4, tmp_path
):
    mixed = tmp_path / "mixed"
    shutil.copytree(synthetic_multisports_mp4, mixed)
    first = sorted(path.relative_to(mixed / "trainval") for path in (mixed / "trainval").rglob("*.mp4"))[0]
    video = str(first.with_suffix(""))
    (mixed / "trainval" / first).unlink()
    shutil.copytree(synthetic_multisports / "rawframes" / video, mixed / "rawframes" / video)
    dataset = build_dataset(ROW, mixed, "train", PIPELINE)
    sources = {k.video: type(dataset.frames._source(k.video)) for k in dataset.keyframes}
    assert sources[f"{video}.mp4"].__name__ == "FrameFolders"
    assert {s.__name__ for v, s in sources.items() if v != f"{video}.mp4"} == {"VideoFiles"}
    assert dataset.frames.location(f"{video}.mp4") == mixed / "rawframes" / video
    # Both kinds of sample load.
    seen = set()
    for index, keyframe in enumerate(dataset.keyframes):
        if sources[keyframe.video] not in seen:
            seen.add(sources[keyframe.video])
            assert dataset[index]["clip"].shape[1] == 4
    assert len(seen) == 2


def test_video_index_is_read_once_per_video(synthetic_multisports_mp4, monkeypatch):
    reads = []
    real = VideoFiles.index
    monkeypatch.setattr(VideoFiles, "index", lambda self, video: reads.append(video) or real(self, video))
    dataset = build_dataset(ROW, synthetic_multisports_mp4, "val", PIPELINE)
    for index in range(0, len(dataset), 30):
        dataset[index]
    assert len(set(reads)) == 1 and len(dataset.frames.videos._indexes) == 1
