"""eval.atomic: temp file + rename, strict JSON, one-line errors for unwritable destinations."""

import json
import math
import os
import pickle
import stat

import pytest

from eval.atomic import atomic_bytes, atomic_json, atomic_pickle, atomic_write
from eval.errors import InputError


@pytest.mark.parametrize("write", [atomic_json, atomic_pickle])
def test_a_failed_write_leaves_the_old_file_and_no_temp(write, tmp_path):
    target = tmp_path / "out"
    write({"ok": 1}, target)
    before = target.read_bytes()
    with pytest.raises((TypeError, AttributeError, pickle.PicklingError)):
        write({"bad": lambda: None}, target)  # neither JSON nor pickle can hold a lambda
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["out"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_json_refuses_non_finite_numbers(value, tmp_path):
    """The one NaN policy: strict JSON; a missing value is None (null), never NaN."""
    with pytest.raises(ValueError, match="JSON compliant"):
        atomic_json({"ap": value}, tmp_path / "r.json")
    assert os.listdir(tmp_path) == []
    atomic_json({"ap": None, "mAP": 0.5}, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == {"ap": None, "mAP": 0.5}


def test_missing_folders_are_created(tmp_path):
    path = atomic_write(tmp_path / "a" / "b" / "c.bin", lambda file: file.write(b"xyz"))
    assert path.read_bytes() == b"xyz"


def test_a_destination_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InputError, match=r"file/sub/r\.json: cannot write \("):
        atomic_json({}, tmp_path / "file" / "sub" / "r.json")


def test_outputs_get_the_mode_a_plain_open_gives(tmp_path):
    mask = os.umask(0o022)
    try:
        written = atomic_bytes(b"x", tmp_path / "out.bin")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
