"""The reading rules of a dataset file, against hand-made files: fractional timestamps, fps and
timestamp_start, non-contiguous label ids, both box conventions, classes (mmaction2's
custom_classes), `proposals = "gt"`, and frames and videos giving the same clips."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from custom_dataset import FRAMES, SIZE, grey_level, write_dataset
from data_helpers import Row

from slowbench.data import DataError, PipelineConfig, build_dataset
from slowbench.data.dataset_file import read_dataset_file
from slowbench.data.dataset_split import load_dataset_split, tube_keyframes
from slowbench.data.frame_template import FrameTemplate, VideoTemplate
from slowbench.data.video_reader import VideoReader
from slowbench.data.video_writer import encode_video

PIPELINE = PipelineConfig(clip_len=4, frame_interval=16, test_short_side=48)


def keyframes_of(spec, split="train"):
    dataset = load_dataset_split(spec, split, PIPELINE, test_mode=True)
    return {keyframe.img_key: keyframe for keyframe in dataset.keyframes}, dataset


def test_fps_and_timestamp_start_place_the_clip_in_frames(tmp_path):
    spec = read_dataset_file(write_dataset(tmp_path, extra="timestamp_start = 0.5"))
    keyframes, dataset = keyframes_of(spec)
    index = list(keyframes).index("a,0001")
    sample = dataset[index]
    # second 1 at 25 fps from second 0.5: 0-based frame 12.5 -> 12 (ties to even), frame number 13;
    # 4x16 around it: 0-based -20 (clamped to 0), -4 (clamped), 12, 28 -> numbers 1, 1, 13, 29.
    np.testing.assert_array_equal(sample["meta"]["frame_inds"], [1, 1, 13, 29])
    levels = sample["clip"][0, :, 0, 0].numpy()
    np.testing.assert_array_equal(levels, [grey_level(n) for n in (1, 1, 13, 29)])


def test_fractional_timestamps_take_the_nearest_frame(tmp_path):
    spec = read_dataset_file(write_dataset(tmp_path))
    keyframes, dataset = keyframes_of(spec)
    assert keyframes["a,2.5"].timestamp == 2.5 and keyframes["a,0001"].timestamp == 1
    sample = dataset[list(keyframes).index("a,2.5")]
    # 2.5 s x 25 fps = frame 62.5 -> 62 (ties to even), number 63; the clip reads 31, 47, 63, 79.
    np.testing.assert_array_equal(sample["meta"]["frame_inds"], [31, 47, 63, 79])


def test_non_contiguous_label_ids_become_columns_after_the_background(tmp_path):
    spec = read_dataset_file(write_dataset(tmp_path))
    assert spec.columns.ids == (2, 7, 40) and spec.columns.width == 4
    keyframes, _ = keyframes_of(spec)
    # a,0001: person 0 has labels 2 and 40 (one box, multi-hot), person 1 label 7.
    np.testing.assert_array_equal(keyframes["a,0001"].labels, [[0, 1, 0, 1], [0, 0, 1, 0]])
    np.testing.assert_array_equal(keyframes["b,0002"].labels, [[0, 0, 0, 1]])


def test_pixel_and_normalised_boxes_read_the_same(tmp_path):
    pixels, _ = keyframes_of(read_dataset_file(write_dataset(tmp_path / "px", pixels=True)))
    unit, _ = keyframes_of(read_dataset_file(write_dataset(tmp_path / "unit", pixels=False)))
    assert list(pixels) == list(unit)
    for key in pixels:
        np.testing.assert_allclose(pixels[key].boxes, unit[key].boxes, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(pixels["b,0002"].boxes, [[0.5, 0.5, 1.0, 1.0]])


def test_proposals_gt_are_the_annotated_boxes_with_score_one(tmp_path):
    spec = read_dataset_file(write_dataset(tmp_path, extra='protocol = "activitynet-2020"'))
    keyframes, dataset = keyframes_of(spec, "val")
    for key, keyframe in keyframes.items():
        np.testing.assert_array_equal(dataset.proposals[key][:, :4], keyframe.boxes)
        np.testing.assert_array_equal(dataset.proposals[key][:, 4], 1.0)
    sample = dataset[list(keyframes).index("a,0001")]
    np.testing.assert_array_equal(sample["meta"]["proposals_normalized"], keyframes["a,0001"].boxes)


def test_classes_keep_those_labels_in_the_order_given(tmp_path):
    spec = read_dataset_file(write_dataset(tmp_path, extra="classes = [40, 2]"))
    assert spec.columns.ids == (40, 2) and spec.columns.width == 3
    keyframes, _ = keyframes_of(spec)
    # Label 7's rows are dropped before grouping: its box of a,0001 is gone and a,2.5 (only 7) is
    # no sample, as mmaction2's AVADataset does with custom_classes.
    assert list(keyframes) == ["a,0001", "b,0002"]
    np.testing.assert_array_equal(keyframes["a,0001"].labels, [[0, 1, 1]])
    np.testing.assert_array_equal(keyframes["b,0002"].labels, [[0, 1, 0]])
    assert read_dataset_file(tmp_path / "dataset.toml", classes=(7,)).columns.ids == (7,)


def test_frames_and_videos_give_the_same_clips(tmp_path):
    """A video and its frames extracted losslessly (PNG) are one source: same numbers, same pixels."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(FRAMES, SIZE[1], SIZE[0], 3), dtype=np.uint8)
    video = tmp_path / "videos" / "a.mp4"
    video.parent.mkdir()
    encode_video(video, iter(frames), 25, options={"crf": "17", "g": "25", "bf": "2"})
    decoded = VideoReader(video).frames(np.arange(FRAMES))
    folder = tmp_path / "frames" / "a"
    folder.mkdir(parents=True)
    from PIL import Image

    for number, frame in enumerate(decoded, start=1):
        Image.fromarray(frame).save(folder / f"{number:05d}.png")
    as_frames = FrameTemplate(str(tmp_path / "frames/{video}/{frame:05d}.png"))
    as_video = VideoTemplate(str(tmp_path / "videos/{video}.mp4"))
    assert as_frames.count("a") == as_video.count("a") == FRAMES
    assert as_frames.frame_size("a") == as_video.frame_size("a") == SIZE
    indices = np.array([-5, 0, 31, 62, 99, 140])
    clip_f, shape_f, _, numbers_f = as_frames.read_clip("a", indices, None)
    clip_v, shape_v, _, numbers_v = as_video.read_clip("a", indices, None)
    np.testing.assert_array_equal(numbers_f, [1, 1, 32, 63, 100, 100])
    np.testing.assert_array_equal(numbers_f, numbers_v)
    assert shape_f == shape_v == (SIZE[1], SIZE[0])
    np.testing.assert_array_equal(clip_f, clip_v)


def test_frame_template_counts_frames_without_listing(tmp_path):
    write_dataset(tmp_path)
    template = FrameTemplate(str(tmp_path / "frames/{video}/f{frame:04d}.png"))
    assert template.count("a") == FRAMES and not template.has_video("zz")
    (tmp_path / "frames" / "a" / f"f{FRAMES + 1:04d}.png").write_bytes(b"")
    assert FrameTemplate(template.template).count("a") == FRAMES + 1


def _tubes_dataset(tmp_path, extra: str = ""):
    """Two videos of 10 frames: v1 (train) with a label-0 tube on frames 3-6 and a label-2 tube on
    frames 4-5 over the same boxes, v2 (val) with a label-1 tube."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    tube = np.array([[f, 8, 6, 40, 42] for f in range(3, 7)], dtype=np.float32)
    gt = {
        "labels": ["run", "jump", "fall"],
        "train_videos": [["c/v1"]],
        "test_videos": [["c/v2"]],
        "nframes": {"c/v1": 10, "c/v2": 10},
        "resolution": {"c/v1": (48, 64), "c/v2": (48, 64)},
        "gttubes": {"c/v1": {0: [tube], 2: [tube[1:3]]}, "c/v2": {1: [tube]}},
    }
    (tmp_path / "gt.pkl").write_bytes(pickle.dumps(gt))
    (tmp_path / "dataset.toml").write_text(
        f'format = "tubes"\ngt = "gt.pkl"\nframes = "rgb/{{video}}/{{frame:05d}}.jpg"\n{extra}'
    )
    return read_dataset_file(tmp_path / "dataset.toml")


def test_tubes_keyframes_are_every_annotated_frame(tmp_path):
    """Tubes: one keyframe per annotated frame of the split's videos, boxes over the pickle's
    resolution, labels as columns."""
    spec = _tubes_dataset(tmp_path)
    keyframes = tube_keyframes(spec, "train")
    assert [k.timestamp for k in keyframes] == [3, 4, 5, 6]
    # frames 4 and 5 carry the same box in labels 0 and 2: one box, multi-hot
    np.testing.assert_array_equal(keyframes[1].labels, [[1, 0, 1]])
    np.testing.assert_allclose(keyframes[0].boxes, [[8 / 64, 6 / 48, 40 / 64, 42 / 48]])
    assert [k.video for k in tube_keyframes(spec, "val")] == ["c/v2"] * 4


def test_tubes_classes_and_frame_step(tmp_path):
    spec = _tubes_dataset(tmp_path / "classes", "classes = [2]\n")
    keyframes = tube_keyframes(spec, "train")  # only the label-2 tube, one column
    assert [k.timestamp for k in keyframes] == [4, 5]
    np.testing.assert_array_equal(keyframes[0].labels, [[1]])
    spec = _tubes_dataset(tmp_path / "step", "[train]\nframe_step = 2\n")
    assert [k.timestamp for k in tube_keyframes(spec, "train")] == [3, 5]  # frames f with (f - 1) % 2 == 0
    assert [k.timestamp for k in tube_keyframes(spec, "val")] == [3, 4, 5, 6]
    with pytest.raises(DataError, match=r"dataset.toml: val.frame_step: only \[train\]"):
        _tubes_dataset(tmp_path / "val", "[val]\nframe_step = 2\n")


def _absolute_toml(tmp_path, text: str):
    (tmp_path / "dataset.toml").write_text(text)
    return read_dataset_file(tmp_path / "dataset.toml")


def test_official_ava_layout_as_a_dataset_file(synthetic_ava, tmp_path):
    """AVA's layout is a particular dataset file: the same keyframes, labels, boxes and proposals;
    the clip one frame earlier (second t is img_{30 (t - 900) + 1}, AVA's img_{30 (t - 900) + 2})."""
    anno = synthetic_ava / "annotations"
    spec = _absolute_toml(
        tmp_path,
        f'labels = "{anno}/ava_action_list_v2.1_for_activitynet_2018.pbtxt"\nfps = 30\ntimestamp_start = 900\n'
        f'frames = "{synthetic_ava}/rawframes/{{video}}/img_{{frame:05d}}.jpg"\n[val]\n'
        f'annotations = "{anno}/ava_val_v2.1.csv"\nproposals = "{anno}/ava_dense_proposals_val.FAIR.recall_93.9.pkl"\n'
        f'exclusions = "{anno}/ava_val_excluded_timestamps_v2.1.csv"\n',
    )
    official = build_dataset(Row("r", "ava21", 8, 4, 16), synthetic_ava, "val", PIPELINE, test_mode=True)
    mine = load_dataset_split(spec, "val", PIPELINE, test_mode=True)
    assert [k.img_key for k in mine.keyframes] == [k.img_key for k in official.keyframes]
    for ours, theirs in zip(mine.keyframes, official.keyframes):
        np.testing.assert_array_equal(ours.labels, theirs.labels)
        np.testing.assert_array_equal(ours.boxes, theirs.boxes)
    for index in range(len(mine)):
        ours, theirs = mine[index]["meta"], official[index]["meta"]
        np.testing.assert_array_equal(ours["proposals_normalized"], theirs["proposals_normalized"])
        np.testing.assert_array_equal(ours["frame_inds"] + 1, theirs["frame_inds"])


def test_official_multisports_layout_as_a_tubes_file(synthetic_multisports, tmp_path):
    """MultiSports' layout read as a tubes file (its gt pickle, its frame folders): the keyframes,
    labels and clips of the official reader (boxes within its CSV's 3 decimals)."""
    root = synthetic_multisports
    spec = _absolute_toml(
        tmp_path,
        f'format = "tubes"\ngt = "{root}/annotations/multisports_GT.pkl"\n'
        f'frames = "{root}/rawframes/{{video}}/img_{{frame:05d}}.jpg"\n',
    )
    official = build_dataset(Row("m", "multisports", 7, 4, 16), root, "val", PIPELINE)
    mine = load_dataset_split(spec, "val", PIPELINE)
    key = {(k.video.removesuffix(".mp4"), k.timestamp): index for index, k in enumerate(official.keyframes)}
    assert sorted(key) == sorted((k.video, k.timestamp) for k in mine.keyframes)
    for index, ours in enumerate(mine.keyframes):
        theirs = official.keyframes[key[ours.video, ours.timestamp]]
        a, b = np.lexsort(ours.boxes.T), np.lexsort(theirs.boxes.T)
        np.testing.assert_allclose(ours.boxes[a], theirs.boxes[b], atol=5e-4)
        np.testing.assert_array_equal(ours.labels[a], theirs.labels[b])
        if index % 10 == 0:
            sample, reference = mine[index], official[key[ours.video, ours.timestamp]]
            np.testing.assert_array_equal(sample["meta"]["frame_inds"], reference["meta"]["frame_inds"])
            np.testing.assert_array_equal(sample["clip"].numpy(), reference["clip"].numpy())
