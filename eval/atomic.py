"""Atomic outputs, the one implementation in the repository (slowbench and benchmarks use it):
every output file and every finished folder is staged beside its target, then renamed into
place with `os.replace`, so a killed or failing writer never leaves a torn file or a half-made
folder, and an existing file stays as it was. Every function takes the target path first.

JSON policy: strict JSON only. NaN and infinity are refused (`ValueError`, a bug in the caller):
a value that does not exist, such as the AP of an unscored class, must be None (`null`).
"""

import contextlib
import json
import os
import pathlib
import pickle
import shutil
import tempfile

from eval.errors import InputError

__all__ = ["atomic_write", "atomic_bytes", "atomic_json", "atomic_pickle", "atomic_folder", "staged_file"]


@contextlib.contextmanager
def staged_file(path):
    """Yields a new temporary file's path beside `path` (its folder created if needed); renames
    it to `path` when the block ends without an error, removes it otherwise.

    For writers that take a file name rather than a file object. A folder that cannot be
    created or written to is an InputError naming `path`.
    """
    path = pathlib.Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Hidden, and ending in the target's name: some writers check the suffix (.pt2, .png).
        handle, temp = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{path.name}", dir=path.parent)
    except OSError as error:
        raise InputError(f"{path}: cannot write ({error.strerror or error})") from None
    os.close(handle)
    try:
        # mkstemp makes the file private (0600); an output gets the mode a plain open() gives.
        os.chmod(temp, 0o666 & ~_umask())
        yield pathlib.Path(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def atomic_write(path, write):
    """Calls `write(file)` on a binary file staged beside `path` (`staged_file`); returns `path`
    as a Path."""
    with staged_file(path) as temp, open(temp, "wb") as file:
        write(file)
    return pathlib.Path(path)


def _umask() -> int:
    """The process umask; reading it means setting it, so this is done once (at the first
    write), not on every write where another thread could create a file in between."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


_UMASK = None


def atomic_bytes(path, data):
    """Writes `data` (bytes) as the file's whole content."""
    return atomic_write(path, lambda file: file.write(data))


def atomic_json(path, data):
    """Writes `data` as indented strict JSON (see the module's NaN policy)."""
    return atomic_bytes(path, (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8"))


def atomic_pickle(path, data):
    """A pickle (protocol 4) of plain data: containers, numbers, strings and numpy arrays, the
    kinds `eval.safe_pickle` reads back."""
    return atomic_write(path, lambda file: pickle.dump(data, file, protocol=4))


@contextlib.contextmanager
def atomic_folder(path):
    """Yields an empty staging folder `.<name>.partial` beside the folder `path`; renames it to
    `path` when the block ends without an error, removes it otherwise.

    `path` must not exist or be an empty folder (a finished folder is never overwritten). A
    staging folder left by a killed run is removed first, so a rerun starts clean. A folder that
    cannot be created is an InputError naming `path`.
    """
    path = pathlib.Path(path)
    staging = path.with_name(f".{path.name}.partial")
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    except OSError as error:
        raise InputError(f"{path}: cannot create ({error.strerror or error})") from None
    try:
        yield staging
        os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
