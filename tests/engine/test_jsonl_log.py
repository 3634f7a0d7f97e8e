"""The training log: one JSON object per line, also after a run killed mid-line."""

import json

from slowbench.engine.jsonl_log import JsonLinesLog


def test_lines_are_appended_and_a_torn_last_line_stays_apart(tmp_path):
    path = tmp_path / "run" / "log.jsonl"
    log = JsonLinesLog(path)
    log.log("start", epoch=0)
    log.log("iter", loss=0.5)
    assert [json.loads(line)["event"] for line in path.read_text().splitlines()] == ["start", "iter"]
    with path.open("a") as file:
        file.write('{"event": "iter", "lo')  # the run was killed here
    JsonLinesLog(path).log("resume", epoch=1)
    lines = path.read_text().splitlines()
    assert lines[2] == '{"event": "iter", "lo' and json.loads(lines[3]) == {"event": "resume", "epoch": 1}
    JsonLinesLog(None).log("ignored")  # no path: nothing is written anywhere
