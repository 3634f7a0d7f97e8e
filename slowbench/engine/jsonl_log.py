"""Append-only JSON-lines log: one JSON object per line, flushed at once so a killed run keeps its lines."""

import json
import os
import pathlib

from slowbench.errors import InputError


class JsonLinesLog:
    """``log(**fields)`` appends ``{"event": ..., ...}`` to ``path``; a no-op when ``path`` is None.

    A folder that cannot be created is an InputError naming it (e.g. an unwritable ``--work-dir``).
    """

    def __init__(self, path):
        self.path = None if path is None else pathlib.Path(path)
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise InputError(
                    f"{self.path.parent}: cannot create the folder ({error.strerror or error})"
                ) from None

    def log(self, event: str, **fields) -> None:
        if self.path is None:
            return
        line = json.dumps({"event": event, **fields}, sort_keys=False) + "\n"
        with self.path.open("a+b") as f:  # opened at the end; writes always append
            if f.tell():
                # A run killed mid-write leaves a torn last line: the next line starts on its own.
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    line = "\n" + line
            f.write(line.encode("utf-8"))
            f.flush()
