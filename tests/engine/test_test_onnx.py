"""`slowbench.test --onnx`: a model exported with `slowbench.export` and run through onnxruntime
scores the validation split like the checkpoint run in PyTorch."""

import contextlib
import io
import json

import pandas as pd
import pytest
from engine_helpers import TINY_ARGS, TINY_ROW, one_thread

from slowbench import export as export_cli
from slowbench import test as test_cli
from slowbench import train as train_cli

pytest.importorskip("onnxruntime")


def run(main, argv) -> str:
    out = io.StringIO()
    with one_thread(), contextlib.redirect_stdout(out):
        assert main(argv) == 0, out.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def exported(tiny_ava, tmp_path_factory):
    work = tmp_path_factory.mktemp("onnx_run")
    run(train_cli.main, [*TINY_ARGS, "--epochs", "1", "--data-root", str(tiny_ava), "--work-dir", str(work)])
    run(
        export_cli.main,
        [
            "--row",
            TINY_ROW,
            "--ckpt",
            str(work / "latest.pth"),
            "--out",
            str(work / "det.onnx"),
            "--clip-shape",
            "1x3x4x32x42",
        ],
    )
    return work


def test_onnx_scores_equal_pytorch(exported):
    results = {}
    for source in (["--ckpt", str(exported / "latest.pth")], ["--onnx", str(exported / "det.onnx")]):
        name = source[0][2:]
        run(
            test_cli.main,
            [
                "--row",
                TINY_ROW,
                *source,
                "--workers",
                "0",
                "--device",
                "cpu",
                "--dump",
                str(exported / f"{name}.csv"),
                "--json",
                str(exported / f"{name}.json"),
            ],
        )
        results[name] = json.loads((exported / f"{name}.json").read_text())
    assert results["onnx"]["mAP"] == pytest.approx(results["ckpt"]["mAP"], abs=1e-6)
    assert results["onnx"]["samples"] == results["ckpt"]["samples"] > 0
    dumps = [pd.read_csv(exported / f"{name}.csv", header=None) for name in ("ckpt", "onnx")]
    assert len(dumps[0]) == len(dumps[1]) > 0
    assert (dumps[0].iloc[:, :7] == dumps[1].iloc[:, :7]).all().all()  # keys, boxes, classes
    assert (dumps[0].iloc[:, 7] - dumps[1].iloc[:, 7]).abs().max() <= 1e-4  # scores


def test_onnx_for_another_row_is_a_one_line_error(exported, capsys):
    status = test_cli.main(
        ["--row", "ava21-k400-r101-8x8", "--onnx", str(exported / "det.onnx"), "--workers", "0"]
    )
    assert status == 2
    assert "exported for row 'ava21-k400-r50-4x16', not 'ava21-k400-r101-8x8'" in capsys.readouterr().err


def test_ckpt_or_onnx_is_required(capsys):
    assert test_cli.main(["--row", TINY_ROW]) == 2
    assert "give exactly one of --ckpt and --onnx" in capsys.readouterr().err
