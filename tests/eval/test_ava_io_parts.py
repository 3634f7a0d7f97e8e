"""eval.ava.io's reading of one prediction file in pieces (`read_gt_and_pred` reads the head here
and the tail in a forked child): the pieces give exactly the table of one whole read, or the
same one-line error, whatever the bytes and wherever the cut."""

import random

import numpy as np
import pytest
from damage import damaged_bytes, damaged_text
from eval_helpers import GT, PRED

from eval.ava import io as ava_io
from eval.errors import InputError


def test_line_spans_cut_after_a_newline(tmp_path):
    path = tmp_path / "pred.csv"
    path.write_bytes(b"ab\r\ncd\nef")
    assert ava_io._line_spans(path, 0) == ((0, 0), (0, 9))
    assert ava_io._line_spans(path, 1) == ((0, 4), (4, 9))
    assert ava_io._line_spans(path, 3) == ((0, 4), (4, 9))  # a \r\n stays whole
    assert ava_io._line_spans(path, 4) == ((0, 4), (4, 9))  # byte 4 starts a line
    assert ava_io._line_spans(path, 5) == ((0, 7), (7, 9))
    assert ava_io._line_spans(path, 8) == ((0, 9), (9, 9))  # the last line has no newline
    assert ava_io._line_spans(path, 100) == ((0, 9), (9, 9))
    assert ava_io._line_spans(path, -5) == ((0, 0), (0, 9))
    path.write_bytes(b"ab\rcd\ref")  # lone carriage returns: never cut
    assert ava_io._line_spans(path, 1) == ((0, 8), (8, 8))
    path.write_bytes(b"x" * 200_000 + b"\nlast\n")  # the newline beyond the first block read
    assert ava_io._line_spans(path, 10) == ((0, 200_001), (200_001, 200_006))


def test_line_spans_of_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"missing.csv: cannot read"):
        ava_io._line_spans(tmp_path / "missing.csv", 0)


def read_in_parts(path, offset, fractional):
    head, tail = ava_io._line_spans(path, offset)
    parts = [ava_io._fast_part(path, "score", fractional=fractional, span=span) for span in (head, tail)]
    return ava_io._pred_table(path, fractional, parts)


def outcome(read, *args, **kwargs):
    """The table `read(*args, **kwargs)` returns, or the message of the InputError it raises."""
    try:
        return read(*args, **kwargs)
    except InputError as error:
        return str(error)


def assert_same(got, expected):
    assert type(got) is type(expected), (got, expected)
    if isinstance(expected, str):
        assert got == expected
        return
    assert got.keys() == expected.keys()
    for name, values in expected.items():
        assert got[name].dtype == values.dtype
        np.testing.assert_array_equal(got[name], values)


@pytest.mark.parametrize("in_memory_files", [True, False])  # False: temporary files, as off Linux
@pytest.mark.parametrize("fractional", [False, True])
def test_a_larger_file_in_two_parts_equals_one_read(tmp_path, monkeypatch, fractional, in_memory_files):
    in_memory_here = ava_io._reads_parts()
    monkeypatch.setattr(ava_io, "_reads_parts", lambda: in_memory_here and in_memory_files)
    rng = np.random.default_rng(0)
    rows = [
        f"vid{i // 7},{900 + i // 3:04d},{x:.4f},0.1,{x + 0.2:.4f},0.9,{i % 5 + 1},{s:.4f}\n"
        for i, (x, s) in enumerate(zip(rng.uniform(0, 0.7, 500), rng.uniform(0, 1, 500)))
    ]
    path = tmp_path / "pred.csv"
    path.write_text("".join(rows))
    whole = ava_io.read_pred_table(path, fractional=fractional)
    assert whole["video"].size == 500
    for offset in (0, 1, 4000, path.stat().st_size // 2, path.stat().st_size):
        assert_same(read_in_parts(path, offset, fractional), whole)


@pytest.mark.parametrize("seed", range(3))
def test_damaged_files_in_two_parts_give_the_one_reads_table_or_error(tmp_path, seed):
    """Blank lines, lone or doubled carriage returns, bad values, long names, non-UTF-8 bytes:
    the parts' fast path and the text path that names the bad line agree with one read."""
    rng = random.Random(seed)
    text = PRED * 4 + "x" * 60 + ",0902,0.1,0.1,0.5,0.9,1,0.5\n" + PRED
    path = tmp_path / "pred.csv"
    for _ in range(120):
        damaged = damaged_text(text, rng).encode()
        path.write_bytes(damaged_bytes(damaged, rng) if rng.random() < 0.3 else damaged)
        fractional = rng.random() < 0.5
        offset = rng.randrange(path.stat().st_size + 2)
        expected = outcome(ava_io.read_pred_table, path, fractional=fractional)
        assert_same(outcome(read_in_parts, path, offset, fractional), expected)


@pytest.mark.parametrize("fractional", [False, True])
def test_read_gt_and_pred_gives_the_same_tables_with_any_workers(tmp_path, fractional):
    gt_path, pred_path = tmp_path / "gt.csv", tmp_path / "pred.csv"
    gt_path.write_text(GT)
    pred_path.write_text(PRED * 50)
    gt, empty, pred = ava_io.read_gt_and_pred(gt_path, pred_path, fractional=fractional, workers=1)
    assert pred["video"].size == 50 * PRED.count("\n")
    for workers in (2, 3):
        got = ava_io.read_gt_and_pred(gt_path, pred_path, fractional=fractional, workers=workers)
        assert_same(got[0], gt)
        assert_same(got[2], pred)
        assert len(got[1]) == len(empty)
