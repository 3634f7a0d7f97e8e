"""eval.atomic: temp file or staging folder + rename, strict JSON, one-line errors for unwritable
destinations."""

import json
import math
import os
import pickle
import stat

import pytest

from eval.atomic import atomic_bytes, atomic_folder, atomic_json, atomic_pickle, atomic_write, staged_file
from eval.errors import InputError


@pytest.mark.parametrize("write", [atomic_json, atomic_pickle])
def test_a_failed_write_leaves_the_old_file_and_no_temp(write, tmp_path):
    target = tmp_path / "out"
    write(target, {"ok": 1})
    before = target.read_bytes()
    with pytest.raises((TypeError, AttributeError, pickle.PicklingError)):
        write(target, {"bad": lambda: None})  # neither JSON nor pickle can hold a lambda
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["out"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_json_refuses_non_finite_numbers(value, tmp_path):
    """The one NaN policy: strict JSON; a missing value is None (null), never NaN."""
    with pytest.raises(ValueError, match="JSON compliant"):
        atomic_json(tmp_path / "r.json", {"ap": value})
    assert os.listdir(tmp_path) == []
    atomic_json(tmp_path / "r.json", {"ap": None, "mAP": 0.5})
    assert json.loads((tmp_path / "r.json").read_text()) == {"ap": None, "mAP": 0.5}


def test_missing_folders_are_created(tmp_path):
    path = atomic_write(tmp_path / "a" / "b" / "c.bin", lambda file: file.write(b"xyz"))
    assert path.read_bytes() == b"xyz"


def test_a_destination_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InputError, match=r"file/sub/r\.json: cannot write \("):
        atomic_json(tmp_path / "file" / "sub" / "r.json", {})


def test_outputs_get_the_mode_a_plain_open_gives(tmp_path):
    mask = os.umask(0o022)
    try:
        written = atomic_bytes(tmp_path / "out.bin", b"x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644


def test_a_staged_file_appears_only_when_its_block_ends(tmp_path):
    target = tmp_path / "sub" / "model.bin"
    with staged_file(target) as temp:
        temp.write_bytes(b"abc")
        assert not target.exists()
    assert target.read_bytes() == b"abc"
    with pytest.raises(RuntimeError), staged_file(target) as temp:
        temp.write_bytes(b"torn")
        raise RuntimeError("the writer failed")
    assert target.read_bytes() == b"abc"
    assert os.listdir(target.parent) == ["model.bin"]


def test_a_folder_appears_only_when_complete(tmp_path):
    target = tmp_path / "frames" / "video"
    with atomic_folder(target) as staging:
        (staging / "img_00001.jpg").write_bytes(b"1")
        assert not target.exists()
    assert os.listdir(target) == ["img_00001.jpg"]
    assert os.listdir(target.parent) == ["video"]


def test_a_failed_or_killed_folder_leaves_nothing_and_a_rerun_starts_clean(tmp_path):
    target = tmp_path / "video"
    with pytest.raises(RuntimeError), atomic_folder(target) as staging:
        (staging / "img_00001.jpg").write_bytes(b"1")
        raise RuntimeError("the writer failed")
    assert os.listdir(tmp_path) == []
    killed = tmp_path / ".video.partial"  # what a SIGKILL leaves
    killed.mkdir()
    (killed / "img_00009.jpg").write_bytes(b"old")
    with atomic_folder(target) as staging:
        assert list(staging.iterdir()) == []
        (staging / "img_00001.jpg").write_bytes(b"1")
    assert os.listdir(tmp_path) == ["video"]
    assert os.listdir(target) == ["img_00001.jpg"]


def test_a_folder_that_cannot_be_created_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with (
        pytest.raises(InputError, match=r"file/video: cannot create \("),
        atomic_folder(tmp_path / "file" / "video"),
    ):
        pass
