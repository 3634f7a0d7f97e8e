"""Every mistake in a dataset file is one `error:` line naming the file and key (or line), exit
status 2, before any training: `slowbench.train --dataset` writes nothing to its work dir, and
`python -m slowbench.data.check` reports the same line."""

from __future__ import annotations

import pytest
from custom_dataset import ROWS, csv_text, write_dataset

from slowbench import train as train_cli
from slowbench.data import check as check_cli
from slowbench.engine.checkpoint_data import checkpoint_dataset
from slowbench.errors import InputError

TRAIN = ["--row", "ava21-k400-r50-4x16", "--device", "cpu", "--workers", "0"]


def _replace(old: str, new: str):
    def change(root):
        path = root / "dataset.toml"
        path.write_text(path.read_text().replace(old, new, 1))

    return change


def _rows(rows):
    def change(root):
        for split in ("train", "val"):
            (root / f"{split}.csv").write_text(csv_text(rows, pixels=True))

    return change


def _delete(name: str):
    def change(root):
        (root / name).unlink()

    return change


# name: (change to the valid dataset, what the one line must say)
CASES = {
    "unknown key": (_replace("fps = 25", 'fps = 25\ncolour = "red"'), "dataset.toml: colour: unknown key"),
    "unknown split key": (
        _replace('annotations = "val.csv"', 'annotation = "val.csv"'),
        "val.annotation: unknown key",
    ),
    "missing labels file": (_delete("labels.pbtxt"), "dataset.toml: labels: file "),
    "missing annotations": (_delete("train.csv"), "dataset.toml: train.annotations: file "),
    "template matches no frame": (
        _replace("f{frame:04d}.png", "img_{frame:05d}.jpg"),
        "dataset.toml: frames: ",
    ),
    "template without frame field": (
        _replace("f{frame:04d}.png", "frame.png"),
        "dataset.toml: frames: the template",
    ),
    "label not in labels": (
        _rows([*ROWS, ("b", "2", (0, 0, 8, 8), 9, 1)]),
        "train.csv:6: label 9 is not in the labels file",
    ),
    "fps zero": (_replace("fps = 25", "fps = 0"), "dataset.toml: fps: must be > 0, got 0"),
    "fps negative": (_replace("fps = 25", "fps = -25"), "dataset.toml: fps: must be > 0"),
    "fps missing": (_replace("fps = 25", ""), "dataset.toml: fps: missing"),
    "class not in labels": (
        _replace("fps = 25", "fps = 25\nclasses = [2, 99]"),
        "dataset.toml: classes: 99 is not a label id",
    ),
    "video shorter than its last clip": (
        _rows([*ROWS, ("b", "3.5", (0, 0, 8, 8), 2, 1)]),
        "train.csv: video 'b' has 100 frames, but its last keyframe at 3.5 s",
    ),
    "not toml": (_replace("fps = 25", "fps = = 25"), "dataset.toml: not TOML"),
    "frames and videos": (
        _replace("fps = 25", 'fps = 25\nvideos = "v/{video}.mp4"'),
        "dataset.toml: frames: give exactly one",
    ),
    "pixel boxes said normalized": (
        _replace('boxes = "pixels"', 'boxes = "normalized"'),
        "train.csv:1: box outside [0, 1]",
    ),
    "bad box unit": (_replace('boxes = "pixels"', 'boxes = "px"'), "dataset.toml: boxes: expected one of"),
    "exclusions under the 2020 protocol": (
        _replace('proposals = "gt"\n\n[val]', 'proposals = "gt"\n\n[val]\nexclusions = "train.csv"'),
        "dataset.toml: val.exclusions: the activitynet-2020 protocol has no exclusions",
    ),
    "fractional val timestamp, mmaction2 protocol": (
        _replace('protocol = "activitynet-2020"', 'protocol = "mmaction2"'),
        "dataset.toml: protocol: 'mmaction2' keys frames by whole seconds, but ",
    ),
}


def _dataset(tmp_path, change):
    """The valid dataset (its fractional val keyframe needs the 2020 protocol), then the mistake."""
    path = write_dataset(tmp_path / "data", extra='protocol = "activitynet-2020"')
    change(tmp_path / "data")
    return path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


@pytest.mark.parametrize("case", list(CASES))
def test_train_refuses_before_writing(case, tmp_path, capsys):
    change, expected = CASES[case]
    path = _dataset(tmp_path, change)
    work_dir = tmp_path / "run"
    status = train_cli.main([*TRAIN, "--dataset", str(path), "--work-dir", str(work_dir)])
    line = _one_error_line(capsys)
    assert status == 2
    assert expected in line, line
    assert not work_dir.exists()
    assert check_cli.main([str(path), "--row", "ava21-k400-r50-4x16"]) == 2
    assert _one_error_line(capsys) == line


def test_the_valid_dataset_passes_the_check(tmp_path, capsys):
    path = _dataset(tmp_path, lambda root: None)
    assert check_cli.main([str(path), "--row", "ava21-k400-r50-4x16"]) == 0
    out = capsys.readouterr().out
    assert "train: 2 videos (2 with frames, 200 frames), 3 keyframes, 4 boxes" in out
    assert "      7 wave: 2 boxes" in out and "head: 4 columns (column 0: background), 3 of 3 labels" in out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--classes", "2,99"], "dataset.toml: --classes: 99 is not a label id"),
        (["--classes", "2,x"], "argument --classes: expected comma-separated label ids"),
        (["--data-root", "somewhere"], "--dataset and --data-root: give one of them"),
    ],
)
def test_command_line_mistakes(argv, expected, tmp_path, capsys):
    path = _dataset(tmp_path, lambda root: None)
    work_dir = tmp_path / "run"
    status = train_cli.main([*TRAIN, "--dataset", str(path), "--work-dir", str(work_dir), *argv])
    line = _one_error_line(capsys)
    assert status == 2 and expected in line, line
    assert not work_dir.exists()


def test_test_and_demo_refuse_both_data_sources():
    """`slowbench.test` and `slowbench.demo` read their data through `checkpoint_dataset`."""
    with pytest.raises(InputError, match="--dataset and --data-root: give one of them"):
        checkpoint_dataset("dataset.toml", "data/ava", {}, width=4, source="model.pth")
