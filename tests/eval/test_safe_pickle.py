"""eval.safe_pickle: plain data and numpy arrays load, anything else is refused before import."""

import io
import os
import pickle

import numpy as np
import pytest

from eval import safe_pickle
from eval.errors import InputError


class _Payload:
    """An object whose unpickling would run `os.system`."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _write(tmp_path, obj, protocol):
    path = tmp_path / f"obj_p{protocol}.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_plain_data_and_numpy_round_trip(tmp_path, protocol):
    obj = {
        "arr": np.arange(12, dtype=np.float32).reshape(3, 4),
        "view": np.arange(12.0).reshape(3, 4)[:, ::2],
        "ints": np.array([1, 2], dtype=np.int64),
        "text": np.array(["a", "bc"]),
        "scalar": np.float64(0.5),
        "flag": np.bool_(True),
        "dtype": np.dtype("f4"),
        "nested": [(1, 2.5, None, True), {3, 4}, frozenset({5}), b"raw", "str", 1 + 2j],
    }
    loaded = safe_pickle.load(_write(tmp_path, obj, protocol))
    assert set(loaded) == set(obj)
    for key in ("arr", "view", "ints", "text"):
        np.testing.assert_array_equal(loaded[key], obj[key])
        assert loaded[key].dtype == obj[key].dtype
    assert loaded["scalar"] == 0.5 and loaded["flag"] and loaded["dtype"] == np.dtype("f4")
    assert loaded["nested"] == obj["nested"]


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_malicious_global_is_refused_with_file_and_global(tmp_path, protocol):
    path = _write(tmp_path, {"x": _Payload()}, protocol)
    with pytest.raises(InputError) as info:
        safe_pickle.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert f"'{os.system.__module__}.system'" in message


def test_user_class_is_refused(tmp_path):
    path = _write(tmp_path, [pytest.approx(1.0)], 4)
    with pytest.raises(InputError, match="refusing to unpickle global '_pytest"):
        safe_pickle.load(path)


def test_garbage_truncated_and_missing_files_raise_one_line_input_error(tmp_path):
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"this is not a pickle")
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(pickle.dumps(np.arange(100.0), protocol=4)[:50])
    # Found by fuzzing: a length beyond the address space (OverflowError) and a dtype state with
    # an extra item, on which numpy's __setstate__ returns NULL without an exception (SystemError).
    huge = tmp_path / "huge_length.pkl"
    huge.write_bytes(b"\x80\x04\x8e" + (2**63).to_bytes(8, "little"))
    dtype_state = pickle.dumps(np.zeros(2), protocol=4)
    assert dtype_state.count(b"\x8c\x01<\x94") == 1  # the byte order '<' of the dtype's state
    damaged = tmp_path / "damaged_dtype.pkl"
    damaged.write_bytes(dtype_state.replace(b"\x8c\x01<\x94", b"\x8c\x01<}"))
    for path in (garbage, truncated, huge, damaged, tmp_path / "missing.pkl", tmp_path):
        with pytest.raises(InputError) as info:
            safe_pickle.load(path)
        assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "relative",
    [
        "fixtures/mmaction2_tests/eval_multisports/gt.pkl",
        "fixtures/mmaction2_tests/eval_multisports/data_samples_numpy.pkl",
        "fixtures/mmaction2_tests/eval_detection/proposal.pkl",
        "fixtures/mmaction2_tests/ava_dataset/ava_proposals_sample.pkl",
        "fixtures/mmaction2_tests/multisports_dataset/multisports_proposals_sample.pkl",
    ],
)
def test_fixture_numpy_pickles_load(shared_file, relative):
    path = shared_file(relative)
    _assert_same(safe_pickle.load(path), pickle.loads(path.read_bytes()))


def _assert_same(got, want):
    assert type(got) is type(want)
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            _assert_same(got[key], want[key])
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same(g, w)
    else:
        assert got == want


@pytest.mark.shared_data
def test_fixture_gt_content(shared_file):
    gt = safe_pickle.load(shared_file("fixtures/mmaction2_tests/eval_multisports/gt.pkl"))
    assert len(gt["labels"]) == 66
    assert gt["test_videos"] == [["aerobic_gymnastics/v_crsi07chcV8_c004"]]
    tubes = gt["gttubes"]["aerobic_gymnastics/v_crsi07chcV8_c004"]
    assert sum(len(v) for v in tubes.values()) == 8
    assert tubes[10][0].dtype == np.float32 and tubes[10][0].shape == (21, 5)


@pytest.mark.shared_data
def test_torch_pickle_is_refused(shared_file):
    path = shared_file("fixtures/mmaction2_tests/eval_multisports/data_samples.pkl")
    with pytest.raises(InputError, match="refusing to unpickle global 'torch"):
        safe_pickle.load(path)


class _Python2Pickler(pickle._Pickler):
    """Writes `bytes` as Python 2 wrote its `str` (BINSTRING opcodes), as in ACT's gt pickles of
    UCF101-24 and JHMDB-21, whose numpy arrays carry their raw data that way."""

    def save_bytes(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + len(obj).to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch = {**pickle._Pickler.dispatch, bytes: save_bytes}


def test_python2_pickles_of_numpy_arrays_load(tmp_path):
    tube = np.array([[1, 10.5, 20, 30, 40], [2, 11, 21, 31, 255.75]], dtype=np.float32)
    stream = io.BytesIO()
    _Python2Pickler(stream, protocol=2).dump({"gttubes": {"v": {0: [tube]}}, "nframes": {"v": 2}})
    assert pickle.SHORT_BINSTRING in stream.getvalue()  # raw array bytes, not _codecs.encode
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(stream.getvalue())  # Python 3's default (ASCII) cannot read it
    path = tmp_path / "py2.pkl"
    path.write_bytes(stream.getvalue())
    loaded = safe_pickle.load(path)
    np.testing.assert_array_equal(loaded["gttubes"]["v"][0][0], tube)
    assert loaded["nframes"] == {"v": 2}
