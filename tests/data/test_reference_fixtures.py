"""The values mmaction2's own dataset tests assert, on its fixtures in ../shared (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest
from data_helpers import write_linked_frames

from eval.ava.io import read_label_map
from slowbench.data import DatasetFiles, PipelineConfig, load_split, read_annotations
from slowbench.data.label_columns import LabelColumns

pytestmark = pytest.mark.shared_data
AVA = "fixtures/mmaction2_tests/ava_dataset"
MULTISPORTS = "fixtures/mmaction2_tests/multisports_dataset"
PIPELINE = PipelineConfig(clip_len=32, frame_interval=2, test_short_side=240, train_scale=(256, 320))


def _ava_files(shared_file, tmp_path, *, exclusions: bool) -> DatasetFiles:
    for video in ("0f39OWEqJ24", "_-Z6wFjXtGQ"):
        write_linked_frames(tmp_path / "rawframes" / video, 160, size=(320, 240))
    return DatasetFiles(
        root=tmp_path,
        frames=tmp_path / "rawframes",
        annotations=shared_file(f"{AVA}/ava_sample.csv"),
        proposals=shared_file(f"{AVA}/ava_proposals_sample.pkl"),
        exclusions=shared_file(f"{AVA}/ava_excluded_timestamps_sample.csv") if exclusions else None,
        label_map=shared_file(f"{AVA}/action_list.txt"),
        gt_pickle=None,
    )


def test_ava_sample_with_exclusions(shared_file, tmp_path):
    dataset = load_split(
        _ava_files(shared_file, tmp_path, exclusions=True),
        dataset="ava21",
        split="val",
        num_classes=81,
        pipeline=PIPELINE,
        test_mode=True,
    )
    assert len(dataset) == 1
    sample = dataset[0]
    meta = sample["meta"]
    assert meta["img_key"] == "0f39OWEqJ24,0902"
    np.testing.assert_allclose(meta["proposals_normalized"], [[0.011, 0.157, 0.655, 0.983]], rtol=1e-6)
    np.testing.assert_allclose(meta["proposal_scores"], [0.998163], rtol=1e-6)
    # start_index 1, double-added: t=902 at 32x2 reads img_30, img_32, ..., img_92.
    np.testing.assert_array_equal(meta["frame_inds"], np.arange(30, 93, 2))
    assert sample["clip"].shape == (3, 32, 240, 320)
    assert sample["gt_labels"].shape == (1, 81)
    assert np.flatnonzero(sample["gt_labels"][0].numpy()).tolist() == [12, 17, 79]


def test_ava_sample_without_exclusions(shared_file, tmp_path):
    dataset = load_split(
        _ava_files(shared_file, tmp_path, exclusions=False),
        dataset="ava21",
        split="train",
        num_classes=81,
        pipeline=PIPELINE.replace(train_scale=(240, 240), crop_size=240),
        test_mode=False,
    )
    assert [k.img_key for k in dataset.keyframes] == [
        "0f39OWEqJ24,0902",
        "0f39OWEqJ24,0903",
        "_-Z6wFjXtGQ,0902",
    ]
    third = dataset[2]
    # Scores 0.281325, 0.994488, 0.996238: threshold 0.9 keeps the last two, in file order.
    np.testing.assert_allclose(third["meta"]["proposal_scores"], [0.994488, 0.996238], rtol=1e-6)
    assert len(third["meta"]["frame_inds"]) == 32
    labels = [np.flatnonzero(k.labels[0]).tolist() for k in dataset.keyframes]
    assert labels == [[12, 17, 79], [12, 17], [12, 74, 80]]


def test_ava_sample_with_custom_classes(shared_file, tmp_path):
    """mmaction2's AVADataset with custom_classes=[17, 79], num_classes=3 (constructed in its
    tests, values checked by running it): labels [[0, 1, 1]] for 0902 and [[0, 1, 0]] for 0903;
    the _-Z6wFjXtGQ key has no listed label and is no sample."""
    dataset = load_split(
        _ava_files(shared_file, tmp_path, exclusions=False),
        dataset="ava21",
        split="train",
        num_classes=3,
        pipeline=PIPELINE.replace(train_scale=(240, 240), crop_size=240),
        test_mode=False,
        columns=LabelColumns((17, 79), first=1),
    )
    assert [k.img_key for k in dataset.keyframes] == ["0f39OWEqJ24,0902", "0f39OWEqJ24,0903"]
    np.testing.assert_array_equal(dataset.keyframes[0].labels, [[0, 1, 1]])
    np.testing.assert_array_equal(dataset.keyframes[1].labels, [[0, 1, 0]])
    assert dataset[1]["gt_labels"].shape == (1, 3)


def test_ava_kinetics_sample_uses_start_index_zero(shared_file, tmp_path):
    dataset = load_split(
        _ava_files(shared_file, tmp_path, exclusions=True),
        dataset="ava-kinetics",
        split="val",
        num_classes=81,
        pipeline=PIPELINE,
        test_mode=True,
    )
    meta = dataset[0]["meta"]
    np.testing.assert_array_equal(meta["frame_inds"], np.arange(28, 91, 2))
    np.testing.assert_allclose(meta["proposals_normalized"], [[0.011, 0.157, 0.655, 0.983]], rtol=1e-6)


def test_multisports_sample(shared_file, tmp_path):
    for video in ("v_aqMgwPExjD0_c001", "v_yaKOumdXwbU_c019"):
        write_linked_frames(tmp_path / "rawframes" / "aerobic_gymnastics" / video, 100, size=(1280, 720))
    files = DatasetFiles(
        root=tmp_path,
        frames=tmp_path / "rawframes",
        annotations=shared_file(f"{MULTISPORTS}/multisports_sample.csv"),
        proposals=shared_file(f"{MULTISPORTS}/multisports_proposals_sample.pkl"),
        exclusions=None,
        label_map=None,
        gt_pickle=None,
    )
    dataset = load_split(
        files,
        dataset="multisports",
        split="val",
        num_classes=66,
        pipeline=PIPELINE.replace(test_short_side=720),
        test_mode=True,
    )
    assert len(dataset) == 9
    sample = dataset[0]
    expected = np.array(
        [[0.71097612, 0.44144461, 0.79291363, 0.80873633], [0.19915699, 0.40121613, 0.29834411, 0.79667876]]
    ) * [1280, 720, 1280, 720]
    np.testing.assert_almost_equal(sample["proposals"].numpy(), expected, decimal=4)
    np.testing.assert_allclose(sample["meta"]["proposal_scores"], [0.994165, 0.9902001], rtol=1e-6)
    assert len(sample["meta"]["frame_inds"]) == 32
    assert np.flatnonzero(sample["gt_labels"][0].numpy()).tolist() == [11]


def test_label_maps_fit_the_label_encoding(shared_file, tmp_path):
    ava_ids = read_label_map(
        shared_file("fixtures/ava_label_maps/ava_action_list_v2.1_for_activitynet_2018.pbtxt.txt")
    )
    multisports = read_label_map(shared_file("fixtures/multisports_label_map/label_map.txt"))
    assert len(ava_ids) == 60 and max(ava_ids) == 80 and len(multisports) == 66
    # AVA: raw id is the column of an 81-wide vector; MultiSports: 0-based index of 66 columns.
    csv = tmp_path / "rows.csv"
    csv.write_text("".join(f"vid,0902,0.1,0.1,0.5,0.5,{i},0\n" for i in sorted(ava_ids)))
    (keyframe,) = read_annotations(csv, 81)
    assert np.flatnonzero(keyframe.labels[0]).tolist() == sorted(ava_ids)
    csv.write_text("".join(f"v.mp4,7,0.1,0.1,0.5,0.5,{i},0\n" for i in sorted(multisports)))
    (keyframe,) = read_annotations(csv, 66)
    assert keyframe.labels.sum() == 66
