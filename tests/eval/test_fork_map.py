"""eval.fork_map: results in order from forked children, their exceptions re-raised here."""

import os
import sys
import time

import numpy as np
import pytest

from eval.errors import InputError
from eval.fork_map import ChildTraceback, fork_map

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")


def test_results_in_item_order_each_from_its_own_process():
    got = fork_map(lambda item: (item * item, os.getpid()), [3, 1, 2])
    assert [value for value, _ in got] == [9, 1, 4]
    pids = [pid for _, pid in got]
    assert pids[0] == os.getpid() and len(set(pids)) == 3


def test_arrays_come_back_whole_writable_and_aligned():
    """A child's arrays travel out of band in its result file (mapped here, not copied)."""

    def make(seed):
        rng = np.random.default_rng(seed)
        return {
            "floats": rng.normal(size=(300, 7)),
            "bytes": rng.integers(0, 255, size=1001, dtype=np.uint8),  # a size that is not aligned
            "strided": np.arange(20.0)[::2],
            "names": np.array(["a", "bb", None], dtype=object),
            "empty": np.zeros(0),
        }

    here, child = fork_map(make, [1, 2])
    expected = make(2)
    for name, values in expected.items():
        np.testing.assert_array_equal(child[name], values)
        assert child[name].dtype == values.dtype
    assert child["floats"].flags.writeable and child["floats"].ctypes.data % 64 == 0
    child["floats"][0, 0] = 5.0  # a private mapping: the write stays in this process
    assert child["floats"][0, 0] == 5.0 and here["floats"].shape == (300, 7)


def test_one_item_runs_here():
    assert fork_map(lambda item: os.getpid(), ["only"]) == [os.getpid()]


def test_off_linux_every_item_runs_here(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert fork_map(lambda item: (item, os.getpid()), [1, 2]) == [(1, os.getpid()), (2, os.getpid())]


def _refuse(item):
    if item == "bad":
        raise InputError("bad.csv:3: not a number")
    return item


def test_a_childs_exception_keeps_its_type_message_and_traceback():
    with pytest.raises(InputError, match=r"^bad.csv:3: not a number$") as caught:
        fork_map(_refuse, ["good", "bad"])
    assert isinstance(caught.value.__cause__, ChildTraceback)
    assert "in _refuse" in str(caught.value.__cause__)


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("no pickling")


def test_an_exception_that_cannot_be_pickled_arrives_as_its_text():
    def fail(item):
        if item:
            raise _Unpicklable("lost detail")

    with pytest.raises(RuntimeError, match="_Unpicklable: lost detail"):
        fork_map(fail, [0, 1])


def test_a_child_that_dies_without_a_result_is_an_error():
    def die(item):
        if item:
            os._exit(3)

    with pytest.raises(RuntimeError, match="ended without a result"):
        fork_map(die, [0, 1])


def test_children_are_stopped_when_this_process_fails_first():
    def work(item):
        if item == 0:
            raise ValueError("here first")
        time.sleep(60)

    start = time.monotonic()
    with pytest.raises(ValueError, match="here first"):
        fork_map(work, [0, 1, 2])
    assert time.monotonic() - start < 30
