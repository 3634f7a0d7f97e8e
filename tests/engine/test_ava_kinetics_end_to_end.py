"""AVA-Kinetics end to end on tiny synthetic data: the release is prepared, a tiny model trains on
both parts, and `slowbench.test --part ava|kinetics|both` reproduces the final validation; the
dumps score the same in the stand-alone evaluator."""

import contextlib
import io
import json

import pandas as pd
import pytest
from engine_helpers import TINY_MODEL_ARGS, one_thread

import eval.ava
from slowbench import test as test_cli
from slowbench import train as train_cli
from slowbench.data import prepare_ava_kinetics
from slowbench.data.dataset_files import ava_files, kinetics_val_files
from slowbench.data.synthetic import AVA_DIR, generate
from slowbench.data.synthetic.kinetics_release import VIDEOS_DIR, proposals_path

ROW = "ava22-k400-r50-4x16"


def run_quietly(main, argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with one_thread(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """4 + 2 AVA videos of 5 s and 4 + 3 Kinetics videos of 6 s at 64x48, prepared."""
    release = generate(
        tmp_path_factory.mktemp("ak") / "release",
        "ava-kinetics",
        seed=3,
        videos=4,
        val_videos=3,
        seconds=5,
        width=64,
        height=48,
        persons=(1, 1),
        progress=False,
    )
    out = tmp_path_factory.mktemp("ak") / "ava_kinetics"
    status, _, stderr = run_quietly(
        prepare_ava_kinetics.main,
        [
            "--release",
            str(release / "ava_kinetics_v1_0"),
            "--videos",
            str(release / VIDEOS_DIR),
            "--ava-root",
            str(release / AVA_DIR),
            "--out",
            str(out),
            "--workers",
            "1",
            "--proposals-train",
            str(proposals_path(release, "train")),
            "--proposals-val",
            str(proposals_path(release, "val")),
        ],
    )
    assert status == 0, stderr
    return out


@pytest.fixture(scope="module")
def trained(layout, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("ak_run")
    status, stdout, stderr = run_quietly(
        train_cli.main,
        [
            "--row",
            ROW,
            *TINY_MODEL_ARGS,
            "--epochs",
            "1",
            "--data-root",
            str(layout),
            "--work-dir",
            str(work_dir),
        ],
    )
    assert status == 0, stderr
    return work_dir, json.loads((work_dir / "results.json").read_text()), stdout


def run_test_cli(trained, tmp_path, *part):
    work_dir, _, _ = trained
    status, stdout, stderr = run_quietly(
        test_cli.main,
        [
            "--row",
            ROW,
            "--ckpt",
            str(work_dir / "latest.pth"),
            "--dump",
            str(tmp_path / "pred.csv"),
            "--json",
            str(tmp_path / "metrics.json"),
            "--workers",
            "0",
            "--device",
            "cpu",
            *part,
        ],
    )
    assert status == 0, stderr
    return json.loads((tmp_path / "metrics.json").read_text()), stdout


def test_training_validates_on_both_parts(trained):
    _, result, stdout = trained
    assert {"mAP", "ava_mAP", "kinetics_mAP"} <= result.keys()
    assert all(0.0 <= result[key] <= 1.0 for key in ("mAP", "ava_mAP", "kinetics_mAP"))
    # 4 AVA videos x 2 keyframes (one may be excluded) + 4 Kinetics keyframes to train on.
    assert "training ava22-k400-r50-4x16 on" in stdout
    assert "validating on ava 6 clips (mmaction2) + kinetics 3 clips (activitynet-2020)" in stdout


@pytest.mark.filterwarnings("ignore::eval.errors.InputWarning")  # the dump scores all 80 ids
def test_test_both_parts_reproduces_validation_and_dumps_official_csvs(trained, layout, tmp_path):
    _, result, _ = trained
    metrics, stdout = run_test_cli(trained, tmp_path, "--report", str(tmp_path / "report"))
    assert (tmp_path / "report" / "report.html").is_file()  # of the headline (union) number
    for key in ("mAP", "ava_mAP", "kinetics_mAP"):
        assert metrics[key] == pytest.approx(result[key], abs=1e-12)
    assert f"wrote {tmp_path / 'pred.csv'}, {tmp_path / 'pred_kinetics.csv'}" in stdout
    # The Kinetics dump names YouTube ids and source-video seconds, as the release's gt does.
    kinetics = kinetics_val_files(layout)
    gt, empty = eval.ava.read_csv_gt_2020(kinetics.gt_csv)
    pred = eval.ava.read_csv_pred(tmp_path / "pred_kinetics.csv", fractional=True)
    listed = set(gt["video"]) | set(empty["video"])
    assert set(pred["video"]) == listed
    assert set(pred["timestamp"]) == set(gt["timestamp"]) | set(empty["timestamp"])
    assert any(t != int(t) for t in pred["timestamp"])  # a fractional keyframe survives the trip
    label_map = eval.ava.read_label_map(kinetics.label_map)
    alone = eval.ava.evaluate(gt, pred, label_map, protocol="activitynet-2020", empty_keyframes=empty)
    assert alone["mAP"] == pytest.approx(metrics["kinetics_mAP"], abs=1e-12)
    ava = ava_files(layout, "val", "2.2")
    ava_gt = eval.ava.read_csv_gt(ava.annotations)
    ava_pred = eval.ava.read_csv_pred(tmp_path / "pred.csv")
    assert eval.ava.evaluate(ava_gt, ava_pred, label_map, eval.ava.read_exclusions(ava.exclusions))[
        "mAP"
    ] == pytest.approx(metrics["ava_mAP"], abs=1e-12)
    # The challenge's number: the union of both files under the 2020 protocol (no exclusions:
    # AVA's excluded frames are left out of the gt).
    excluded = eval.ava.read_exclusions(ava.exclusions)
    kept = [key not in excluded for key in zip(ava_gt["video"], ava_gt["timestamp"])]
    union = eval.ava.evaluate(
        pd.concat([ava_gt[kept], gt]),
        pd.concat([ava_pred, pred]),
        label_map,
        protocol="activitynet-2020",
        empty_keyframes=empty,
    )
    assert union["mAP"] == pytest.approx(metrics["mAP"], abs=1e-12)
    # --json holds the headline evaluation's own --json fields, per class.
    assert metrics["protocol"] == "activitynet-2020"
    assert {key: entry["ap"] for key, entry in metrics["per_class"].items()} == pytest.approx(
        {key: entry["ap"] for key, entry in union["per_class"].items()}, abs=1e-12
    )
    assert "errors" in metrics  # --report evaluates with the error analysis


@pytest.mark.parametrize("part", ["ava", "kinetics"])
def test_one_part_alone(trained, tmp_path, part):
    _, result, _ = trained
    metrics, stdout = run_test_cli(trained, tmp_path, "--part", part)
    assert metrics["mAP"] == pytest.approx(result[f"{part}_mAP"], abs=1e-12)
    assert f"{part}_mAP" not in metrics
    assert metrics["protocol"] == {"ava": "mmaction2", "kinetics": "activitynet-2020"}[part]
    written = tmp_path / ("pred.csv" if part == "ava" else "pred_kinetics.csv")
    assert f"wrote {written}\n" in stdout


def test_kinetics_part_missing_is_one_line(trained, tiny_ava, tmp_path):
    work_dir, _, _ = trained
    status, _, stderr = run_quietly(
        test_cli.main,
        [
            "--row",
            ROW,
            "--ckpt",
            str(work_dir / "latest.pth"),
            "--data-root",
            str(tiny_ava),
            "--part",
            "kinetics",
            "--workers",
            "0",
            "--device",
            "cpu",
        ],
    )
    assert status == 2
    (line,) = stderr.strip().splitlines()
    assert line.startswith(f"error: --part kinetics: {tiny_ava} has no Kinetics part of the val split")
