"""--report DIR on both evaluators: the files exist and the page holds the --json numbers."""

import base64
import html.parser
import json
import pickle

import numpy as np

from benchmarks.eval_cases import ava_case
from eval import ava, multisports
from tests.eval.test_video_errors import write_case

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ("ap_per_class.png", "pr_best_worst.png", "errors.png")


class Page(html.parser.HTMLParser):
    """Tables as {id: [[data-value or text per cell]]} and the embedded images' bytes."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.images, self._table, self._cell = {}, [], None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th"):
            self._cell = attrs.get("data-value", "")
            self._table[-1].append(None)
        elif tag == "img":
            prefix = "data:image/png;base64,"
            assert attrs["src"].startswith(prefix)
            self.images.append(base64.b64decode(attrs["src"][len(prefix) :]))

    def handle_data(self, data):
        if self._cell is not None:
            self._table[-1][-1] = json.loads(self._cell) if self._cell else data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        elif tag == "table":
            self._table = None


def check_files(directory):
    for name in FIGURES:
        assert (directory / name).read_bytes().startswith(PNG_MAGIC)
    page = Page((directory / "report.html").read_text(encoding="utf-8"))
    assert len(page.images) == len(FIGURES)
    assert all(image.startswith(PNG_MAGIC) for image in page.images)
    return page


def as_dict(table):
    """{first cell: row} of a table without its header row."""
    return {row[0]: row for row in table[1:]}


def ava_arguments(directory, videos):
    """Writes a generated AVA case into `directory`; returns the CLI's input arguments."""
    gt, pred, label_map, _ = ava_case(seed=2, videos=videos)
    gt.to_csv(directory / "gt.csv", header=False, index=False)
    ava.write_csv_pred(directory / "pred.csv", pred)
    (directory / "map.txt").write_text("".join(f"{k}: {v}\n" for k, v in label_map.items()))
    return [
        "--gt",
        directory / "gt.csv",
        "--pred",
        directory / "pred.csv",
        "--label-map",
        directory / "map.txt",
    ]


def run_report(run_main, main, directory, *args):
    """Runs a CLI with --report and --json; returns (the JSON, the parsed page, its headline)."""
    done = run_main(main, *args, "--report", directory / "report", "--json", directory / "r.json")
    assert done.returncode == 0, done.stderr
    page = check_files(directory / "report")
    return json.loads((directory / "r.json").read_text()), page, as_dict(page.tables["headline"])


def test_ava_report_holds_the_json_numbers(tmp_path, run_main):
    result, page, headline = run_report(
        run_main, ava.main, tmp_path, *ava_arguments(tmp_path, 4), "--protocol", "activitynet"
    )
    assert headline["frame-mAP"][1] == result["mAP"]
    for name, value in result["categories"].items():
        assert headline[name][1] == value
    assert as_dict(page.tables["settings"])["protocol"][1] == "activitynet"
    header, rows = page.tables["per-class"][0], as_dict(page.tables["per-class"])
    assert len(rows) == len(result["per_class"])
    for class_id, entry in result["per_class"].items():
        row = dict(zip(header, rows[class_id]))
        assert (row["AP %"], row["gt"], row["det"]) == (entry["ap"], entry["num_gt"], entry["num_det"])
        errors = result["errors"]["per_class"][class_id]
        for kind in ("tp", "duplicate", "localisation", "classification", "background", "missed"):
            assert row[kind] == errors[kind]


def test_multisports_report_holds_the_json_numbers(tmp_path, run_main):
    gt_path, preds, _ = write_case(tmp_path, 12)
    result, page, headline = run_report(
        run_main, multisports.main, tmp_path, preds, "--gt", gt_path, "--thr", "0.2"
    )
    assert headline["frame-mAP@0.5"][1] == result["frame_mAP"]
    for key, value in result["video_mAP"].items():
        assert headline[f"video-mAP@{key}"][1] == value
    assert headline["error analysis mean AP (tube IoU 0.2)"][1] == result["errors"]["mean"]["AP"]
    header, rows = page.tables["per-class"][0], as_dict(page.tables["per-class"])
    for label, entry in result["per_class"].items():
        row = dict(zip(header, rows[label]))
        assert row["frame-AP@0.5 %"] == entry["frame_ap"]
        assert row["video-AP@0.5 %"] == entry["video_ap"]["0.5"]
        assert row["cls+time+loc %"] == result["errors"]["per_class"][entry["name"]]["cls+time+loc"]


def test_report_directory_that_is_a_file_is_one_line(tmp_path, run_main):
    (tmp_path / "taken").write_text("")
    done = run_main(ava.main, *ava_arguments(tmp_path, 1), "--report", tmp_path / "taken")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_reports_without_any_detection(tmp_path, run_main):
    (tmp_path / "gt.csv").write_text("v,0902,0.1,0.1,0.5,0.5,1,0\n")
    (tmp_path / "pred.csv").write_text("")
    (tmp_path / "map.txt").write_text("1: stand\n2: sit\n")
    done = run_main(
        ava.main,
        "--gt",
        tmp_path / "gt.csv",
        "--pred",
        tmp_path / "pred.csv",
        "--label-map",
        tmp_path / "map.txt",
        "--report",
        tmp_path / "ava",
    )
    assert done.returncode == 0
    assert done.stderr == (
        f"warning: {tmp_path / 'pred.csv'}: no prediction takes part in the evaluation; "
        "every class with gt scores AP 0\n"
    )
    assert sorted(p.name for p in (tmp_path / "ava").iterdir()) == [
        "ap_per_class.png",
        "pr_best_worst.png",
        "report.html",
    ]  # no error bars to draw
    tube = np.array([[f, 0, 0, 5, 5] for f in range(1, 4)], dtype=np.float32)
    gt = {
        "labels": ["aerobic jump"],
        "test_videos": [["v"]],
        "nframes": {"v": 10},
        "gttubes": {"v": {0: [tube]}},
    }
    (tmp_path / "gt.pkl").write_bytes(pickle.dumps(gt))
    (tmp_path / "p.pkl").write_bytes(pickle.dumps(np.zeros((0, 8))))
    done = run_main(
        multisports.main, tmp_path / "p.pkl", "--gt", tmp_path / "gt.pkl", "--report", tmp_path / "ms"
    )
    assert done.returncode == 0
    assert (
        done.stderr
        == f"warning: {tmp_path / 'p.pkl'}: no detection of an evaluated label; every frame-AP is 0\n"
    )
    assert (tmp_path / "ms" / "report.html").is_file()
