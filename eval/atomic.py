"""Atomic file output, the one implementation in the repository (slowbench and benchmarks use it):
a temp file beside the target, then `os.replace`, so a killed or failing writer never leaves a
torn file and an existing file stays as it was.

JSON policy: strict JSON only. NaN and infinity are refused (`ValueError`, a bug in the caller):
a value that does not exist, such as the AP of an unscored class, must be None (`null`).
"""

import json
import os
import pathlib
import pickle
import tempfile

from eval.errors import InputError

__all__ = ["atomic_write", "atomic_bytes", "atomic_json", "atomic_pickle"]


def atomic_write(path, write):
    """Calls `write(file)` on a binary temp file in the target's folder (created if needed),
    then renames it to `path`; returns `path` as a Path.

    A folder that cannot be created or written to is an InputError naming `path`.
    """
    path = pathlib.Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise InputError(f"{path}: cannot write ({error.strerror or error})") from None
    try:
        # mkstemp makes the file private (0600); an output gets the mode a plain open() gives.
        os.chmod(temp, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
    return path


def _umask() -> int:
    """The process umask; reading it means setting it, so this is done once (at the first
    write), not on every write where another thread could create a file in between."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


_UMASK = None


def atomic_bytes(data, path):
    """Writes `data` (bytes) as the file's whole content."""
    return atomic_write(path, lambda file: file.write(data))


def atomic_json(data, path):
    """Writes `data` as indented strict JSON (see the module's NaN policy)."""
    return atomic_bytes((json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8"), path)


def atomic_pickle(data, path):
    """A pickle (protocol 4) of plain data: containers, numbers, strings and numpy arrays, the
    kinds `eval.safe_pickle` reads back."""
    return atomic_write(path, lambda file: pickle.dump(data, file, protocol=4))
