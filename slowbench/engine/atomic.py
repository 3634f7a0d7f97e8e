"""Atomic file output: write a temp file beside the target, then ``os.replace`` it (never a torn file)."""
import json
import os
import pathlib
import pickle
import tempfile
from typing import BinaryIO, Callable


def atomic_write(path, write: Callable[[BinaryIO], None]) -> pathlib.Path:
    """Calls ``write(f)`` on a temp file in the target folder and renames it to ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def atomic_pickle(obj, path) -> pathlib.Path:
    """Plain-data pickle (protocol 4), for files read by ``eval.safe_pickle``."""
    return atomic_write(path, lambda f: pickle.dump(obj, f, protocol=4))


def atomic_json(obj, path) -> pathlib.Path:
    return atomic_write(path, lambda f: f.write((json.dumps(obj, indent=2) + "\n").encode()))
