"""The MultiSports row end to end on tiny synthetic data: train, then `slowbench.test` on the saved
checkpoint, then the stand-alone `eval.multisports` on the dump — all three report the same metrics."""

import contextlib
import io
import json
import pickle

import pytest
import torch
from engine_helpers import TINY_MODEL_ARGS, one_thread

import eval.compare
import eval.multisports
from eval.report.tables import percent
from eval.safe_pickle import load as safe_load
from slowbench import test as test_cli
from slowbench import train as train_cli

ROW = "multisports-k400-r50-4x16"
VIDEO_KEYS = ["0.2", "0.5", "0.1:0.9", "0.05:0.45", "0.5:0.95"]


def run_quietly(main, argv) -> tuple[int, str]:
    """Exit status and stdout of a CLI's ``main(argv)`` (the progress bars go to stderr)."""
    out = io.StringIO()
    with one_thread(), contextlib.redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


@pytest.fixture(scope="module")
def trained(tiny_multisports, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("multisports_run")
    status, stdout = run_quietly(
        train_cli.main,
        [
            "--row",
            ROW,
            *TINY_MODEL_ARGS,
            "--batch-size",
            "4",
            "--epochs",
            "2",
            "--seed",
            "1",
            "--data-root",
            str(tiny_multisports),
            "--work-dir",
            str(work_dir),
        ],
    )
    assert status == 0, stdout
    return work_dir, json.loads((work_dir / "results.json").read_text()), stdout


@pytest.fixture(scope="module")
def tested(trained, tmp_path_factory):
    work_dir, _, _ = trained
    out = tmp_path_factory.mktemp("multisports_test")
    status, stdout = run_quietly(
        test_cli.main,
        [
            "--row",
            ROW,
            "--ckpt",
            str(work_dir / "latest.pth"),
            "--dump",
            str(out / "preds.pkl"),
            "--json",
            str(out / "metrics.json"),
            "--workers",
            "0",
            "--device",
            "cpu",
        ],
    )
    assert status == 0, stdout
    return out / "preds.pkl", json.loads((out / "metrics.json").read_text()), stdout


def test_train_writes_results_and_checkpoint(trained):
    work_dir, result, stdout = trained
    assert result["row"] == ROW and result["epochs"] == 2 and result["device"] == "cpu"
    assert result["seconds"] > 0 and result["synthetic"] is True
    assert "mAP" not in result  # MultiSports reports frame- and video-mAP, not AVA's mAP
    assert 0.0 <= result["frame_mAP"] <= 1.0
    assert sorted(result["video_mAP"]) == sorted(VIDEO_KEYS)
    assert all(0.0 <= value <= 1.0 for value in result["video_mAP"].values())
    checkpoint = torch.load(result["checkpoint"], weights_only=True)
    assert result["checkpoint"] == str(work_dir / "latest.pth")
    # 150 train clips at batch 4: 38 iterations per epoch.
    assert (checkpoint["epoch"], checkpoint["iteration"]) == (2, 76)
    assert checkpoint["meta"]["row"] == ROW
    # One head column per synthetic action (MultiSports labels are 0-based, no background column).
    assert checkpoint["state_dict"]["roi_head.bbox_head.fc_cls.weight"].shape[0] == 7
    vals = [json.loads(line) for line in (work_dir / "log.jsonl").read_text().splitlines()]
    assert [v["epoch"] for v in vals if v["event"] == "val"] == [1, 2]
    assert f"validation frame_mAP {result['frame_mAP']:.4f}" in stdout


def test_test_command_reproduces_the_final_validation(trained, tested):
    _, result, _ = trained
    _, metrics, stdout = tested
    assert metrics["row"] == ROW and metrics["samples"] == 150
    # Same weights, same data, same evaluator: identical numbers, not merely close.
    assert metrics["frame_mAP"] == result["frame_mAP"]
    assert metrics["video_mAP"] == result["video_mAP"]
    assert f"frame_mAP {result['frame_mAP']:.4f} video_mAP@0.2 {result['video_mAP']['0.2']:.4f}" in stdout
    # Where the time went: every clip timed, loader waits and forward passes separately.
    timing = metrics["input"]
    assert timing["clips"] == 150 and timing["workers"] == 0
    assert timing["working_s"] > 0 and timing["clips_per_s"] > 0 and 0 <= timing["waiting_share"] <= 1
    assert f"input: 150 clips, {timing['clips_per_s']} clips/s after the first;" in stdout


def test_test_json_is_an_eval_result_that_eval_compare_reads(tested, tmp_path, capsys):
    dump, metrics, _ = tested
    assert eval.multisports.main([str(dump), "--json", str(tmp_path / "eval.json")]) == 0
    evaluated = json.loads((tmp_path / "eval.json").read_text())
    assert metrics["per_class"] == evaluated["per_class"]  # the same fields as eval's own --json
    assert metrics["video_mAP_by_thr"] == evaluated["video_mAP_by_thr"]
    capsys.readouterr()
    metrics_path = dump.parent / "metrics.json"
    assert eval.compare.main([str(metrics_path), str(tmp_path / "eval.json")]) == 0
    assert "frame-mAP" in capsys.readouterr().out


def test_dump_covers_every_annotated_val_frame(tiny_multisports, tested):
    dump, _, _ = tested
    content = safe_load(dump)
    assert not (tiny_multisports / "rawframes").exists()  # the clips came from the mp4 files
    gt = safe_load(tiny_multisports / "annotations" / "multisports_GT.pkl")
    assert content["gt_path"] == str((tiny_multisports / "annotations" / "multisports_GT.pkl").resolve())
    dets = content["frame_dets"]
    assert dets.ndim == 2 and dets.shape[1] == 8
    (video,) = gt["test_videos"][0]
    annotated = {
        int(frame) for tubes in gt["gttubes"][video].values() for tube in tubes for frame in tube[:, 0]
    }
    # Frame numbers are the GT's 1-based ones (an off-by-one would still score well on slow motion).
    assert set(dets[:, 0].astype(int)) == {0} and set(dets[:, 1].astype(int)) == annotated
    h, w = gt["resolution"][video]
    assert dets[:, 4:].min() >= 0 and dets[:, [4, 6]].max() <= w and dets[:, [5, 7]].max() <= h


def test_standalone_evaluator_reports_the_same_numbers(trained, tested, tmp_path, capsys):
    _, result, _ = trained
    dump, _, _ = tested
    assert eval.multisports.main([str(dump), "--json", str(tmp_path / "eval.json")]) == 0
    table = capsys.readouterr().out
    evaluated = json.loads((tmp_path / "eval.json").read_text())
    assert evaluated["frame_mAP"] == result["frame_mAP"]  # fractions in the JSON
    assert evaluated["video_mAP"] == result["video_mAP"]
    # The table prints percentages.
    rows = dict(
        line.split(maxsplit=1) for line in table.splitlines() if line.startswith(("frame-", "video-"))
    )
    assert rows["frame-mAP@0.5"].strip() == percent(result["frame_mAP"])
    assert rows["video-mAP@0.2"].strip() == percent(result["video_mAP"]["0.2"])
    assert float(rows["video-mAP@0.5"]) == pytest.approx(100 * result["video_mAP"]["0.5"], abs=1e-4)


def test_dump_directory_and_report(tiny_multisports, trained, tmp_path):
    """`--dump DIR/` writes the official toolkit's pair, which gives back the run's numbers;
    `--report DIR` writes eval's report holding them."""
    work_dir, result, _ = trained
    status, stdout = run_quietly(
        test_cli.main,
        [
            "--row",
            ROW,
            "--ckpt",
            str(work_dir / "latest.pth"),
            "--dump",
            f"{tmp_path}/official/",
            "--report",
            str(tmp_path / "report"),
            "--workers",
            "0",
            "--device",
            "cpu",
        ],
    )
    assert status == 0, stdout
    with open(tmp_path / "official" / "frame_detections.pkl", "rb") as file:
        frames = pickle.load(file)
    with open(tmp_path / "official" / "video_detections.pkl", "rb") as file:
        tubes = pickle.load(file)
    gt = eval.multisports.load_gt(tiny_multisports / "annotations" / "multisports_GT.pkl")
    again = eval.multisports.evaluate(gt, frames, video_dets=tubes)
    assert again["frame_mAP"] == result["frame_mAP"] and again["video_mAP"] == result["video_mAP"]
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert f'frame-mAP@0.5</td><td data-value="{result["frame_mAP"]!r}"' in page
