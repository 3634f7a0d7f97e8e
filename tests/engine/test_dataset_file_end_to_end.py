"""Dataset files end to end on tiny synthetic data: `slowbench.train --dataset`, then
`slowbench.test` (which finds the file in the checkpoint), its `--dump`, the stand-alone evaluator
on the command the dump prints, and the demo. A keyframes dataset read from mp4 files with
`classes = [13, 2, 5]` (pixel boxes, 25 fps, label ids 2..17) and a tubes dataset in UCF101-24's
layout with `classes`; and `--classes` on an official AVA layout."""

import contextlib
import io
import json
import shlex

import numpy as np
import pytest
import torch
from engine_helpers import TINY_ARGS, TINY_KEYFRAMES_SIZE, TINY_MODEL_ARGS, TINY_TUBES_SIZE, one_thread

import eval.ava
import eval.multisports
from eval.safe_pickle import load as safe_load
from slowbench import test as test_cli
from slowbench import train as train_cli
from slowbench.data.synthetic import generate
from slowbench.demo.__main__ import main as demo_main

TUBES_ROW = "multisports-k400-r50-4x16"


def run(main, argv) -> tuple[int, str]:
    """Exit status and stdout of a command (progress bars go to stderr)."""
    out = io.StringIO()
    with one_thread(), contextlib.redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


def evaluate_printed_command(stdout: str):
    """Runs the `python -m eval.X ...` command `slowbench.test --dump` printed; its --json."""
    (line,) = [line for line in stdout.splitlines() if line.startswith("evaluate the dump with: ")]
    words = shlex.split(line.removeprefix("evaluate the dump with: "))
    assert words[:2] == ["python", "-m"]
    main = {"eval.ava": eval.ava.main, "eval.multisports": eval.multisports.main}[words[2]]
    return main, words[3:]


@pytest.fixture(scope="module")
def keyframes_data(tmp_path_factory):
    root = generate(
        tmp_path_factory.mktemp("custom") / "keyframes",
        kind="custom",
        **TINY_KEYFRAMES_SIZE,
        fmt="mp4",
        progress=False,
    )
    path = root / "dataset.toml"
    path.write_text(path.read_text().replace("flip = false", "flip = false\nclasses = [13, 2, 5]"))
    return root


@pytest.fixture(scope="module")
def keyframes_run(keyframes_data, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("keyframes_run")
    argv = [*TINY_ARGS, "--epochs", "1", "--dataset", str(keyframes_data / "dataset.toml")]
    status, stdout = run(train_cli.main, [*argv, "--work-dir", str(work_dir)])
    assert status == 0, stdout
    return work_dir, json.loads((work_dir / "results.json").read_text())


def test_keyframes_training_records_the_dataset_and_its_columns(keyframes_data, keyframes_run):
    work_dir, result = keyframes_run
    assert 0 <= result["mAP"] <= 1 and result["synthetic"] is False
    checkpoint = torch.load(work_dir / "latest.pth", weights_only=True)
    meta = checkpoint["meta"]
    assert meta["dataset_file"] == str(keyframes_data / "dataset.toml")
    assert meta["classes"] == meta["label_ids"] == [13, 2, 5]
    assert meta["model_overrides"]["num_classes"] == 4 and meta["pipeline"]["flip"] is False
    assert checkpoint["state_dict"]["roi_head.bbox_head.fc_cls.weight"].shape[0] == 4


def test_keyframes_test_dump_and_eval_agree(keyframes_data, keyframes_run, tmp_path, capsys):
    work_dir, result = keyframes_run
    dump = tmp_path / "pred.csv"
    argv = ["--row", "ava21-k400-r50-4x16", "--ckpt", str(work_dir / "latest.pth"), "--workers", "0"]
    status, stdout = run(
        test_cli.main, [*argv, "--device", "cpu", "--dump", str(dump), "--json", str(tmp_path / "m.json")]
    )
    assert status == 0, stdout
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["mAP"] == result["mAP"]  # the checkpoint's dataset file, found by itself
    assert set(metrics["per_class"]) <= {"2", "5", "13"}
    predicted = eval.ava.read_csv_pred(dump)
    assert set(predicted["action"]) <= {2, 5, 13} and len(predicted)
    assert (tmp_path / "pred_gt.csv").is_file() and (tmp_path / "pred_labels.txt").is_file()
    main, words = evaluate_printed_command(stdout)
    assert words[words.index("--exclude") + 1] == str(keyframes_data / "val_excluded.csv")
    capsys.readouterr()
    assert main([*words, "--json", str(tmp_path / "eval.json")]) == 0
    assert json.loads((tmp_path / "eval.json").read_text())["mAP"] == metrics["mAP"]


def test_demo_finds_boxes_and_names_in_the_dataset_file(keyframes_data, keyframes_run, tmp_path):
    work_dir, _ = keyframes_run
    video = keyframes_data / "videos" / "clip_0003.mp4"  # the val video
    argv = ["--row", "ava21-k400-r50-4x16", "--ckpt", str(work_dir / "latest.pth"), "--video", str(video)]
    out = ["--out", str(tmp_path / "demo.gif"), "--json", str(tmp_path / "demo.json"), "--gt"]
    status, stdout = run(
        demo_main, [*argv, *out, "--action-thr", "0", "--short-side", "32", "--device", "cpu"]
    )
    assert status == 0, stdout
    shown = json.loads((tmp_path / "demo.json").read_text())
    assert shown["boxes_from"] == str(keyframes_data / "val_proposals.pkl") and shown["detections"]
    labels = {(label["id"], label["name"]) for d in shown["detections"] for label in d["labels"]}
    assert labels and labels <= {(13, "wave"), (2, "move left"), (5, "jump")}


@pytest.fixture(scope="module")
def tubes_run(tmp_path_factory):
    root = generate(
        tmp_path_factory.mktemp("custom") / "tubes",
        kind="tubes",
        **TINY_TUBES_SIZE,
        progress=False,
    )
    path = root / "dataset.toml"
    path.write_text(path.read_text() + "classes = [6, 2, 4, 5]\n")
    work_dir = tmp_path_factory.mktemp("tubes_run")
    argv = [
        "--row",
        TUBES_ROW,
        *TINY_MODEL_ARGS,
        "--batch-size",
        "4",
        "--epochs",
        "1",
        "--dataset",
        str(path),
    ]
    status, stdout = run(train_cli.main, [*argv, "--work-dir", str(work_dir)])
    assert status == 0, stdout
    return root, work_dir, json.loads((work_dir / "results.json").read_text())


def test_tubes_test_dump_and_eval_agree(tubes_run, tmp_path, capsys):
    root, work_dir, result = tubes_run
    checkpoint = torch.load(work_dir / "latest.pth", weights_only=True)
    assert checkpoint["state_dict"]["roi_head.bbox_head.fc_cls.weight"].shape[0] == 4  # no background
    dump = tmp_path / "dets.pkl"
    argv = ["--row", TUBES_ROW, "--ckpt", str(work_dir / "latest.pth"), "--workers", "0", "--device", "cpu"]
    status, stdout = run(test_cli.main, [*argv, "--dump", str(dump), "--json", str(tmp_path / "m.json")])
    assert status == 0, stdout
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["frame_mAP"] == result["frame_mAP"] and metrics["video_mAP"] == result["video_mAP"]
    assert set(metrics["per_class"]) <= {"2", "4", "5", "6"}
    content = safe_load(dump)
    assert set(np.unique(content["frame_dets"][:, 2]).astype(int)) <= {2, 4, 5, 6}
    reduced = safe_load(content["gt_path"])  # classes: the gt of the evaluated labels beside the dump
    assert content["gt_path"] == str(tmp_path / "dets_gt.pkl")
    assert {label for tubes in reduced["gttubes"].values() for label in tubes} <= {2, 4, 5, 6}
    main, words = evaluate_printed_command(stdout)
    capsys.readouterr()
    assert main([*words, "--json", str(tmp_path / "eval.json")]) == 0
    evaluated = json.loads((tmp_path / "eval.json").read_text())
    assert evaluated["frame_mAP"] == metrics["frame_mAP"] and evaluated["video_mAP"] == metrics["video_mAP"]


def test_classes_on_an_official_ava_layout(tiny_ava, tmp_path):
    argv = [*TINY_ARGS, "--epochs", "1", "--data-root", str(tiny_ava), "--classes", "6,1,3"]
    status, stdout = run(train_cli.main, [*argv, "--work-dir", str(tmp_path / "run")])
    assert status == 0, stdout
    checkpoint = torch.load(tmp_path / "run" / "latest.pth", weights_only=True)
    assert checkpoint["meta"]["classes"] == [6, 1, 3]
    assert checkpoint["state_dict"]["roi_head.bbox_head.fc_cls.weight"].shape[0] == 4
    dump = tmp_path / "pred.csv"
    test_argv = ["--row", TINY_ARGS[1], "--ckpt", str(tmp_path / "run" / "latest.pth"), "--workers", "0"]
    status, stdout = run(test_cli.main, [*test_argv, "--dump", str(dump), "--json", str(tmp_path / "m.json")])
    assert status == 0, stdout
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["mAP"] == json.loads((tmp_path / "run" / "results.json").read_text())["mAP"]
    assert set(metrics["per_class"]) <= {"1", "3", "6"}
    assert set(eval.ava.read_csv_pred(dump)["action"]) <= {1, 3, 6}
