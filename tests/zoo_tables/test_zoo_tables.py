"""`python -m benchmarks.zoo_tables`: the model-zoo table runner."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from benchmarks import zoo_tables as runner
from slowbench.model_zoo import ROWS, get_row

REPO = pathlib.Path(__file__).resolve().parents[2]
MEASURED_COLUMNS = [
    "params (M)",
    "GFLOPs",
    "latency (ms)",
    "clips/s",
    "train step (s)",
    "peak mem (MB)",
    "reproduced",
]


def run_runner(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.zoo_tables", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def markdown_table(text, title):
    """Header cells and body rows of the table under `## title`."""
    lines = text.split(f"## {title}\n", 1)[1].strip().splitlines()
    table = [line for line in lines[: next(i for i, row in enumerate(lines) if not row.startswith("|"))]]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
    return cells[0], cells[2:]


def test_quick_run_on_two_rows_writes_tables_with_every_column(tmp_path):
    results = tmp_path / "work" / "results.json"
    results.parent.mkdir()
    results.write_text(json.dumps({"row": "ava21-k400-r50-4x16", "mAP": 0.1234, "epochs": 1}))
    out = tmp_path / "docs" / "model_zoo.md"
    proc = run_runner(
        "--quick",
        "--rows",
        "ava21-k400-r50-4x16,multisports-k400-r50-4x16",
        "--out",
        str(out),
        "--results",
        str(results),
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert (out.parent / "model_zoo.png").stat().st_size > 1000

    header, body = markdown_table(text, "AVA2.1")
    assert [cells[1] for cells in body] == ["ava21-k400-r50-4x16"]
    for column in ["mAP", "config", *MEASURED_COLUMNS]:
        assert column in header
    row = dict(zip(header, body[0]))
    assert row["mAP"] == "20.72"
    assert row["reproduced"] == "mAP 12.34"
    assert (
        30 < float(row["params (M)"]) < 33
    )  # R50 detector: 31.8 M (published R50: 32.45 M with a 400-way fc)
    assert float(row["GFLOPs"]) == pytest.approx(2 * 56.7, rel=0.02)  # analytic 56.7 GMACs at 4x256x340
    assert float(row["latency (ms)"]) > 0 and float(row["peak mem (MB)"]) > 100

    header, body = markdown_table(text, "MultiSports")
    row = dict(zip(header, body[0]))
    assert row["f-mAP"] == "26.40" and row["v-mAP@0.5"] == "10.62" and row["gpu mem (MB)"] == "8509"
    assert row["reproduced"] == ""
    assert "AVA2.2" not in text  # only the tables of the asked-for rows
    assert "CPU" in text.split("##")[0]  # the device is named in the header


def test_unknown_row_is_a_one_line_error(tmp_path):
    proc = run_runner("--rows", "no-such-row", "--out", str(tmp_path / "x.md"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "no-such-row" in proc.stderr and "ava22-k700-16x4" in proc.stderr


def test_tables_follow_the_seed_layout_without_measuring():
    tables = runner.build_tables(list(ROWS), {}, {})
    titles = [title for title, _ in tables]
    assert len(titles) == 4 and titles[0] == "AVA2.1" and titles[-1] == "MultiSports"
    sizes = [len(frame) for _, frame in tables]
    assert sizes == [5, 4, 6, 1]  # row I is the tricks table's baseline, so it appears twice
    tricks = tables[2][1]
    assert list(tricks["row"]) == list("IJKLMN")


def test_reproduced_metrics_take_the_newest_file_per_row(tmp_path):
    old, new, other, junk = (tmp_path / f"{n}.json" for n in ("old", "new", "other", "junk"))
    old.write_text(json.dumps({"row": "ava22-k700-16x4", "mAP": 0.2}))
    new.write_text(json.dumps({"row": get_row("ava22-k700-16x4").config, "mAP": 0.3, "synthetic": True}))
    os.utime(old, (1, 1))
    other.write_text(
        json.dumps({"row": "multisports-k400-r50-4x16", "frame_mAP": 0.5, "video_mAP": {"0.5": 0.25}})
    )
    junk.write_text("{not json")
    found = runner.reproduced_metrics([old, new, other, junk])
    assert found == {
        "ava22-k700-16x4": "mAP 30.00 (synthetic data)",
        "multisports-k400-r50-4x16": "f-mAP 50.00; v@0.5 25.00",
    }
