"""Reference layout names, PipelineConfig and collate padding."""

import dataclasses
from pathlib import Path

import pytest
import torch
from data_helpers import AVA_ROW, KINETICS_ROW, MULTISPORTS_ROW, Row

from slowbench.data import PipelineConfig, collate, dataset_files, default_data_root, find_dataset


def test_default_roots_and_reference_file_names():
    assert default_data_root(AVA_ROW) == Path("data/ava")
    assert default_data_root(KINETICS_ROW) == Path("data/ava_kinetics")
    assert default_data_root(MULTISPORTS_ROW) == Path("data/multisports")
    files = dataset_files(AVA_ROW, "root", "val")
    assert files.frames == Path("root/rawframes")
    assert files.annotations == Path("root/annotations/ava_val_v2.1.csv")
    assert files.exclusions.name == "ava_val_excluded_timestamps_v2.1.csv"
    assert files.proposals.name == "ava_dense_proposals_val.FAIR.recall_93.9.pkl"
    assert files.label_map.name == "ava_action_list_v2.1_for_activitynet_2018.pbtxt"
    kinetics = dataset_files(KINETICS_ROW, "root", "train")
    assert kinetics.annotations.name == "ava_train_v2.2.csv"
    assert kinetics.label_map.name == "ava_action_list_v2.2_for_activitynet_2019.pbtxt"
    sports = dataset_files(MULTISPORTS_ROW, "root", "train")
    assert sports.annotations.name == "multisports_train.csv"
    assert sports.gt_pickle.name == "multisports_GT.pkl"
    assert sports.proposals.name == "multisports_dense_proposals_train.recall_96.13.pkl"
    with pytest.raises(ValueError, match="unknown dataset 'kinetics'"):
        dataset_files(Row("x", "kinetics", 400, 4, 16), "root", "train")


def test_find_dataset_needs_every_file(synthetic_ava, tmp_path):
    assert find_dataset(AVA_ROW, synthetic_ava)
    assert not find_dataset(MULTISPORTS_ROW, synthetic_ava)
    assert not find_dataset(AVA_ROW, tmp_path / "nothing")
    copy = tmp_path / "partial"
    for path in synthetic_ava.rglob("*.csv"):
        target = copy / path.relative_to(synthetic_ava)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    (copy / "rawframes").mkdir()
    assert not find_dataset(AVA_ROW, copy)  # proposals missing


def test_pipeline_config_reference_values_and_validation():
    config = PipelineConfig.from_row(MULTISPORTS_ROW)
    assert (config.clip_len, config.frame_interval) == (4, 16)
    assert (config.train_scale, config.crop_size, config.test_short_side, config.flip) == (
        (256, 320),
        256,
        256,
        True,
    )
    small = PipelineConfig.for_synthetic(AVA_ROW, short_side=96)
    assert (small.train_scale, small.crop_size, small.test_short_side) == ((96, 120), 96, 96)
    with pytest.raises(ValueError, match="crop_size 300 exceeds"):
        PipelineConfig(4, 16, crop_size=300)
    with pytest.raises(ValueError, match="train_scale"):
        PipelineConfig(4, 16, train_scale=(320, 256))
    with pytest.raises(ValueError, match="clip_len"):
        config.replace(clip_len=0)


def test_pipeline_config_from_saved_meta():
    config = PipelineConfig.for_synthetic(AVA_ROW, short_side=96).replace(fast_decode=True)
    saved = dataclasses.asdict(config)
    saved["train_scale"] = list(saved["train_scale"])  # as a checkpoint's meta may hold it
    assert PipelineConfig.from_saved(saved) == config
    legacy = {k: v for k, v in saved.items() if k != "fast_decode"}
    assert PipelineConfig.from_saved({**legacy, "reduced_decode": True}).fast_decode
    assert not PipelineConfig.from_saved({**legacy, "reduced_decode": False}).fast_decode
    with pytest.raises(ValueError, match="unknown pipeline field.*colour"):
        PipelineConfig.from_saved({**saved, "colour": "bgr"})


def _sample(height, width, boxes):
    return {
        "clip": torch.full((3, 2, height, width), 7, dtype=torch.uint8),
        "proposals": torch.zeros(boxes, 4),
        "gt_boxes": torch.ones(boxes, 4),
        "gt_labels": torch.zeros(boxes, 81),
        "meta": {"boxes": boxes},
    }


def test_collate_pads_bottom_right_and_keeps_box_lists():
    batch = collate([_sample(4, 6, 1), _sample(5, 3, 3)])
    clips = batch["clips"]
    assert clips.shape == (2, 3, 2, 5, 6) and clips.dtype == torch.uint8
    assert (clips[0, :, :, :4, :6] == 7).all() and (clips[0, :, :, 4:] == 0).all()
    assert (clips[1, :, :, :5, :3] == 7).all() and (clips[1, :, :, :, 3:] == 0).all()
    assert [len(p) for p in batch["proposals"]] == [1, 3]
    assert [g.shape for g in batch["gt_labels"]] == [(1, 81), (3, 81)]
    assert [m["boxes"] for m in batch["metas"]] == [1, 3]
    with pytest.raises(ValueError, match="empty batch"):
        collate([])
    odd = _sample(4, 6, 1)
    odd["clip"] = odd["clip"][:, :1]
    with pytest.raises(ValueError, match="differ in channels/length"):
        collate([_sample(4, 6, 1), odd])
