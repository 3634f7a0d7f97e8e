"""Checkpoint keys vs the reference lists, strict loading, recogniser loading, bad files, saving."""

import os

import pytest
import torch

from slowbench.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint
from slowbench.models import build_detector


def _state_shapes(model):
    return [(k, list(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "row,keys",
    [("ava21-k400-r50-4x16", "r50"), ("ava21-k400-r101-8x8", "r101"), ("ava21-k400-r50nl-4x16", "r50nl")],
)
def test_state_dict_matches_reference_key_list(row, keys, reference_keys):
    with torch.device("meta"):
        model = build_detector(row)
    assert _state_shapes(model) == reference_keys(keys)


def test_head_keys_of_context_mlp_and_multisports_rows():
    with torch.device("meta"):
        mlp = build_detector("ava22-k700-focal").roi_head.state_dict()
        sports = build_detector("multisports-k400-r50-4x16").roi_head.state_dict()
    assert {k: list(v.shape) for k, v in mlp.items()} == {
        "bbox_head.fc_cls.0.weight": [4096, 4096],
        "bbox_head.fc_cls.0.bias": [4096],
        "bbox_head.fc_cls.2.weight": [81, 4096],
        "bbox_head.fc_cls.2.bias": [81],
    }
    assert {k: list(v.shape) for k, v in sports.items()} == {
        "bbox_head.fc_cls.weight": [66, 2048],
        "bbox_head.fc_cls.bias": [66],
    }


@pytest.mark.shared_data
def test_official_layout_file_loads_strictly_into_r50(tmp_path, reference_keys):
    torch.manual_seed(0)
    state = {k: (torch.tensor(3) if not shape else torch.randn(shape)) for k, shape in reference_keys("r50")}
    path = tmp_path / "official.pth"
    torch.save({"meta": {"mmaction_version": "1.2.0"}, "state_dict": state, "message_hub": {"iter": 1}}, path)
    model = build_detector("ava21-k400-r50-4x16")
    report = load_checkpoint(model, path)
    assert len(report.loaded) == 320 and not report.skipped and not report.missing
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key])


def test_recognition_checkpoint_loads_backbone_and_skips_classifier(tmp_path, tiny_detector):
    source, target = tiny_detector(), tiny_detector(num_classes=4)
    head_before = {k: v.clone() for k, v in target.roi_head.state_dict().items()}
    backbone = {
        f"backbone.{k}": v + 1 for k, v in source.backbone.state_dict().items() if v.is_floating_point()
    }
    backbone.update(
        {f"backbone.{k}": v for k, v in source.backbone.state_dict().items() if not v.is_floating_point()}
    )
    classifier = {"cls_head.fc_cls.weight": torch.randn(400, 64), "cls_head.fc_cls.bias": torch.randn(400)}
    path = tmp_path / "kinetics.pth"
    torch.save({"state_dict": {**backbone, **classifier}, "meta": {}}, path)
    report = load_checkpoint(target, path)
    assert sorted(report.skipped) == sorted(classifier)
    assert sorted(report.missing) == ["roi_head.bbox_head.fc_cls.bias", "roi_head.bbox_head.fc_cls.weight"]
    for key, value in target.backbone.state_dict().items():
        torch.testing.assert_close(value, backbone[f"backbone.{key}"])
    for key, value in target.roi_head.state_dict().items():
        torch.testing.assert_close(value, head_before[key])


def test_bare_backbone_accepts_detector_names(tmp_path, tiny_detector):
    source, target = tiny_detector(), tiny_detector()
    with torch.no_grad():
        for p in source.parameters():
            p.add_(1.0)
    save_checkpoint(tmp_path / "d.pth", source)
    load_checkpoint(target.backbone, tmp_path / "d.pth", strict=False)
    torch.testing.assert_close(target.backbone.state_dict(), source.backbone.state_dict())


def test_save_is_atomic_and_round_trips_with_weights_only(tmp_path, tiny_detector):
    model = tiny_detector()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    path = tmp_path / "model.pth"
    save_checkpoint(path, model, meta={"epoch": 3, "row": "tiny"}, optimizer=optimizer.state_dict())
    assert os.listdir(tmp_path) == ["model.pth"]  # no temporary file left
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["meta"] == {"epoch": 3, "row": "tiny"} and "optimizer" in checkpoint
    fresh = tiny_detector()
    torch.manual_seed(5)
    with torch.no_grad():
        for p in fresh.parameters():
            p.normal_()
    load_checkpoint(fresh, path)
    torch.testing.assert_close(fresh.state_dict(), model.state_dict())


class _RefusesPickling(Exception):
    pass


class _Unpicklable:
    def __reduce__(self):
        raise _RefusesPickling


def test_failed_save_leaves_previous_file_intact(tmp_path, tiny_detector):
    path = tmp_path / "model.pth"
    save_checkpoint(path, tiny_detector())
    before = path.read_bytes()
    with pytest.raises(_RefusesPickling):
        save_checkpoint(path, tiny_detector(), meta={"unpicklable": _Unpicklable()})
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.pth"]


def _one_line(error):
    message = str(error.value)
    assert "\n" not in message
    return message


def test_missing_and_truncated_files(tmp_path, tiny_detector):
    model = tiny_detector()
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(model, tmp_path / "absent.pth")
    assert "absent.pth" in _one_line(caught)
    path = tmp_path / "cut.pth"
    save_checkpoint(path, model)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(model, path)
    assert "cut.pth" in _one_line(caught)


def test_mismatched_shape_missing_and_unexpected_keys_name_the_first_bad_key(tmp_path, tiny_detector):
    model = tiny_detector()
    state = model.state_dict()
    before = {k: v.clone() for k, v in state.items()}
    cases = {
        "shape": {**state, "roi_head.bbox_head.fc_cls.weight": torch.zeros(3, 64)},
        "missing": {k: v for k, v in state.items() if k != "backbone.layer2.0.conv1.conv.weight"},
        "extra": {**state, "backbone.layer9.weight": torch.zeros(1)},
    }
    expected = {
        "shape": "roi_head.bbox_head.fc_cls.weight",
        "missing": "backbone.layer2.0.conv1.conv.weight",
        "extra": "backbone.layer9.weight",
    }
    for name, bad in cases.items():
        bad = {k: (v + 1 if v.is_floating_point() else v) for k, v in bad.items()}
        torch.save({"state_dict": bad}, tmp_path / f"{name}.pth")
        with pytest.raises(CheckpointError) as caught:
            load_checkpoint(model, tmp_path / f"{name}.pth")
        assert expected[name] in _one_line(caught)
    torch.testing.assert_close(model.state_dict(), before)  # nothing loaded on error


def test_non_strict_reports_missing_and_unexpected(tmp_path, tiny_detector):
    model = tiny_detector()
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("roi_head.")}
    state["extra.weight"] = torch.zeros(2)
    torch.save(state, tmp_path / "partial.pth")  # a bare state dict is accepted too
    report = load_checkpoint(model, tmp_path / "partial.pth", strict=False)
    assert report.skipped == ["extra.weight"]
    assert sorted(report.missing) == ["roi_head.bbox_head.fc_cls.bias", "roi_head.bbox_head.fc_cls.weight"]


def test_pickled_objects_are_refused(tmp_path):
    import pickle

    path = tmp_path / "evil.pth"
    with open(path, "wb") as handle:
        pickle.dump({"state_dict": {"w": torch.zeros(1)}, "hook": os.getcwd}, handle)
    with pytest.raises(CheckpointError):
        read_checkpoint(path)
