"""AVA file formats: label maps, gt / prediction CSVs, excluded timestamps, prediction writer.

CSV rows are `video,timestamp,x1,y1,x2,y2,action[,person|score]` with boxes normalised to
[0, 1]. The `read_*_table` readers return a column table, a dict of numpy arrays `[N]`:
`video` (object, str), `timestamp` (int64, or float64 for `fractional` files), `x1, y1, x2, y2`
(float64), `action` (int64) and `person` (gt, NaN for 7-column rows) or `score` (predictions);
they import no pandas, so the command line starts fast. The `read_csv_*` readers return the
same columns as a `pandas.DataFrame`. Every malformed row raises
`InputError("<file>:<line>: <problem>")`.

The ActivityNet 2020 format (AVA-Kinetics) differs in two ways: timestamps may carry decimals
(`6.5`, up to 6 are significant), and the gt may hold 2-column rows `video,timestamp` for an
annotated frame without any action (`read_csv_gt_2020`).
"""

import contextlib
import os
import re
import stat
import tempfile
import warnings

import numpy as np

from eval.atomic import atomic_write
from eval.errors import InputError, reading
from eval.fork_map import fork_map
from eval.int_sort import runs

__all__ = [
    "read_label_map",
    "read_csv_gt",
    "read_csv_gt_2020",
    "read_csv_pred",
    "read_exclusions",
    "read_gt_table",
    "read_gt_2020_table",
    "read_gt_rows",
    "read_pred_table",
    "read_gt_and_pred",
    "write_csv_pred",
    "check_columns",
]

_BOX = ["x1", "y1", "x2", "y2"]
# Video names the fast reader takes are shorter than this (its fixed-width column); longer ones
# are read by the text path. AVA ids have 11 characters, Kinetics clip names 23.
_FAST_VIDEO_BYTES = 48
_PLAIN_ENTRY = re.compile(r"^\s*(-?\d+)\s*:\s*(.*?)\s*$")
_PBTXT_FIELD = re.compile(r"^\s*(name|display_name|id|label_id)\s*:\s*(.*?)\s*$")


def read_label_map(path):
    """Class id -> name from a pbtxt (`item { name: "..." id: N }`) or an `id: name` list.

    The pbtxt is read like the reference parsers (an entry is added at each `id:` line with the
    last `name:` seen), but indentation is not significant.
    """
    with _rereadable(path) as source, reading(path, source), open(source, encoding="utf-8") as file:
        lines = file.read().splitlines()
    is_pbtxt = any(line.strip().startswith("item") for line in lines)
    label_map = {}
    name = None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if is_pbtxt:
            match = _PBTXT_FIELD.match(line)
            if match is None:
                if text.startswith("item") or text == "}":
                    continue
                raise InputError(f"{path}:{number}: unexpected pbtxt line {text!r}")
            field, value = match.groups()
            if field in ("name", "display_name"):
                if field == "name" or name is None:
                    name = value.strip('"')
                continue
            class_id = _parse_int(value, path, number)
            if name is None:
                raise InputError(f"{path}:{number}: id {class_id} has no preceding name")
            entry = (class_id, name)
            name = None
        else:
            match = _PLAIN_ENTRY.match(line)
            if match is None:
                raise InputError(f"{path}:{number}: expected 'id: name', got {text!r}")
            entry = (int(match.group(1)), match.group(2))
        if entry[0] in label_map:
            raise InputError(f"{path}:{number}: duplicate class id {entry[0]}")
        label_map[entry[0]] = entry[1]
    if not label_map:
        raise InputError(f"{path}: no classes found in the label map")
    return label_map


def _parse_int(text, path, number):
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{path}:{number}: expected an integer id, got {text!r}") from None


def read_csv_gt(path, *, fractional=False):
    """Ground-truth rows (7 or 8 columns; the 8th is the person id) as a DataFrame.

    `fractional`: timestamps may have decimals (float64 column).
    """
    return _data_frame(read_gt_table(path, fractional=fractional))


def read_csv_gt_2020(path):
    """An ActivityNet 2020 gt file -> (gt rows as `read_csv_gt(fractional=True)`, empty
    keyframes: DataFrame `video`, `timestamp` of its 2-column rows)."""
    table, keys = read_gt_2020_table(path)
    return _data_frame(table), _data_frame(keys)


def read_csv_pred(path, *, fractional=False):
    """Prediction rows (exactly 8 columns; the 8th is the score) as a DataFrame.

    `fractional`: the ActivityNet 2020 form: timestamps may have decimals (float64 column), and,
    as its reader does, a 2-column row (a frame without detections) is skipped and a 7-column row
    scores 1.0.
    """
    return _data_frame(read_pred_table(path, fractional=fractional))


def read_gt_table(path, *, fractional=False):
    """`read_csv_gt` as a column table: {column: numpy array `[N]`}, no pandas."""
    with _rereadable(path) as source:
        table = _joined([_fast_part(path, "person", fractional=fractional, source=source)])
        if table is not None:
            return table
        fields, lines = _read_fields(path, allowed=(7, 8), source=source)
    table = _typed_columns(fields, lines, path, fractional)
    table["person"] = _numbers(fields[7], lines, path, "person id", allow_empty=True)
    return table


def read_gt_2020_table(path):
    """`read_csv_gt_2020` as column tables (gt rows, empty keyframes `video`, `timestamp`)."""
    with _rereadable(path) as source:
        table = _joined([_fast_part(path, "person", fractional=True, source=source)])
        if table is not None:
            return table, {"video": table["video"][:0], "timestamp": table["timestamp"][:0]}
        rows = _gt_rows(path, source, unit_boxes=True)
    empty = rows["action"] < 0
    keys = {"video": rows["video"][empty], "timestamp": rows["timestamp"][empty]}
    return {name: rows[name][~empty] for name in ("video", "timestamp", *_BOX, "action", "person")}, keys


def read_gt_rows(path, *, unit_boxes=True):
    """Every row of a gt file in file order, for a reader that keeps the file's order (the
    training data): the columns of `read_gt_2020_table` (timestamps float64, fractional allowed),
    2-column rows (an annotated frame without an action) included with NaN boxes and action -1,
    and "line", each row's line number. Checked as the evaluator's readers check, with the same
    messages; without `unit_boxes`, boxes may lie outside [0, 1] (pixels, for a caller that
    normalises them)."""
    with _rereadable(path) as source:
        return _gt_rows(path, source, unit_boxes)


def _gt_rows(path, source, unit_boxes):
    fields, lines = _read_fields(path, allowed=(2, 7, 8), source=source)
    boxed = fields[2] != ""
    typed = _typed_columns([column[boxed] for column in fields], lines[boxed], path, True, unit_boxes)
    rows = {"video": fields[0], "timestamp": _timestamps(fields[1], lines, path, True)}
    for name in (*_BOX, "action"):
        rows[name] = np.full(lines.size, -1 if name == "action" else np.nan, dtype=typed[name].dtype)
        rows[name][boxed] = typed[name]
    rows["person"] = _numbers(fields[7], lines, path, "person id", allow_empty=True)
    rows["line"] = lines
    return rows


def read_pred_table(path, *, fractional=False):
    """`read_csv_pred` as a column table: {column: numpy array `[N]`}, no pandas."""
    return _pred_table(path, fractional, parts=None)


def read_gt_and_pred(gt_path, pred_path, *, fractional=False, workers=1):
    """(gt table, empty keyframes, prediction table) of a gt and a prediction file, as
    `read_gt_table` (`read_gt_2020_table` when `fractional`; empty keyframes `()` otherwise) and
    `read_pred_table` give them.

    With `workers` > 1 on Linux, a forked child reads the tail of the prediction file while this
    process reads the gt file and the head, shares of about equal bytes (`eval.fork_map`: only
    for a process that runs no threads of its own). Either way the gt is read first, so a bad gt
    file is reported before a bad prediction file, and errors name the same lines.
    """

    def read_gt():
        return read_gt_2020_table(gt_path) if fractional else (read_gt_table(gt_path), ())

    if workers > 1 and _reads_parts() and os.path.isfile(pred_path):
        head, tail = _line_spans(pred_path, (_file_size(pred_path) - _file_size(gt_path)) // 2)
        jobs = [
            lambda: (read_gt(), _fast_part(pred_path, "score", fractional=fractional, span=head)),
            lambda: _fast_part(pred_path, "score", fractional=fractional, span=tail),
        ]
        (gt, head_part), tail_part = fork_map(lambda job: job(), jobs)
        parts = [head_part, tail_part]
    else:
        gt = read_gt()
        parts = None
    return *gt, _pred_table(pred_path, fractional, parts)


def _pred_table(path, fractional, parts):
    """`read_pred_table`; `parts`: the file already read in pieces by `_fast_part`, spans that
    cover it in order (None: read it here). The text path re-reads the whole file to name the
    first bad line."""
    with _rereadable(path) as source:
        table = _joined(parts or [_fast_part(path, "score", fractional=fractional, source=source)])
        if table is not None:
            return table
        fields, lines = _read_fields(path, allowed=(2, 7, 8) if fractional else (8,), source=source)
    if fractional:
        boxed = fields[2] != ""
        fields, lines = [column[boxed] for column in fields], lines[boxed]
    table = _typed_columns(fields, lines, path, fractional)
    score = _numbers(fields[7], lines, path, "score", allow_empty=fractional)
    table["score"] = np.where(fields[7] == "", 1.0, score)
    return table


def _file_size(path):
    with reading(path):
        return os.path.getsize(path)


def _reads_parts():
    """Whether reading a file in spans is cheap here: their bytes go to Linux's in-memory files
    (elsewhere to temporary files)."""
    return hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


def _line_spans(path, offset):
    """Byte spans ((0, cut), (cut, size)) of the file `path`, cut at the first line start at or
    after byte `offset` (a line starts after a \\n; a \\r\\n is never split)."""
    with reading(path), open(path, "rb") as file:
        size = file.seek(0, os.SEEK_END)
        cut = min(max(offset, 0), size)
        if cut > 0:  # the newline that ends the line holding byte `offset - 1`
            file.seek(cut - 1)
            cut -= 1
            while cut < size:
                block = file.read(1 << 16)
                newline = block.find(b"\n")
                cut += len(block) if newline < 0 else newline + 1
                if newline >= 0:
                    break
        return (0, cut), (cut, size)


def read_exclusions(path):
    """Excluded (video, timestamp) keys from a 2-column CSV."""
    with _rereadable(path) as source:
        fields, lines = _read_fields(path, allowed=(2,), source=source)
    timestamps = _integers(fields[1], lines, path, "timestamp")
    return set(zip(fields[0].tolist(), timestamps.tolist()))


def _data_frame(table):
    import pandas as pd  # only the DataFrame API needs it; the command line reads tables

    return pd.DataFrame(table)


def write_csv_pred(path, df, *, decimals=4):
    """Writes predictions in the official CSV form, atomically (`eval.atomic`).

    `df` has columns video, timestamp, x1, y1, x2, y2, action, score. Floats are printed with
    `decimals` digits (4, like mmaction2, so scores written here tie exactly as in mmaction2);
    whole-second timestamps as 4-digit integers (AVA's form), others with their decimals
    (at most 6, what the ActivityNet 2020 evaluator keys on).
    """
    table = check_columns(df, "predictions", with_score=True, integer_timestamps=False)
    timestamps = table["timestamp"]
    if (timestamps == np.floor(timestamps)).all():
        stamps = [f"{value:04d}" for value in timestamps.astype(np.int64).tolist()]
    else:
        stamps = [_format_timestamp(value) for value in timestamps.tolist()]
    number = f"{{:.{decimals}f}}".format
    columns = [
        [str(video) for video in table["video"].tolist()],
        stamps,
        *([number(value) for value in table[c].tolist()] for c in _BOX),
        [str(action) for action in table["action"].astype(np.int64).tolist()],
        [number(value) for value in table["score"].tolist()],
    ]
    lines = "".join(",".join(fields) + "\n" for fields in zip(*columns))
    atomic_write(path, lambda file: file.write(lines.encode("utf-8")))


def _format_timestamp(value):
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if "." in text else f"{int(text):04d}"


def check_columns(df, source, *, with_score, integer_timestamps=True):
    """Validates an in-memory AVA table: a DataFrame, or any mapping of equal-length columns.

    Returns it as a column table {column: numpy array `[N]`}: video (object), timestamp and
    the box and score columns float64, action int64, person (when present) float64. Raises
    InputError naming `source` and the first bad row. Without `integer_timestamps`, timestamps
    need only be finite and >= 0.
    """
    needed = ["video", "timestamp", *_BOX, "action"] + (["score"] if with_score else [])
    try:
        names = list(df.keys())
    except (AttributeError, TypeError):
        raise InputError(f"{source}: not a table of columns") from None
    missing = [column for column in needed if column not in names]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}")
    table = {column: _as_float(df[column]) for column in needed[1:]}
    table["video"] = np.asarray(df["video"], dtype=object).reshape(-1)
    if "person" in names:
        table["person"] = _as_float(df["person"])
    lengths = {len(values) for values in table.values()}
    if len(lengths) > 1:
        raise InputError(f"{source}: columns of different lengths ({sorted(lengths)})")
    for column in [*_BOX] + (["score"] if with_score else []):
        _first_bad(~np.isfinite(table[column]), source, f"{column} is not a finite number")
    for column in ("timestamp", "action"):
        values = table[column]
        if column == "timestamp" and not integer_timestamps:
            _first_bad(~np.isfinite(values) | (values < 0), source, "timestamp is not a finite number >= 0")
            continue
        _first_bad(~np.isfinite(values) | (values != np.round(values)), source, f"{column} is not an integer")
    table["action"] = table["action"].astype(np.int64)
    _check_boxes(table, lambda bad, problem: _first_bad(bad, source, problem))
    return table


def _as_float(column):
    """A column as float64 `[N]`; NaN where a value is not a number (as text or otherwise)."""
    try:
        return np.asarray(column, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        values = np.asarray(column, dtype=object).reshape(-1)
        return np.array([_float_or_nan(value) for value in values.tolist()], dtype=np.float64)


def _float_or_nan(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _first_bad(bad, source, problem):
    rows = np.flatnonzero(bad)
    if rows.size:
        raise InputError(f"{source}: row {rows[0]}: {problem}")


def _check_boxes(table, report, unit_boxes=True):
    x1, y1, x2, y2 = (table[c] for c in _BOX)
    report((x2 < x1) | (y2 < y1), "inverted box (x2 < x1 or y2 < y1)")
    if unit_boxes:
        report((np.minimum(x1, y1) < 0) | (np.maximum(x2, y2) > 1), "box outside [0, 1]")


def _fast_part(path, last, *, fractional, span=None, source=None):
    """Fast path: the column table of `_fast_rows` (numpy's C reader, for files of 8-column rows),
    its video names run-length coded: "video" holds each run's name, "video_runs" its length.

    Returns None when anything is off (no rows: another row width; a bad value, a long or
    space-led video name), and the caller re-reads the file as text to name the first bad line.
    `span`, `source`: as `_fast_rows` takes them.
    """
    rows = _fast_rows(path, last, span, source=source)
    if rows is None:
        return None
    columns = _fast_columns(last)
    table = {name: np.ascontiguousarray(rows[name]) for name in columns}
    # A gt person id may be NaN (the reference reads it as a score; only its order matters).
    if not all(np.isfinite(table[name]).all() for name in columns if name != "person"):
        return None
    if last == "person" and np.isinf(table["person"]).any():
        return None
    stamps, action = table["timestamp"], table["action"]
    integral = (stamps == np.round(stamps)) if not fractional else True
    if not ((stamps >= 0) & integral).all() or not ((action >= 0) & (action == np.round(action))).all():
        return None
    x1, y1, x2, y2 = (table[c] for c in _BOX)
    if ((x2 < x1) | (y2 < y1) | (np.minimum(x1, y1) < 0) | (np.maximum(x2, y2) > 1)).any():
        return None
    names = _names(rows["video"])
    if names is None:
        return None
    if not fractional:
        table["timestamp"] = stamps.astype(np.int64)
    table["action"] = action.astype(np.int64)
    return {**names, **table}


def _joined(parts):
    """One column table from `_fast_part`s in file order; None when one of them is None."""
    if any(part is None for part in parts):
        return None
    table = (
        {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
        if parts[1:]
        else dict(parts[0])
    )
    table["video"] = np.repeat(table["video"], table.pop("video_runs"))
    return table


def _fast_columns(last):
    return ["timestamp", *_BOX, "action", last]


def _fast_rows(path, last, span=None, *, source=None):
    """The fast reader's rows: structured `[N]` (video as raw bytes, the other columns float64),
    or None when a row does not parse. `span`: (start, end) byte offsets of whole lines, to read
    only that part of the file; `source`: `_rereadable(path)`, when open."""
    # Names as raw bytes (latin-1 maps bytes to characters one to one), decoded as UTF-8 once
    # per run of equal names: faster than a text column.
    dtype = [("video", f"S{_FAST_VIDEO_BYTES}")] + [(name, np.float64) for name in _fast_columns(last)]
    try:
        with reading(path, source), warnings.catch_warnings(), _part(source or path, span) as part:
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            return np.loadtxt(part, dtype=dtype, delimiter=",", comments=None, encoding="latin-1", ndmin=1)
    except ValueError:
        return None


@contextlib.contextmanager
def _rereadable(path):
    """A path to read `path`'s content from as often as the readers need: `path` itself for a
    regular file; for one that can be read only once (a pipe, as `--pred <(zcat pred.csv.gz)`
    gives), a copy of its bytes."""
    with reading(path):
        if stat.S_ISREG(os.stat(path).st_mode):
            data = None
        else:
            with open(path, "rb") as file:
                data = file.read()
    if data is None:
        yield path
        return
    with _path_holding(data) as copy:
        yield copy


@contextlib.contextmanager
def _part(path, span):
    """A path that reads as bytes [start, end) of `path`; `path` itself when `span` is None."""
    if span is None:
        yield path
        return
    start, end = span
    with open(path, "rb") as file:
        file.seek(start)
        data = file.read(end - start)
    with _path_holding(data) as copy:
        yield copy


@contextlib.contextmanager
def _path_holding(data):
    """A path that reads as the bytes `data` (numpy's fast reader takes only paths): an anonymous
    in-memory file where Linux has them (`_reads_parts`), a temporary file elsewhere."""
    if _reads_parts():
        descriptor = os.memfd_create("slowbench-csv")
        try:
            with open(descriptor, "wb", closefd=False) as file:
                file.write(data)
            yield f"/proc/self/fd/{descriptor}"
        finally:
            os.close(descriptor)
        return
    with tempfile.TemporaryDirectory(prefix="slowbench-eval-") as folder:
        copy = os.path.join(folder, "content")
        with open(copy, "wb") as file:
            file.write(data)
        yield copy


def _names(raw):
    """{"video": each run's name, object `[R]`, "video_runs": its length `[R]`} of the fast
    reader's names as bytes `[N]`; None when one is empty, may have been cut, starts with a space
    (the text path drops it) or is not UTF-8."""
    starts, lengths = runs(raw)
    try:
        names = [name.decode("utf-8") for name in raw[starts].tolist()]
    except UnicodeDecodeError:
        return None
    if any(not name or len(name.encode()) >= _FAST_VIDEO_BYTES or name[0] == " " for name in names):
        return None
    return {"video": np.array(names, dtype=object).reshape(-1), "video_runs": lengths}


def _read_fields(path, *, allowed, source=None):
    """Splits a CSV into text columns (object arrays `[N]`, one per field, padded with "") and
    their line numbers `[N]`; checks every row has an allowed field count.

    As the C CSV readers do: lines end with \\n, \\r\\n or \\r; blank lines are skipped; no
    quoting; spaces (not tabs) before a field are dropped; empty fields after the last
    non-empty one do not count, unless the row has more fields than the widest allowed + 1.
    `source`: `_rereadable(path)`, when open.
    """
    width = max(allowed)
    with reading(path, source), open(source or path, encoding="utf-8", newline=None) as file:
        text = file.read()
    rows, lines = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        fields = [field.lstrip(" ") for field in line.split(",")]
        if len(fields) > width + 1:
            raise InputError(f"{path}:{number}: expected {_counts(allowed)} columns, got {len(fields)}")
        if any(fields):
            rows.append(fields + [""] * (width + 1 - len(fields)))
            lines.append(number)
    values = np.array(rows, dtype=object).reshape(len(rows), width + 1)
    lines = np.array(lines, dtype=np.int64)
    filled = values != ""
    count = width + 1 - np.argmax(filled[:, ::-1], axis=1)
    bad = ~np.isin(count, allowed)
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise InputError(f"{path}:{lines[first]}: expected {_counts(allowed)} columns, got {count[first]}")
    holes = ~filled & (np.arange(width + 1) < count[:, None])
    if holes.any():
        row, column = np.argwhere(holes)[0]
        raise InputError(f"{path}:{lines[row]}: column {column + 1} is empty")
    return [values[:, i] for i in range(width + 1)], lines


def _counts(allowed):
    return " or ".join(str(n) for n in allowed)


def _numbers(column, lines, path, what, *, allow_empty=False):
    empty = column == ""
    values = _as_float(np.where(empty, "nan", column))
    bad = ~np.isfinite(values) & ~(allow_empty & empty)
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise InputError(f"{path}:{lines[first]}: {what} {column[first]!r} is not a finite number")
    return values


def _integers(column, lines, path, what):
    values = _numbers(column, lines, path, what)
    bad = (values != np.round(values)) | (values < 0)
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise InputError(f"{path}:{lines[first]}: {what} {column[first]!r} is not a non-negative integer")
    return values.astype(np.int64)


def _timestamps(column, lines, path, fractional):
    if not fractional:
        return _integers(column, lines, path, "timestamp")
    values = _numbers(column, lines, path, "timestamp")
    if (values < 0).any():
        first = np.flatnonzero(values < 0)[0]
        raise InputError(f"{path}:{lines[first]}: timestamp {column[first]!r} is negative")
    return values


def _typed_columns(fields, lines, path, fractional, unit_boxes=True):
    table = {"video": fields[0], "timestamp": _timestamps(fields[1], lines, path, fractional)}
    for i, column in enumerate(_BOX, start=2):
        table[column] = _numbers(fields[i], lines, path, column)
    table["action"] = _integers(fields[6], lines, path, "action id")

    def report(bad, problem):
        if bad.any():
            raise InputError(f"{path}:{lines[np.flatnonzero(bad)[0]]}: {problem}")

    _check_boxes(table, report, unit_boxes)
    return table
