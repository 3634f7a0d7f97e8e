"""AVA file formats: label maps, gt / prediction CSVs, excluded timestamps, prediction writer.

CSV rows are `video,timestamp,x1,y1,x2,y2,action[,person|score]` with boxes normalised to
[0, 1]. Readers return a `pandas.DataFrame` with columns `video` (str), `timestamp` (int64, or
float64 for `fractional` files), `x1, y1, x2, y2` (float64), `action` (int64) and `person` (gt,
NaN for 7-column rows) or `score` (predictions). Every malformed row raises
`InputError("<file>:<line>: <problem>")`.

The ActivityNet 2020 format (AVA-Kinetics) differs in two ways: timestamps may carry decimals
(`6.5`, up to 6 are significant), and the gt may hold 2-column rows `video,timestamp` for an
annotated frame without any action (`read_csv_gt_2020`).
"""
import re

import numpy as np
import pandas as pd

from eval.atomic import atomic_write
from eval.errors import InputError, reading

__all__ = [
    "read_label_map", "read_csv_gt", "read_csv_gt_2020", "read_csv_pred", "read_exclusions",
    "write_csv_pred", "check_columns",
]

_BOX = ["x1", "y1", "x2", "y2"]
_PLAIN_ENTRY = re.compile(r"^\s*(-?\d+)\s*:\s*(.*?)\s*$")
_PBTXT_FIELD = re.compile(r"^\s*(name|display_name|id|label_id)\s*:\s*(.*?)\s*$")


def read_label_map(path):
    """Class id -> name from a pbtxt (`item { name: "..." id: N }`) or an `id: name` list.

    The pbtxt is read like the reference parsers (an entry is added at each `id:` line with the
    last `name:` seen), but indentation is not significant.
    """
    with reading(path), open(path, encoding="utf-8") as file:
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
    frame = _read_typed(path, "person", allow_seven=True, fractional=fractional)
    if frame is not None:
        return frame
    fields, lines = _read_fields(path, allowed=(7, 8))
    frame = _typed_columns(fields, lines, path, fractional)
    frame["person"] = _numbers(fields[7], lines, path, "person id", allow_empty=True)
    return frame


def read_csv_gt_2020(path):
    """An ActivityNet 2020 gt file -> (gt rows as `read_csv_gt(fractional=True)`, empty
    keyframes: DataFrame `video`, `timestamp` of its 2-column rows)."""
    frame = _read_typed(path, "person", allow_seven=True, fractional=True)
    if frame is not None:
        return frame, frame[["video", "timestamp"]].iloc[:0]
    fields, lines = _read_fields(path, allowed=(2, 7, 8))
    empty = fields[2] == ""
    keys = pd.DataFrame({"video": fields[0][empty].astype(str),
                         "timestamp": _timestamps(fields[1][empty], lines[empty], path, True)})
    fields, lines = [column[~empty] for column in fields], lines[~empty]
    frame = _typed_columns(fields, lines, path, True)
    frame["person"] = _numbers(fields[7], lines, path, "person id", allow_empty=True)
    return frame, keys


def read_csv_pred(path, *, fractional=False):
    """Prediction rows (exactly 8 columns; the 8th is the score) as a DataFrame.

    `fractional`: the ActivityNet 2020 form: timestamps may have decimals (float64 column), and,
    as its reader does, a 2-column row (a frame without detections) is skipped and a 7-column row
    scores 1.0.
    """
    frame = _read_typed(path, "score", allow_seven=False, fractional=fractional)
    if frame is not None:
        return frame
    fields, lines = _read_fields(path, allowed=(2, 7, 8) if fractional else (8,))
    if fractional:
        boxed = fields[2] != ""
        fields, lines = [column[boxed] for column in fields], lines[boxed]
    frame = _typed_columns(fields, lines, path, fractional)
    score = _numbers(fields[7], lines, path, "score", allow_empty=fractional)
    frame["score"] = np.where(fields[7] == "", 1.0, score)
    return frame


def read_exclusions(path):
    """Excluded (video, timestamp) keys from a 2-column CSV."""
    fields, lines = _read_fields(path, allowed=(2,))
    timestamps = _integers(fields[1], lines, path, "timestamp")
    return set(zip(fields[0].tolist(), timestamps.tolist()))


def write_csv_pred(path, df, *, decimals=4):
    """Writes predictions in the official CSV form, atomically (`eval.atomic`).

    `df` has columns video, timestamp, x1, y1, x2, y2, action, score. Floats are printed with
    `decimals` digits (4, like mmaction2, so scores written here tie exactly as in mmaction2);
    whole-second timestamps as 4-digit integers (AVA's form), others with their decimals
    (at most 6, what the ActivityNet 2020 evaluator keys on).
    """
    df = check_columns(df, "predictions", with_score=True, integer_timestamps=False)
    timestamps = pd.Series(np.asarray(df["timestamp"], dtype=np.float64))
    whole = (timestamps == np.floor(timestamps)).all()
    text = df["video"].astype(str).reset_index(drop=True) + "," + (
        timestamps.astype(np.int64).map("{:04d}".format) if whole
        else timestamps.map(_format_timestamp))
    for column in _BOX:
        text = text + "," + pd.Series(np.asarray(df[column], dtype=np.float64)).map(
            f"{{:.{decimals}f}}".format).to_numpy()
    text = text + "," + pd.Series(np.asarray(df["action"], dtype=np.int64)).astype(str).to_numpy()
    text = text + "," + pd.Series(np.asarray(df["score"], dtype=np.float64)).map(
        f"{{:.{decimals}f}}".format).to_numpy()
    lines = "".join(line + "\n" for line in text.tolist())
    atomic_write(path, lambda file: file.write(lines.encode("utf-8")))


def _format_timestamp(value):
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if "." in text else f"{int(text):04d}"


def check_columns(df, source, *, with_score, integer_timestamps=True):
    """Validates an in-memory AVA table (the readers' DataFrame or a dict of column arrays).

    Returns it as a DataFrame. Raises InputError naming `source` and the first bad row.
    Without `integer_timestamps`, timestamps need only be finite and >= 0.
    """
    if not isinstance(df, pd.DataFrame):
        try:
            df = pd.DataFrame(dict(df))
        except (TypeError, ValueError) as error:
            raise InputError(f"{source}: not a table of columns ({error})") from None
    needed = ["video", "timestamp", *_BOX, "action"] + (["score"] if with_score else [])
    missing = [column for column in needed if column not in df.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}")
    for column in [*_BOX] + (["score"] if with_score else []):
        values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=np.float64)
        _first_bad(~np.isfinite(values), source, f"{column} is not a finite number")
    for column in ("timestamp", "action"):
        values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=np.float64)
        if column == "timestamp" and not integer_timestamps:
            _first_bad(~np.isfinite(values) | (values < 0), source,
                       "timestamp is not a finite number >= 0")
            continue
        _first_bad(~np.isfinite(values) | (values != np.round(values)), source,
                   f"{column} is not an integer")
    _check_boxes(df, lambda bad, problem: _first_bad(bad, source, problem))
    return df


def _first_bad(bad, source, problem):
    rows = np.flatnonzero(bad)
    if rows.size:
        raise InputError(f"{source}: row {rows[0]}: {problem}")


def _check_boxes(frame, report):
    x1, y1, x2, y2 = (frame[c].to_numpy(dtype=np.float64) for c in _BOX)
    report((x2 < x1) | (y2 < y1), "inverted box (x2 < x1 or y2 < y1)")
    report((np.minimum(x1, y1) < 0) | (np.maximum(x2, y2) > 1), "box outside [0, 1]")


def _read_typed(path, last, *, allow_seven, fractional):
    """Fast path: the C parser with column dtypes. Returns None when anything is off, and the
    caller re-reads the file as text to name the first bad line."""
    columns = ["video", "timestamp", *_BOX, "action", last, "extra"]
    dtypes = {"video": str, "timestamp": np.float64 if fractional else np.int64, "action": np.int64,
              **{c: np.float64 for c in [*_BOX, last, "extra"]}}
    try:
        with reading(path):
            frame = pd.read_csv(path, header=None, names=columns, dtype=dtypes, engine="c",
                                quoting=3, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        return None
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError):
        return None
    values = frame[[*_BOX]].to_numpy()
    last_values = frame[last].to_numpy()
    ok = (frame["extra"].isna().all() and np.isfinite(values).all()
          and (np.isfinite(last_values).all() or (allow_seven and not np.isinf(last_values).any()))
          and np.isfinite(frame["timestamp"].to_numpy(dtype=np.float64)).all()
          and (frame["timestamp"].to_numpy() >= 0).all() and (frame["action"].to_numpy() >= 0).all()
          and not frame["video"].isna().any())
    x1, y1, x2, y2 = values.T if len(values) else (np.zeros(0),) * 4
    if not ok or ((x2 < x1) | (y2 < y1) | (np.minimum(x1, y1) < 0) | (np.maximum(x2, y2) > 1)).any():
        return None
    frame = frame.drop(columns="extra")
    frame["video"] = frame["video"].astype(str)
    return frame


def _read_fields(path, *, allowed):
    """Splits a CSV into string columns; checks every row has an allowed field count."""
    width = max(allowed)
    try:
        with reading(path):
            table = pd.read_csv(path, header=None, names=range(width + 1), dtype=str,
                                na_filter=False, skip_blank_lines=False, engine="c",
                                skipinitialspace=True, quoting=3)
    except pd.errors.EmptyDataError:
        table = pd.DataFrame({i: pd.Series([], dtype=str) for i in range(width + 1)})
    except pd.errors.ParserError as error:
        found = re.search(r"line (\d+), saw (\d+)", str(error))
        where = f"{path}:{found.group(1)}" if found else str(path)
        count = found.group(2) if found else "too many"
        raise InputError(f"{where}: expected {_counts(allowed)} columns, got {count}") from None
    values = table.to_numpy()
    filled = values != ""
    lines = np.arange(1, len(table) + 1)
    blank = ~filled.any(axis=1)
    values, filled, lines = values[~blank], filled[~blank], lines[~blank]
    count = width + 1 - np.argmax(filled[:, ::-1], axis=1)
    bad = ~np.isin(count, allowed)
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise InputError(f"{path}:{lines[first]}: expected {_counts(allowed)} columns, "
                         f"got {count[first]}")
    holes = ~filled & (np.arange(width + 1) < count[:, None])
    if holes.any():
        row, column = np.argwhere(holes)[0]
        raise InputError(f"{path}:{lines[row]}: column {column + 1} is empty")
    return [values[:, i] for i in range(width + 1)], lines


def _counts(allowed):
    return " or ".join(str(n) for n in allowed)


def _numbers(column, lines, path, what, *, allow_empty=False):
    values = pd.to_numeric(pd.Series(column), errors="coerce").to_numpy(dtype=np.float64)
    empty = column == ""
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
        raise InputError(f"{path}:{lines[first]}: {what} {column[first]!r} is not a "
                         "non-negative integer")
    return values.astype(np.int64)


def _timestamps(column, lines, path, fractional):
    if not fractional:
        return _integers(column, lines, path, "timestamp")
    values = _numbers(column, lines, path, "timestamp")
    if (values < 0).any():
        first = np.flatnonzero(values < 0)[0]
        raise InputError(f"{path}:{lines[first]}: timestamp {column[first]!r} is negative")
    return values


def _typed_columns(fields, lines, path, fractional):
    frame = pd.DataFrame({
        "video": fields[0].astype(str),
        "timestamp": _timestamps(fields[1], lines, path, fractional),
    })
    for i, column in enumerate(_BOX, start=2):
        frame[column] = _numbers(fields[i], lines, path, column)
    frame["action"] = _integers(fields[6], lines, path, "action id")

    def report(bad, problem):
        if bad.any():
            raise InputError(f"{path}:{lines[np.flatnonzero(bad)[0]]}: {problem}")

    _check_boxes(frame, report)
    return frame
