"""Append-only JSON-lines log: one JSON object per line, flushed at once so a killed run keeps its lines."""

import json
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
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"event": event, **fields}, sort_keys=False) + "\n")
            f.flush()
