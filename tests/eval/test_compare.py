"""python -m eval.compare: per-class deltas of two --json results, table and plot."""

import json

import pytest

from eval import compare

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def ava_result(aps, mean):
    return {
        "mAP": mean,
        "protocol": "mmaction2",
        "categories": {"person_movement": mean, "object_manipulation": None, "person_interaction": None},
        "per_class": {
            key: {"name": f"c{key}", "ap": ap, "num_gt": 1, "num_det": 1} for key, ap in aps.items()
        },
    }


def multisports_result(frame, video):
    return {
        "frame_mAP": 0.5,
        "frame_thr": 0.5,
        "video_mAP": {"0.2": 0.4, "0.5": 0.3},
        "per_class": {
            key: {"name": f"m{key}", "frame_ap": f, "video_ap": {"0.2": v, "0.5": v}}
            for (key, f), v in zip(frame.items(), video)
        },
    }


def test_classes_sorted_by_change_unscored_last():
    a = ava_result({"1": 0.5, "2": 0.2, "3": None, "4": 0.9}, 0.4)
    b = ava_result({"1": 0.75, "2": 0.1, "3": 0.3, "5": 0.7}, 0.45)
    result = compare.compare(a, b)
    assert [row[0] for row in result["classes"]] == ["1", "2", "3", "4", "5"]
    assert result["classes"][0] == ("1", "c1", 0.5, 0.75)
    assert result["headline"][0] == ("frame-mAP", 0.4, 0.45)
    text = compare.format_comparison(result, ("a.json", "b.json"))
    assert "+25.00" in text and "-10.00" in text and "changed most: c1 +25.00, c2 -10.00" in text


def test_multisports_metric_choice():
    a = multisports_result({"0": 0.5, "1": 0.5}, [0.1, 0.9])
    b = multisports_result({"0": 0.6, "1": 0.4}, [0.3, 0.2])
    assert [r[0] for r in compare.compare(a, b)["classes"]] == ["0", "1"]
    by_video = compare.compare(a, b, "video@0.5")
    assert [r[0] for r in by_video["classes"]] == ["0", "1"]
    assert by_video["classes"][1][2:] == (0.9, 0.2)
    assert [h[0] for h in by_video["headline"]] == ["frame-mAP", "video-mAP@0.2", "video-mAP@0.5"]


def test_cli_table_and_plot(tmp_path, run_main):
    (tmp_path / "a.json").write_text(json.dumps(ava_result({"1": 0.5, "2": 0.2}, 0.35)))
    (tmp_path / "b.json").write_text(json.dumps(ava_result({"1": 0.25, "2": 0.3}, 0.275)))
    done = run_main(compare.main, tmp_path / "a.json", tmp_path / "b.json", "--plot", tmp_path / "delta.png")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.split()[:5] == ["2", "c2", "20.00", "30.00", "+10.00"] for line in lines)
    assert any(line.split()[:5] == ["1", "c1", "50.00", "25.00", "-25.00"] for line in lines)
    assert (tmp_path / "delta.png").read_bytes().startswith(PNG_MAGIC)


AVA = ava_result({"1": 0.5, "2": None}, 0.5)
MS = multisports_result({"0": 0.4, "1": None}, [0.3, None])


@pytest.mark.parametrize(
    "a_text, b_text, message",
    [
        ('{"mAP": 1,\n oops}', "{}", "a.json:2: not JSON"),
        ("[]", "{}", "A: not an eval --json result"),
        (json.dumps(ava_result({}, None)), json.dumps(multisports_result({}, [])), "different evaluators"),
        (json.dumps({"per_class": {}}), "{}", "neither an eval.ava nor"),
        # Fields of the right names but the wrong kind (found by fuzzing: tracebacks before).
        (json.dumps({**AVA, "mAP": "0.5"}), json.dumps(AVA), "A: 'mAP' must be a number or null"),
        (json.dumps(AVA), json.dumps({**AVA, "categories": [0.5]}), "B: 'categories' must be an object"),
        (json.dumps({**AVA, "per_class": {"1": {"ap": 0.5}}}), json.dumps(AVA), "per_class['1']: expected"),
        (json.dumps({**AVA, "per_class": {"1": {"name": "c", "ap": True}}}), json.dumps(AVA), "'ap' must"),
        (json.dumps(MS), json.dumps({**MS, "video_mAP": {"0.5": "x"}}), "B: 'video_mAP' must be"),
        (json.dumps({**AVA, "mAP": 10**400}), json.dumps(AVA), "A: 'mAP' must be a number or null"),
    ],
)
def test_bad_input_is_one_line(tmp_path, run_main, a_text, b_text, message):
    (tmp_path / "a.json").write_text(a_text)
    (tmp_path / "b.json").write_text(b_text)
    done = run_main(compare.main, tmp_path / "a.json", tmp_path / "b.json")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
