"""`slowbench.train --pretrained` end to end: what loads, what keeps its init, what is refused.

The runs are observed from outside: `--lr 1e-9 --stop-after 1` checkpoints after one step that
moves a parameter by at most ~1e-8, so the saved parameters are the initial weights to 1e-6, while
weights that failed to load differ from the checkpoint's by orders of magnitude more.
"""

import json

import pytest
import torch
from engine_helpers import TINY_ARGS, TINY_MODEL_ARGS, TINY_ROW

from slowbench import train as train_cli
from slowbench.checkpoint import CheckpointError, load_pretrained, save_checkpoint
from slowbench.models import build_detector

MULTISPORTS_ROW = "multisports-k400-r50-4x16"
CLASSIFIER = ["roi_head.bbox_head.fc_cls.weight", "roi_head.bbox_head.fc_cls.bias"]
FIRST_STEP = ["--lr", "1e-9", "--stop-after", "1", "--seed", "5"]


def tiny_detector(**overrides):
    """The architecture the tiny CLI runs build on the synthetic AVA data (7 actions + column 0)."""
    return build_detector(TINY_ROW, **{"depth": 18, "base_channels": 4, "num_classes": 8, **overrides})


def parameters_of(path) -> dict:
    names = {name for name, _ in tiny_detector().named_parameters()}
    state = torch.load(path, weights_only=True)["state_dict"]
    return {k: v for k, v in state.items() if k in names}


def assert_initialised_from(saved: dict, source: dict, keys) -> None:
    for key in keys:
        torch.testing.assert_close(saved[key], source[key], rtol=0, atol=1e-6, msg=key)


def assert_not_initialised_from(saved: dict, source: dict, keys) -> None:
    for key in keys:
        assert (saved[key] - source[key]).abs().max() > 1e-3, key


def first_step(data_root, work_dir, *extra, row=TINY_ROW) -> tuple[int, dict]:
    """Exit status and the parameters after one ~zero step of a tiny run."""
    status = train_cli.main(
        [
            "--row",
            row,
            *TINY_MODEL_ARGS,
            *FIRST_STEP,
            "--data-root",
            str(data_root),
            "--work-dir",
            str(work_dir),
            *extra,
        ]
    )
    return status, parameters_of(work_dir / "latest.pth") if status == 0 else {}


@pytest.fixture(scope="module")
def previous_run(tiny_ava, tmp_path_factory):
    """`latest.pth` of a finished 1-epoch tiny AVA run (seed 0)."""
    work_dir = tmp_path_factory.mktemp("previous")
    assert (
        train_cli.main(
            [*TINY_ARGS, "--epochs", "1", "--data-root", str(tiny_ava), "--work-dir", str(work_dir)]
        )
        == 0
    )
    return work_dir / "latest.pth"


@pytest.fixture(scope="module")
def from_scratch(tiny_ava, tmp_path_factory):
    """Parameters after the first ~zero step without --pretrained (the seed-5 initialisation)."""
    status, params = first_step(tiny_ava, tmp_path_factory.mktemp("scratch"))
    assert status == 0
    return params


def random_init(params: dict) -> list[str]:
    """Conv and linear weights: drawn from the seed (norm weights start at 1 and biases at 0)."""
    return [k for k, v in params.items() if v.dim() >= 2]


def test_detector_checkpoint_initialises_every_tensor(tiny_ava, previous_run, from_scratch, tmp_path, capsys):
    source = parameters_of(previous_run)
    assert_not_initialised_from(from_scratch, source, random_init(source))  # the test can tell
    capsys.readouterr()
    status, params = first_step(tiny_ava, tmp_path, "--pretrained", str(previous_run))
    assert status == 0
    assert_initialised_from(params, source, source)
    # Buffers load too: the BN step counters go on from the previous run's 4 iterations.
    counter = "backbone.conv1.bn.num_batches_tracked"
    assert torch.load(previous_run, weights_only=True)["state_dict"][counter] == 4
    assert torch.load(tmp_path / "latest.pth", weights_only=True)["state_dict"][counter] == 5
    out = capsys.readouterr().out
    assert f"pretrained: loaded 122/122 tensors from {previous_run}\n" in out
    events = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    (event,) = [e for e in events if e["event"] == "pretrained"]
    assert event["loaded"] == 122 and event["kept_init"] == [] and event["ignored"] == []


def test_another_class_count_keeps_the_classifier_init(tiny_multisports, previous_run, tmp_path, capsys):
    # AVA detector (8 columns) -> MultiSports (7 classes): the usual fine-tuning case.
    source = parameters_of(previous_run)
    status, params = first_step(
        tiny_multisports, tmp_path, "--pretrained", str(previous_run), row=MULTISPORTS_ROW
    )
    assert status == 0
    backbone = [k for k in source if k.startswith("backbone.")]
    assert_initialised_from(params, source, backbone)
    assert params[CLASSIFIER[0]].shape == (7, 32)
    line = next(out for out in capsys.readouterr().out.splitlines() if out.startswith("pretrained:"))
    assert line == (
        f"pretrained: loaded 120/122 tensors from {previous_run}; kept init for: "
        f"{', '.join(CLASSIFIER)}; ignored from the checkpoint: {', '.join(CLASSIFIER)} "
        f"(the checkpoint's classifier has 8 classes, this model 7)"
    )


def test_kinetics_recogniser_loads_the_backbone_only(tiny_ava, from_scratch, tmp_path, capsys):
    torch.manual_seed(11)
    backbone = {
        f"backbone.{k}": (torch.randn_like(v) if v.is_floating_point() else v)
        for k, v in tiny_detector().backbone.state_dict().items()
    }
    classifier = {"cls_head.fc_cls.weight": torch.randn(400, 32), "cls_head.fc_cls.bias": torch.randn(400)}
    path = tmp_path / "kinetics.pth"
    torch.save({"state_dict": {**backbone, **classifier}, "meta": {}}, path)
    status, params = first_step(tiny_ava, tmp_path / "run", "--pretrained", str(path))
    assert status == 0
    assert_initialised_from(params, backbone, [k for k in params if k.startswith("backbone.")])
    assert_not_initialised_from(params, from_scratch, ["backbone.conv1.conv.weight"])
    assert_initialised_from(params, from_scratch, CLASSIFIER)  # the RoI head keeps its init
    out = capsys.readouterr().out
    assert (
        f"pretrained: loaded 120/122 tensors from {path}; kept init for: {', '.join(CLASSIFIER)}; "
        f"ignored from the checkpoint: cls_head.fc_cls.weight, cls_head.fc_cls.bias "
        f"(no RoI head in the checkpoint)"
    ) in out


def refused(tiny_ava, tmp_path, path, capsys) -> str:
    """The one-line error of a run given `--pretrained path`; it stops before any training."""
    capsys.readouterr()
    status = train_cli.main(
        [
            *TINY_ARGS,
            "--data-root",
            str(tiny_ava),
            "--work-dir",
            str(tmp_path / "run"),
            "--pretrained",
            str(path),
        ]
    )
    captured = capsys.readouterr()
    *warnings, err = captured.err.strip().splitlines()  # the data's own warnings come first
    assert (
        status == 2 and err.startswith("error: ") and all(line.startswith("warning: ") for line in warnings)
    )
    assert str(path) in err and "Traceback" not in captured.err
    assert "training " not in captured.out and not (tmp_path / "run" / "latest.pth").exists()
    return err


def test_checkpoint_of_another_depth_is_refused(tiny_ava, tmp_path, capsys):
    save_checkpoint(tmp_path / "r50.pth", tiny_detector(depth=50))
    err = refused(tiny_ava, tmp_path, tmp_path / "r50.pth", capsys)
    assert "does not fit this model" in err and "another shape" in err


def test_checkpoint_of_another_width_is_refused(tiny_ava, tmp_path, capsys):
    save_checkpoint(tmp_path / "wide.pth", tiny_detector(base_channels=8))
    err = refused(tiny_ava, tmp_path, tmp_path / "wide.pth", capsys)
    assert (
        "'backbone.conv1.conv.weight': [8, 3, 1, 7, 7] in the checkpoint, [4, 3, 1, 7, 7] in the model" in err
    )


def test_file_with_no_matching_key_is_refused(tiny_ava, tmp_path, capsys):
    torch.save({"state_dict": {"encoder.weight": torch.zeros(3)}}, tmp_path / "other.pth")
    err = refused(tiny_ava, tmp_path, tmp_path / "other.pth", capsys)
    assert "no tensor matches this model's names" in err and "'encoder.weight'" in err


@pytest.mark.parametrize(
    "content, match",
    [
        (b"not a checkpoint at all", "not a readable torch checkpoint"),
        ([1, 2, 3], "no state dict of tensors"),
        ({"state_dict": {"backbone.conv1.conv.weight": "text"}}, "no state dict of tensors"),
        ({"state_dict": {0: torch.zeros(3)}}, "no state dict of tensors"),  # a key that is no name
        ({}, "it is empty"),
    ],
)
def test_corrupt_or_foreign_file_is_refused(tiny_ava, tmp_path, capsys, content, match):
    path = tmp_path / "bad.pth"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    assert match in refused(tiny_ava, tmp_path, path, capsys)


def test_truncated_checkpoint_is_refused(tiny_ava, previous_run, tmp_path, capsys):
    (tmp_path / "cut.pth").write_bytes(previous_run.read_bytes()[:5000])
    assert "not a readable torch checkpoint" in refused(tiny_ava, tmp_path, tmp_path / "cut.pth", capsys)


# load_pretrained directly: the refusals that leave the model untouched.


def refuse_state(tmp_path, detector, state) -> str:
    before = {k: v.clone() for k, v in detector.state_dict().items()}
    torch.save(state, tmp_path / "c.pth")
    with pytest.raises(CheckpointError) as caught:
        load_pretrained(detector, tmp_path / "c.pth")
    torch.testing.assert_close(detector.state_dict(), before)  # nothing loaded
    message = str(caught.value)
    assert "\n" not in message and "c.pth" in message
    return message


def test_missing_backbone_tensor_is_refused(tmp_path):
    state = tiny_detector().state_dict()
    del state["backbone.layer3.0.conv2.conv.weight"]
    state = {k: v + 1 if v.is_floating_point() else v for k, v in state.items()}
    message = refuse_state(tmp_path, tiny_detector(), state)
    assert "1 backbone tensors are missing, first 'backbone.layer3.0.conv2.conv.weight'" in message


def test_another_head_design_is_refused(tmp_path):
    # An MLP-head checkpoint (fc_cls.0 / fc_cls.2) for a linear-head model: another row's design.
    state = tiny_detector(mlp_head=True).state_dict()
    message = refuse_state(tmp_path, tiny_detector(), state)
    assert "RoI head tensors are missing, first 'roi_head.bbox_head.fc_cls.weight'" in message


def test_extra_backbone_tensor_is_refused(tmp_path):
    state = {**tiny_detector().state_dict(), "backbone.layer5.0.conv1.conv.weight": torch.zeros(1)}
    message = refuse_state(tmp_path, tiny_detector(), state)
    assert "1 checkpoint tensors have no place in it, first 'backbone.layer5.0.conv1.conv.weight'" in message


def test_classifier_with_another_input_width_is_refused(tmp_path):
    state = tiny_detector().state_dict()
    state["roi_head.bbox_head.fc_cls.weight"] = torch.zeros(8, 64)
    message = refuse_state(tmp_path, tiny_detector(), state)
    assert "'roi_head.bbox_head.fc_cls.weight': [8, 64] in the checkpoint, [8, 32] in the model" in message
