"""DetectionDataset on hand-made AVA layouts: which frames land in the clip, boxes, workers, errors."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from data_helpers import AVA_ROW, write_numbered_frames

from slowbench.data import DataError, DataWarning, PipelineConfig, build_dataset, collate, dataset_files

PIPELINE = PipelineConfig(
    clip_len=4, frame_interval=8, train_scale=(48, 60), crop_size=48, test_short_side=48
)


def _layout(root, rows, videos=("video_one",), exclusions="", n_frames=100):
    files = dataset_files(AVA_ROW, root, "train")
    files.annotations.parent.mkdir(parents=True)
    files.annotations.write_text("".join(line + "\n" for line in rows))
    files.exclusions.write_text(exclusions)
    proposals = {"video_one,0902": np.array([[0.1, 0.2, 0.5, 0.9, 0.95], [0, 0, 1, 1, 0.2]])}
    files.proposals.write_bytes(pickle.dumps(proposals))
    for video in videos:
        write_numbered_frames(files.frames / video, n_frames)
    return files


def _build(root, test_mode, pipeline=PIPELINE):
    return build_dataset(AVA_ROW, root, "train", pipeline, test_mode=test_mode)


ROWS = [
    "video_one,0902,0.25,0.5,0.75,1.0,12,0",
    "video_one,0902,0.25,0.5,0.75,1.0,80,0",
    "video_one,0903,0.0,0.0,0.5,0.5,3,1",
]


def test_test_mode_reads_the_reference_frames_and_maps_boxes(tmp_path):
    _layout(tmp_path, ROWS)
    dataset = _build(tmp_path, test_mode=True)
    assert len(dataset) == 2
    sample = dataset[0]
    # centre img_{30 * 2 + 2}; 4 x 8 -> img_46, 54, 62, 70; frame n has grey level 2 n.
    np.testing.assert_array_equal(sample["meta"]["frame_inds"], [46, 54, 62, 70])
    levels = sample["clip"].float().mean(dim=(0, 2, 3)).numpy()
    np.testing.assert_allclose(levels, [92, 108, 124, 140], atol=1.5)
    assert sample["clip"].dtype == torch.uint8 and sample["clip"].shape == (3, 4, 48, 64)
    np.testing.assert_allclose(sample["gt_boxes"].numpy(), [[16, 24, 48, 48]])
    assert np.flatnonzero(sample["gt_labels"][0].numpy()).tolist() == [12, 80]
    # proposals: score >= 0.9 kept, pixels of the clip; normalised copy for the evaluator
    np.testing.assert_allclose(sample["proposals"].numpy(), [[6.4, 9.6, 32, 43.2]], rtol=1e-6)
    np.testing.assert_allclose(sample["meta"]["proposals_normalized"], [[0.1, 0.2, 0.5, 0.9]])
    assert sample["meta"]["img_shape"] == (48, 64) and sample["meta"]["original_shape"] == (48, 64)
    # a key without proposals gets the whole frame
    np.testing.assert_allclose(dataset[1]["proposals"].numpy(), [[0, 0, 64, 48]])


def test_training_samples_jitter_rescale_crop_and_flip(tmp_path):
    _layout(tmp_path, ROWS)
    dataset = _build(tmp_path, test_mode=False)
    torch.manual_seed(0)
    samples = [dataset[0] for _ in range(30)]
    for sample in samples:
        assert sample["clip"].shape == (3, 4, 48, 48)
        offsets = sample["meta"]["frame_inds"] - np.array([46, 54, 62, 70])
        assert offsets.min() >= -4 and offsets.max() <= 3
        levels = sample["clip"].float().mean(dim=(0, 2, 3)).numpy()
        np.testing.assert_allclose(levels, 2 * sample["meta"]["frame_inds"], atol=1.5)
        box = sample["gt_boxes"].numpy()[0]
        assert (box >= 0).all() and (box <= 47).all() or sample["meta"]["flipped"]
    assert len({s["meta"]["crop"] for s in samples}) > 3
    assert 0 < sum(s["meta"]["flipped"] for s in samples) < 30


def test_dataloader_workers_and_collate(tmp_path):
    _layout(tmp_path, ROWS, videos=("video_one",))
    dataset = _build(tmp_path, test_mode=False)
    pickle.loads(pickle.dumps(dataset))  # spawn-started workers receive a pickled copy

    def run():
        torch.manual_seed(5)
        loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=collate)
        return [batch for batch in loader]

    first, second = run(), run()
    assert first[0]["clips"].shape == (2, 3, 4, 48, 48)
    assert len(first[0]["proposals"]) == 2 and len(first[0]["metas"]) == 2
    assert [m["crop"] for m in first[0]["metas"]] == [m["crop"] for m in second[0]["metas"]]


def test_videos_without_frames_are_skipped_with_a_counted_warning(tmp_path):
    rows = ROWS + [
        "gone_video,0902,0.1,0.1,0.2,0.2,1,0",
        "gone_video,0903,0.1,0.1,0.2,0.2,1,0",
        "empty_video,0902,0.1,0.1,0.2,0.2,1,0",
    ]
    files = _layout(tmp_path, rows)
    (files.frames / "empty_video").mkdir()
    with pytest.warns(DataWarning, match="skipped 3 of 5 annotated frames because 2 of 3 videos"):
        dataset = _build(tmp_path, test_mode=True)
    assert {k.video for k in dataset.keyframes} == {"video_one"}


def test_no_usable_sample_is_an_error(tmp_path):
    files = _layout(tmp_path / "a", ["other_video,0902,0.1,0.1,0.2,0.2,1,0"])
    with pytest.raises(DataError, match=f"^{files.annotations}: none of its 1 videos has frames"):
        _build(tmp_path / "a", test_mode=True)
    files = _layout(tmp_path / "b", ROWS, exclusions="video_one,902\nvideo_one,0903\n")
    with pytest.raises(DataError, match=f"^{files.annotations}: the split has no annotated frames"):
        _build(tmp_path / "b", test_mode=True)
    files = _layout(tmp_path / "c", [])
    with pytest.raises(DataError, match="no annotated frames"):
        _build(tmp_path / "c", test_mode=True)


def test_exclusions_drop_keyframes_with_one_counted_warning(tmp_path):
    files = _layout(tmp_path, ROWS, exclusions="video_one,903\n")
    with pytest.warns(DataWarning) as caught:
        dataset = _build(tmp_path, test_mode=True)
    assert [k.timestamp for k in dataset.keyframes] == [902]
    assert [str(w.message) for w in caught] == [
        f"{files.exclusions}: ignoring annotated frames on excluded timestamps: 1 (first: video_one,0903)"
    ]


def test_proposals_that_take_no_part_are_counted(tmp_path):
    """Annotated frames without proposals (the whole frame stands in) and proposals of frames
    without annotations each give one counted warning; complete proposals none."""
    files = _layout(tmp_path, ROWS)
    box = np.array([[0.1, 0.1, 0.5, 0.5, 0.95]])
    files.proposals.write_bytes(pickle.dumps({"video_one,0902": box, "video_one,0903": box}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _build(tmp_path, test_mode=True)
    files.proposals.write_bytes(
        pickle.dumps({"video_one,0902": box, "video_one,0950": box, "video_two,0902": box})
    )
    with pytest.warns(DataWarning) as caught:
        _build(tmp_path, test_mode=True)
    assert [str(w.message) for w in caught] == [
        f"{files.proposals}: no proposals for annotated frames: 1 of 2, whose whole frame stands in "
        "(the reference's rule) (first: video_one,0903)",
        f"{files.proposals}: ignoring proposals of frames without annotations: 2 (first: video_one,0950)",
    ]


def test_a_gap_in_the_frames_names_the_missing_file(tmp_path):
    files = _layout(tmp_path, ROWS)
    (files.frames / "video_one" / "img_00054.jpg").unlink()
    dataset = _build(tmp_path, test_mode=True)
    with pytest.raises(DataError, match="img_00054.jpg: frame file is missing$"):
        dataset[0]


def test_missing_annotation_files_and_bad_proposals(tmp_path):
    files = _layout(tmp_path, ROWS)
    files.proposals.write_bytes(pickle.dumps({"video_one,0902": np.array([[0, 0, 2.0, 1, 1]])}))
    with pytest.raises(DataError, match="not normalised"):
        _build(tmp_path, test_mode=True)
    files.proposals.unlink()
    with pytest.raises(DataError, match=f"^{files.proposals}: missing ava21 train file$"):
        _build(tmp_path, test_mode=True)
    with pytest.raises(ValueError, match="split must be one of"):
        build_dataset(AVA_ROW, tmp_path, "test")
