"""`python -m slowbench.export`: ONNX that runs in onnxruntime and `.pt2` that torch.export.load
reads give the eager detector's scores at the traced shape and at another B, K, H and W."""

import subprocess
import sys

import pytest
import torch
from deploy_helpers import ROW

from slowbench import export as export_cli
from slowbench.deploy.check import random_inputs
from slowbench.engine.trained_detector import load_trained_detector
from slowbench.model_zoo import get_row

pytest.importorskip("onnxruntime")
SHAPE = ["--clip-shape", "1x3x4x64x96"]


def eager_scores(ckpt, clip, rois):
    detector, _ = load_trained_detector(get_row(ROW), ckpt)
    with torch.no_grad():
        return detector.eval().score_rois(clip, rois)


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # the reference order: temporal pooling, then RoIAlign on the pooled map
        {"with_global": True, "mlp_head": True, "temporal_pool_mode": "max"},  # rows J-N's head
        {"roi_order": "fused", "temporal_pool_mode": "max"},  # RoIAlign per frame, then max over T
        {"roi_order": "fused", "multilabel": False},  # fused avg; softmax scores
    ],
    ids=["reference", "context-mlp-max", "fused-max", "fused-avg-softmax"],
)
def test_onnx_matches_eager(tiny_checkpoint, tmp_path, capsys, overrides):
    from slowbench.deploy.onnx_detector import OnnxDetector

    ckpt = tiny_checkpoint(**overrides)
    out = tmp_path / "det.onnx"
    assert export_cli.main(["--row", ROW, "--ckpt", str(ckpt), "--out", str(out), *SHAPE, "--check"]) == 0
    assert "check: onnxruntime vs eager PyTorch, max |diff|" in capsys.readouterr().out
    onnx_detector = OnnxDetector(out)
    for shape in [(1, 3, 4, 64, 96), (3, 3, 4, 80, 56)]:  # B, K, H, W all differ from the trace
        clip, rois = random_inputs(shape, rois_per_clip=3, seed=7)
        got = onnx_detector.score_rois(clip, rois)
        torch.testing.assert_close(got, eager_scores(ckpt, clip, rois), rtol=0, atol=1e-5)
    proposals = [rois[rois[:, 0] == i, 1:] for i in range(3)]
    proposals[1] = proposals[1][:0]  # a clip without proposals
    scores = onnx_detector.predict(clip, proposals)
    assert [s.shape[0] for s in scores] == [3, 0, 3]


@pytest.mark.parametrize(
    "stored, message",
    [("{not json", "metadata is not JSON"), ('["a list"]', "meta is list, expected a dict")],
)
def test_onnx_metadata_of_the_wrong_kind_is_one_line(tiny_checkpoint, tmp_path, stored, message):
    onnx = pytest.importorskip("onnx")
    from slowbench.deploy.onnx_detector import OnnxDetector
    from slowbench.deploy.onnx_export import META_KEY
    from slowbench.errors import InputError

    out = tmp_path / "det.onnx"
    assert export_cli.main(["--row", ROW, "--ckpt", str(tiny_checkpoint()), "--out", str(out), *SHAPE]) == 0
    model = onnx.load(out)
    onnx.helper.set_model_props(model, {META_KEY: stored})
    onnx.save(model, out)
    with pytest.raises(InputError, match=message) as info:
        OnnxDetector(out)
    assert str(info.value).startswith(f"{out}: ")


@pytest.mark.parametrize("recorded", ["7", 7.0, 81, None])
def test_onnx_metadata_that_disagrees_with_the_scores_is_one_line(tiny_checkpoint, tmp_path, recorded):
    """The class count in the metadata (else the row's) sizes the data's label vectors: it must
    be the model's."""
    import json

    onnx = pytest.importorskip("onnx")
    from slowbench.deploy.onnx_detector import load_onnx_detector
    from slowbench.deploy.onnx_export import META_KEY
    from slowbench.errors import InputError

    out = tmp_path / "det.onnx"
    ckpt = tiny_checkpoint(num_classes=7)
    assert export_cli.main(["--row", ROW, "--ckpt", str(ckpt), "--out", str(out), *SHAPE]) == 0
    assert load_onnx_detector(get_row(ROW), out)[0].num_classes == 7
    model = onnx.load(out)
    meta = json.loads({p.key: p.value for p in model.metadata_props}[META_KEY])
    if recorded is None:
        del meta["model_overrides"]["num_classes"]  # the row's 81 then
    else:
        meta["model_overrides"]["num_classes"] = recorded
    onnx.helper.set_model_props(model, {META_KEY: json.dumps(meta)})
    onnx.save(model, out)
    with pytest.raises(InputError, match="scores 7 classes, but its metadata says num_classes") as info:
        load_onnx_detector(get_row(ROW), out)
    assert str(info.value).startswith(f"{out}: ")


def test_onnx_has_only_standard_operators(tiny_checkpoint, tmp_path):
    onnx = pytest.importorskip("onnx")
    out = tmp_path / "det.onnx"
    assert export_cli.main(["--row", ROW, "--ckpt", str(tiny_checkpoint()), "--out", str(out), *SHAPE]) == 0
    model = onnx.load(out)
    onnx.checker.check_model(model, full_check=True)
    assert {node.domain for node in model.graph.node} <= {"", "ai.onnx"}
    assert "RoiAlign" in {node.op_type for node in model.graph.node}


@pytest.mark.slow  # torch.export of a detector: ~10-30 s on 2 busy cores
def test_pt2_matches_eager(tiny_checkpoint, tmp_path, capsys):
    ckpt = tiny_checkpoint(with_global=True)
    out = tmp_path / "det.pt2"
    assert export_cli.main(["--row", ROW, "--ckpt", str(ckpt), "--out", str(out), *SHAPE, "--check"]) == 0
    assert "check: torch.export.load vs eager PyTorch" in capsys.readouterr().out
    module = torch.export.load(out).module()
    clip, rois = random_inputs((3, 3, 4, 80, 56), rois_per_clip=5, seed=3)
    torch.testing.assert_close(module(clip, rois), eager_scores(ckpt, clip, rois), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "det.tflite"], "must end in .onnx or .pt2"),
        (["--out", "det.onnx", "--clip-shape", "1x4x4x64x96"], "expected Bx3xTxHxW"),
        (["--out", "det.onnx", "--aoti"], "--aoti needs --out NAME.pt2"),
    ],
)
def test_bad_arguments(tmp_path, capsys, args, message):
    assert export_cli.main(["--row", ROW, "--ckpt", str(tmp_path / "x.pth"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]


def test_aoti_refuses_the_context_head(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "det.pt2"
    assert (
        export_cli.main(
            ["--row", ROW, "--ckpt", str(tiny_checkpoint(with_global=True)), "--out", str(out), "--aoti"]
        )
        == 2
    )
    assert "AOTInductor miscompiles its context head's adaptive_avg_pool2d" in capsys.readouterr().err
    assert not out.exists()


def test_bad_opset_and_missing_checkpoint_are_one_line_errors(tiny_checkpoint, tmp_path, capsys):
    out = str(tmp_path / "det.onnx")
    assert (
        export_cli.main(["--row", ROW, "--ckpt", str(tiny_checkpoint()), "--out", out, "--opset", "13"]) == 2
    )
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --opset 13: must be in [16, 20] (RoiAlign's half_pixel mode "
        "needs 16; 20 is the exporter's newest)"
    ]
    assert export_cli.main(["--row", ROW, "--ckpt", str(tmp_path / "none.pth"), "--out", out]) == 2
    assert "none.pth: checkpoint file not found" in capsys.readouterr().err


def test_failed_check_exits_1(tiny_checkpoint, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export_cli, "TOLERANCE", 0.0)  # onnxruntime differs by ~1e-7
    assert (
        export_cli.main(
            [
                "--row",
                ROW,
                "--ckpt",
                str(tiny_checkpoint()),
                "--out",
                str(tmp_path / "det.onnx"),
                *SHAPE,
                "--check",
            ]
        )
        == 1
    )
    assert "(FAILED: tolerance 0)" in capsys.readouterr().out


@pytest.mark.slow  # a fresh Python process: ~5-15 s
def test_op_without_a_standard_form_is_a_one_line_error_naming_it(tiny_checkpoint, tmp_path):
    """Simulated by dropping the RoIAlign form, in a fresh process: torch's registry keeps an
    empty entry for a form registered once and removed, which fails differently."""
    out = tmp_path / "det.onnx"
    script = (
        "import sys; from slowbench.deploy import onnx_symbolics as s; "
        "del s.SYMBOLICS['slowbench::roi_align_3d']; from slowbench import export; "
        "sys.exit(export.main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "--row",
            ROW,
            "--ckpt",
            str(tiny_checkpoint()),
            "--out",
            str(out),
            *SHAPE,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --row {ROW}: cannot be exported to ONNX")
    assert "slowbench::roi_align_3d" in err[0]
    assert not out.exists()
