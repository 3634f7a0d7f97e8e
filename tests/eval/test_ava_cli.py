"""python -m eval.ava: the mmaction2 fixture numbers, file formats and every bad input."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from eval_helpers import GT, LABEL_MAP, PRED

from eval import ava
from eval.ava import evaluation

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = "fixtures/mmaction2_tests/eval_detection"


def run(*args):
    """The CLI in a fresh interpreter (what users run)."""
    return subprocess.run(
        [sys.executable, "-m", "eval.ava", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def cli(run_main):
    """The CLI in-process (same wrapper, no interpreter start-up)."""
    return lambda *args: run_main(ava.main, *args)


def inputs(files):
    """The --gt / --pred / --label-map arguments naming the `files` fixture's files."""
    return ["--gt", files["gt.csv"], "--pred", files["pred.csv"], "--label-map", files["map.pbtxt"]]


@pytest.fixture
def files(write_files):
    return write_files({"map.pbtxt": LABEL_MAP, "gt.csv": GT, "pred.csv": PRED})


@pytest.mark.shared_data
@pytest.mark.parametrize("protocol", ava.PROTOCOLS)
def test_mmaction2_fixture_value(shared_file, protocol):
    result = ava.evaluate(
        ava.read_csv_gt(shared_file(f"{FIXTURE}/gt.csv")),
        ava.read_csv_pred(shared_file(f"{FIXTURE}/pred.csv")),
        ava.read_label_map(shared_file(f"{FIXTURE}/action_list.txt")),
        protocol=protocol,
    )
    np.testing.assert_array_almost_equal(result["mAP"], 0.09385522)
    assert result["mAP"] == pytest.approx(0.09385521885521886, abs=1e-12)
    expected = {"1": (0.17045454545454547, 4, 12), "2": (0.0, 3, 9), "3": (0.1111111111111111, 5, 9)}
    for class_id, (ap, n_gt, n_det) in expected.items():
        entry = result["per_class"][class_id]
        assert entry["ap"] == pytest.approx(ap, abs=1e-12)
        assert (entry["num_gt"], entry["num_det"]) == (n_gt, n_det)
    assert result["categories"]["person_movement"] == pytest.approx(result["mAP"], abs=1e-15)
    assert result["categories"]["object_manipulation"] is None


@pytest.mark.shared_data
def test_cli_on_fixture_writes_json_and_table(shared_file, tmp_path):
    out = tmp_path / "result.json"
    done = run(
        "--gt",
        shared_file(f"{FIXTURE}/gt.csv"),
        "--pred",
        shared_file(f"{FIXTURE}/pred.csv"),
        "--label-map",
        shared_file(f"{FIXTURE}/action_list.txt"),
        "--json",
        out,
    )
    assert done.returncode == 0, done.stderr
    assert "frame-mAP            9.3855" in done.stdout and "action1" in done.stdout
    data = json.loads(out.read_text())
    assert data["protocol"] == "mmaction2"
    assert data["mAP"] == pytest.approx(0.09385521885521886, abs=1e-12)
    assert data["per_class"]["2"] == {"name": "action2", "ap": 0.0, "num_gt": 3, "num_det": 9}
    assert data["categories"]["person_interaction"] is None


@pytest.mark.parametrize("protocol", ava.PROTOCOLS)
def test_reading_on_two_cpus_or_one_gives_the_same_result_and_errors(
    files, tmp_path, cli, monkeypatch, protocol
):
    """With a second CPU the command line reads the prediction file's tail in a forked child
    (and the gt file and the head here)."""
    files["pred.csv"].write_text(PRED * 40)  # larger than the gt file: both parts have rows

    def outcomes():
        results = []
        for workers in (2, 1):
            out = tmp_path / f"{workers}.json"
            done = cli(*inputs(files), "--protocol", protocol, "--json", out, "--workers", workers)
            results.append((done.returncode, done.stderr, out.exists() and json.loads(out.read_text())))
            out.unlink(missing_ok=True)
        return results

    two, one = outcomes()
    assert two == one and two[0] == 0 and two[2]["mAP"] is not None
    for bad_line in (2, 100):  # in the head, in the tail
        lines = (PRED * 40).splitlines(keepends=True)
        lines[bad_line - 1] = "vidB,0903,0.1,0.1,0.5,0.5,x,0.5\n"
        files["pred.csv"].write_text("".join(lines))
        two, one = outcomes()
        assert two == one and two[0] == 2
        assert two[1].strip().endswith(f"pred.csv:{bad_line}: action id 'x' is not a finite number")
    files["gt.csv"].write_text(GT + "vidB,0903,0.1,0.1,0.5,0.5,x,0\n")
    two, one = outcomes()
    assert (
        two == one
        and two[0] == 2
        and two[1].strip().endswith("gt.csv:4: action id 'x' is not a finite number")
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_files_that_can_be_read_only_once_are_read_whole(files, tmp_path):
    """Pipes (`--pred <(zcat pred.csv.gz)`): the fast reader and the text reader that names a bad
    line both see the whole content, whatever the number of workers."""
    texts = {name: files[name].read_text() for name in ("gt.csv", "pred.csv", "map.pbtxt")}
    texts["pred.csv"] = PRED * 40
    files["pred.csv"].write_text(texts["pred.csv"])
    expected = run(*inputs(files), "--json", tmp_path / "expected.json")
    assert expected.returncode == 0, expected.stderr

    def run_through_pipes(pred_text, workers):
        pipes = {name: tmp_path / f"pipe-{name}" for name in texts}
        for pipe in pipes.values():
            os.mkfifo(pipe)
        contents = {**texts, "pred.csv": pred_text}
        writers = [  # daemons: a reader that never opens a pipe must not hang the test run
            threading.Thread(target=pipes[name].write_text, args=(contents[name],), daemon=True)
            for name in pipes
        ]
        for writer in writers:
            writer.start()
        out = tmp_path / "piped.json"
        done = run(
            "--gt",
            pipes["gt.csv"],
            "--pred",
            pipes["pred.csv"],
            "--label-map",
            pipes["map.pbtxt"],
            "--json",
            out,
            "--workers",
            workers,
        )
        for writer in writers:
            writer.join(timeout=5)
        for pipe in pipes.values():
            pipe.unlink()
        return done, out

    for workers in (1, 2):
        done, out = run_through_pipes(texts["pred.csv"], workers)
        assert done.returncode == 0, done.stderr
        assert json.loads(out.read_text()) == json.loads((tmp_path / "expected.json").read_text())
        lines = texts["pred.csv"].splitlines(keepends=True)
        lines[99] = "vidB,0903,0.1,0.1,0.5,0.5,x,0.5\n"
        done, _ = run_through_pipes("".join(lines), workers)
        assert done.returncode == 2
        assert done.stderr.strip().endswith("pipe-pred.csv:100: action id 'x' is not a finite number")


@pytest.mark.shared_data
def test_label_maps_in_both_forms_parse_to_the_same_60_classes(shared_file):
    pbtxt = ava.read_label_map(
        shared_file("fixtures/ava_label_maps/ava_action_list_v2.1_for_activitynet_2018.pbtxt.txt")
    )
    plain = ava.read_label_map(shared_file("fixtures/ava_label_maps/mmaction2_tools_data_ava_label_map.txt"))
    assert pbtxt == plain and len(pbtxt) == 60
    assert sum(i <= 14 for i in pbtxt) == 13 and sum(i >= 64 for i in pbtxt) == 15


@pytest.mark.shared_data
def test_exclusions_fixture(shared_file):
    path = shared_file("fixtures/mmaction2_tests/ava_dataset/ava_excluded_timestamps_sample.csv")
    assert ava.read_exclusions(path) == {("0f39OWEqJ24", 903), ("_-Z6wFjXtGQ", 902)}


def test_cli_exclude_protocol_and_plot(files, tmp_path, cli):
    exclude = tmp_path / "excluded.csv"
    exclude.write_text("vidB,0903\n")
    out, plot = tmp_path / "r.json", tmp_path / "pr.png"
    done = cli(
        *inputs(files),
        "--exclude",
        exclude,
        "--protocol",
        "activitynet",
        "--json",
        out,
        "--plot",
        plot,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert data["protocol"] == "activitynet" and data["mAP"] == 1.0
    assert data["per_class"]["1"]["num_gt"] == 1 and data["per_class"]["1"]["num_det"] == 1
    assert plot.stat().st_size > 1000
    done = cli(*inputs(files))
    # mmaction2: the vidB detection misses (IoU < 0.5): class 1 AP = 1 * 1/2.
    assert done.returncode == 0 and "1   stand  2   2    50.0000" in done.stdout


@pytest.mark.parametrize(
    "protocol, extra",
    [
        ("mmaction2", ["--errors", "--exclude", "excluded.csv"]),
        ("activitynet", ["--json", "r.json"]),
        ("activitynet-2020", ["--errors"]),
    ],
)
def test_a_run_imports_no_pandas(files, tmp_path, protocol, extra):
    """`python -m eval.ava` reads column tables: a whole run loads numpy, never pandas."""
    if protocol == "activitynet-2020":  # a 2-column row: the text path of the reader
        files["gt.csv"].write_text(GT + "vidC,0904\n")
    (tmp_path / "excluded.csv").write_text("vidB,0903\n")
    extra = [tmp_path / a if a.endswith((".csv", ".json")) else a for a in extra]
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "eval.ava",
            *inputs(files),
            "--protocol",
            protocol,
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    imported = {
        line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")
    }
    assert "numpy" in imported and "frame-mAP" in done.stdout
    assert not {name for name in imported if name.split(".")[0] in ("pandas", "matplotlib")}


def test_a_run_with_stdout_closed_or_json_only_ends_cleanly(files, tmp_path):
    """The command ends with `exit_process`, which flushes what exists: a closed stdout (None in
    Python) is no traceback, and the JSON is complete."""
    out = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, "-m", "eval.ava", *inputs(files), "--json", out],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(1),  # Python starts with no stdout
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert json.loads(out.read_text())["mAP"] is not None


def test_plain_label_map_and_write_round_trip(tmp_path):
    plain = tmp_path / "map.txt"
    plain.write_text("1: bend/bow (at the waist)\n3: crouch/kneel\n")
    assert ava.read_label_map(plain) == {1: "bend/bow (at the waist)", 3: "crouch/kneel"}
    pred = ava.read_csv_pred(_write(tmp_path / "p.csv", PRED))
    pred.loc[0, "score"] = 0.123456
    out = tmp_path / "written.csv"
    ava.write_csv_pred(out, pred)
    lines = out.read_text().splitlines()
    assert lines[0] == "vidA,0902,0.1000,0.1000,0.5000,0.9000,1,0.1235"
    again = ava.read_csv_pred(out)
    assert again["score"].tolist() == [0.1235, 0.8, 0.7]
    assert sorted(os.listdir(tmp_path)) == ["map.txt", "p.csv", "written.csv"]  # no temp left


def _write(path, text):
    path.write_text(text)
    return path


BAD_INPUTS = [
    ("pred.csv", "vidA,0902,0.1,0.1,0.5,0.9,1\n", "pred.csv:1: expected 8 columns, got 7"),
    ("pred.csv", PRED + "vidA,0902,0.1,0.1,0.5,0.9,1,0.5,9\n", "pred.csv:4: expected 8 columns, got 9"),
    ("pred.csv", PRED + "vidA,0902,0.1,0.1,0.5,0.9,1,0.5,9,10\n", "pred.csv:4: expected 8 columns"),
    ("pred.csv", "vidA,0902,0.1,abc,0.5,0.9,1,0.9\n", "pred.csv:1: y1 'abc' is not a finite number"),
    ("pred.csv", "vidA,0902,0.1,0.1,0.5,0.9,1,nan\n", "pred.csv:1: score 'nan' is not a finite number"),
    ("pred.csv", "\nvidA,0902,0.1,0.1,0.5,0.9,1,inf\n", "pred.csv:2: score 'inf' is not a finite number"),
    ("pred.csv", "vidA,0902,0.6,0.1,0.5,0.9,1,0.9\n", "pred.csv:1: inverted box"),
    ("pred.csv", PRED + "vidA,0902,0.1,0.1,0.5,1.2,1,0.9\n", "pred.csv:4: box outside [0, 1]"),
    (
        "pred.csv",
        "vidA,09.5,0.1,0.1,0.5,0.9,1,0.9\n",
        "pred.csv:1: timestamp '09.5' is not a non-negative integer",
    ),
    ("pred.csv", "vidA,0902,0.1,0.1,0.5,0.9,x,0.9\n", "pred.csv:1: action id 'x' is not a finite number"),
    ("pred.csv", "vidA,0902,,0.1,0.5,0.9,1,0.9\n", "pred.csv:1: column 3 is empty"),
    ("gt.csv", "vidA,0902,0.1,0.1,0.5,0.9\n", "gt.csv:1: expected 7 or 8 columns, got 6"),
    ("map.pbtxt", 'item {\n  name: "a"\n  id: one\n}\n', "map.pbtxt:3: expected an integer id"),
    ("map.pbtxt", "item {\n  id: 1\n}\n", "map.pbtxt:2: id 1 has no preceding name"),
    ("map.pbtxt", "1: a\n1: b\n", "map.pbtxt:2: duplicate class id 1"),
    ("map.pbtxt", "one: a\n", "map.pbtxt:1: expected 'id: name'"),
    ("map.pbtxt", "\n", "map.pbtxt: no classes found"),
]


@pytest.mark.parametrize("name, text, message", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2(files, cli, name, text, message):
    files[name].write_text(text)
    done = cli(*inputs(files))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]


def test_bad_input_in_a_real_process_has_no_traceback(files):
    files["pred.csv"].write_text("vidA,0902,0.1,0.1,0.5,0.9,1,nan\n")
    done = run(*inputs(files))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: {files['pred.csv']}:1: score 'nan' is not a finite number"
    ]


def test_bad_arguments_and_missing_files_exit_2(files, tmp_path, cli):
    for args in (
        ["--gt", files["gt.csv"]],
        ["--gt", tmp_path / "absent.csv", "--pred", files["pred.csv"], "--label-map", files["map.pbtxt"]],
        [*inputs(files), "--protocol", "pascal"],
        [*inputs(files), "--exclude", files["pred.csv"]],
        [*inputs(files), "--workers", "0"],
        [*inputs(files), "--workers", "two"],
    ):
        done = cli(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    done = cli(*inputs(files), "--workers", "0")
    assert done.stderr.strip() == "error: --workers: expected a whole number >= 1, got 0"


def test_unknown_prediction_class_is_reported_once(files, cli):
    files["pred.csv"].write_text(PRED + "vidA,0902,0.1,0.1,0.5,0.9,7,0.9\nvidB,0903,0.1,0.1,0.5,0.9,7,0.9\n")
    done = cli(*inputs(files))
    assert done.returncode == 0
    assert done.stderr.strip().splitlines() == [
        f"warning: {files['pred.csv']}: ignoring rows whose action id is not in the label map: 2 "
        "(first: vidA,0902 action 7)"
    ]


def test_a_bug_keeps_its_traceback(files, monkeypatch, capsys):
    """Only InputError is bad input: a ValueError raised by a bug propagates with its traceback."""

    def broken(*args, **kwargs):
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(evaluation, "evaluate_tables", broken)
    with pytest.raises(ValueError, match="a bug"):
        ava.main([str(x) for x in inputs(files)])
    assert "error:" not in capsys.readouterr().err


def test_a_bug_in_a_real_process_prints_its_traceback(files):
    code = (
        "import sys, eval.ava as a, eval.ava.evaluation as e\n"
        "def broken(*args, **kwargs): raise ValueError('a bug, not bad input')\n"
        "e.evaluate_tables = broken\nsys.exit(a.main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *inputs(files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" in done.stderr
    assert "ValueError: a bug, not bad input" in done.stderr and "error:" not in done.stderr


@pytest.mark.parametrize("argument", ["--gt", "--pred", "--label-map", "--exclude"])
def test_a_file_that_cannot_be_read_is_named(files, tmp_path, cli, argument):
    args = {"--gt": files["gt.csv"], "--pred": files["pred.csv"], "--label-map": files["map.pbtxt"]}
    for unreadable in (tmp_path / "absent.csv", tmp_path):
        done = cli(*[x for key, value in {**args, argument: unreadable}.items() for x in (key, value)])
        assert done.returncode == 2 and done.stderr.startswith(f"error: {unreadable}: cannot read (")
        assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["gt.csv", "pred.csv", "map.pbtxt"])
def test_a_file_that_is_not_utf8_names_its_line(files, cli, name):
    text = files[name].read_bytes()
    files[name].write_bytes(text + b"caf\xe9,0902\n")  # Latin-1, not UTF-8
    done = cli(*inputs(files))
    line = text.count(b"\n") + 1
    assert done.returncode == 2 and done.stderr.strip() == f"error: {files[name]}:{line}: not UTF-8 text"


def test_class_names_with_dollar_signs_are_drawn_as_text(files, cli, run_main, tmp_path):
    """matplotlib reads `$...$` as TeX and fails on an unknown command; class names are user text."""
    from eval import compare

    files["map.pbtxt"].write_text(
        'item {\n  name: "x $\\foo{bar$ y"\n  id: 1\n}\nitem {\n  name: "$^^$"\n  id: 2\n}\n'
    )
    out = tmp_path / "out"
    done = cli(*inputs(files), "--plot", out / "pr.png", "--report", out / "report", "--json", out / "r.json")
    assert done.returncode == 0, done.stderr
    assert (out / "pr.png").stat().st_size > 1000 and (out / "report" / "report.html").is_file()
    done = run_main(compare.main, out / "r.json", out / "r.json", "--plot", out / "delta.png")
    assert done.returncode == 0 and "x $\\foo{bar$ y" in done.stdout and (out / "delta.png").is_file()


def test_plot_goes_into_new_folders_atomically_and_names_a_bad_format(files, cli, tmp_path):
    done = cli(*inputs(files), "--plot", tmp_path / "new" / "folder" / "pr.svg")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "new" / "folder" / "pr.svg").read_text().lstrip().startswith("<?xml")
    assert [p.name for p in (tmp_path / "new" / "folder").iterdir()] == ["pr.svg"]  # no temp file left
    done = cli(*inputs(files), "--plot", tmp_path / "pr.xyz")
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"error: {tmp_path / 'pr.xyz'}: matplotlib cannot write .xyz images (use .png, .pdf or .svg)"
    )
