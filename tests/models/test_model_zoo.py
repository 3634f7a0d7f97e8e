"""Model-zoo rows: count, names, aliases, values from the reference tables, CLI."""

import dataclasses
import subprocess
import sys

import pytest

from slowbench.errors import InputError
from slowbench.model_zoo import ROWS, UnknownRowError, ZooRow, get_row


def test_fifteen_rows_in_reference_order_with_unique_names():
    assert [row.letter for row in ROWS] == list("ABCDEFGHIJKLMNO")
    assert len({row.name for row in ROWS}) == 15
    assert len({row.config for row in ROWS}) == 15
    assert len({row.checkpoint for row in ROWS}) == 15


def test_more_frames_row_is_ava22_k700_16x4():
    row = get_row("ava22-k700-16x4")
    assert row.letter == "N"
    assert (row.clip_len, row.frame_interval) == (16, 4)
    assert row.with_global and row.mlp_head and row.temporal_pool_mode == "max"
    assert row.focal_gamma == 1.0 and row.mAP == 31.29


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_config_name_is_an_alias(row):
    assert get_row(row.config) is row
    assert get_row(row.config + ".py") is row
    assert get_row(f"configs/detection/slowonly/{row.config}.py") is row
    assert row.config in row.checkpoint and row.checkpoint.endswith(".pth")


def test_unknown_name_lists_known_rows_in_one_line():
    with pytest.raises(KeyError) as caught:
        get_row("ava21-r18")
    message = str(caught.value)
    assert "\n" not in message and "ava21-r18" in message
    assert all(row.name in message for row in ROWS)
    with pytest.raises(InputError):
        get_row("nope")
    assert issubclass(UnknownRowError, KeyError)


def test_row_values_follow_the_reference_tables():
    a, c, d, e = (
        get_row(n)
        for n in (
            "ava21-k400-r50-4x16",
            "ava21-k400-r50nl-4x16",
            "ava21-k400-r50nl-8x8",
            "ava21-k400-r101-8x8",
        )
    )
    assert (a.dataset, a.num_classes, a.depth, a.non_local, a.pretrain) == ("ava21", 81, 50, False, "k400")
    assert (a.epochs, a.base_lr, a.batch_size, a.milestones, a.grad_clip) == (20, 0.2, 128, (10, 15), 40.0)
    assert (a.warmup_end_epoch, a.warmup_by_iter, a.weight_decay, a.momentum) == (5, False, 1e-5, 0.9)
    assert c.non_local and d.non_local and (d.clip_len, d.frame_interval) == (8, 8)
    assert e.depth == 101 and not e.non_local
    f = get_row("ava22-k400-r50-4x16")
    assert (f.dataset, f.epochs, f.base_lr, f.batch_size, f.decay, f.warmup_by_iter, f.warmup_end_epoch) == (
        "ava-kinetics",
        10,
        0.1,
        64,
        "cosine",
        True,
        2,
    )
    # G pretrains from the 8x8 K700 recogniser although it is a 4x16 detector (verbatim).
    assert "8x8x1" in get_row("ava22-k700-r50-4x16").pretrained
    tricks = [
        get_row(n) for n in ("ava22-k700-context", "ava22-k700-tmax", "ava22-k700-mlp", "ava22-k700-focal")
    ]
    assert [(t.with_global, t.temporal_pool_mode, t.mlp_head, t.focal_gamma) for t in tricks] == [
        (True, "avg", False, 0.0),
        (True, "max", False, 0.0),
        (True, "max", True, 0.0),
        (True, "max", True, 1.0),
    ]
    o = get_row("multisports-k400-r50-4x16")
    assert (o.dataset, o.num_classes, o.background_class, o.multilabel) == ("multisports", 66, False, False)
    assert (o.epochs, o.milestones, o.grad_clip, o.gpu_mem_mb, o.frame_mAP) == (8, (6, 7), 5.0, 8509, 26.40)
    assert o.video_mAP == {"0.2": 15.48, "0.5": 10.62, "0.1:0.9": 9.65} and o.mAP is None


def test_rows_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ROWS[0].depth = 18  # type: ignore[misc]
    assert isinstance(ROWS[0], ZooRow)


def test_cli_list_prints_every_row():
    result = subprocess.run(
        [sys.executable, "-m", "slowbench.model_zoo", "list"], capture_output=True, text=True, check=True
    )
    for row in ROWS:
        assert row.name in result.stdout


def test_cli_unknown_row_fails_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "slowbench.model_zoo", "show", "bogus"], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "bogus" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
