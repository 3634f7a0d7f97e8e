"""Restricted unpickling of user-supplied files.

`load(path)` reconstructs only plain containers (dict, list, tuple, set, frozenset), numbers,
str/bytes, None/bool and numpy arrays, scalars and dtypes. Any other global named by the pickle
is refused with a one-line `InputError` naming the file and the global, before it is imported.
Python 2 strings are decoded as Latin-1 (`pickle.load(..., encoding="latin1")`, what numpy needs
for Python 2 pickles of arrays, such as ACT's UCF101-24 and JHMDB-21 gt); Python 3 pickles are
unaffected.
"""

import io
import os
import pickle

from eval.errors import InputError, first_line, reading

__all__ = ["load", "loads"]

# Every global a pickle of plain data can name, as (module, name). numpy 1.x writes
# `numpy.core.*`, numpy 2.x `numpy._core.*`; both spellings must load under either numpy.
_NUMPY_RECONSTRUCTORS = {
    ("multiarray", "_reconstruct"),  # ndarray.__reduce__, protocols 0-4
    ("multiarray", "scalar"),  # numpy scalars (np.float32(1.0), ...)
    ("numeric", "_frombuffer"),  # ndarray.__reduce_ex__(5) for contiguous arrays
}
_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    # Protocol 2 writes bytes as _codecs.encode(latin-1 text, "latin1").
    ("_codecs", "encode"),
}
# Protocols 0-2 name builtins by their Python 2 module, `__builtin__`.
for _builtins in ("builtins", "__builtin__"):
    for _name in ("set", "frozenset", "complex", "bytearray", "slice"):
        _ALLOWED.add((_builtins, _name))
for _package in ("numpy.core", "numpy._core"):
    for _module, _name in _NUMPY_RECONSTRUCTORS:
        _ALLOWED.add((f"{_package}.{_module}", _name))


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose `find_class` only resolves the globals in `_ALLOWED`."""

    def __init__(self, file, *, source):
        super().__init__(file, encoding="latin1")
        self._source = source

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise InputError(
                f"{self._source}: refusing to unpickle global '{module}.{name}' "
                "(only plain containers, numbers, strings and numpy arrays are allowed)"
            )
        return super().find_class(module, name)


def load(path):
    """Unpickles `path` allowing only plain data; raises a one-line InputError otherwise.

    A refused global, a truncated or corrupt file, a non-pickle file and a file that cannot be
    opened all raise an `InputError` whose message starts with the path.
    """
    path = os.fspath(path)
    with reading(path), open(path, "rb") as file:
        return _load_from(file, source=path)


def loads(data, *, source="<bytes>"):
    """Like `load` but for in-memory pickle bytes; `source` names them in error messages."""
    return _load_from(io.BytesIO(data), source=source)


def _load_from(file, *, source):
    try:
        return _RestrictedUnpickler(file, source=source).load()
    except (
        pickle.UnpicklingError,
        EOFError,
        AttributeError,
        ImportError,
        IndexError,
        TypeError,
        KeyError,
        MemoryError,
        OverflowError,
        SystemError,  # numpy's dtype __setstate__ on damaged state (returns NULL, no exception)
        UnicodeDecodeError,
        ValueError,
    ) as error:
        # What a corrupt or foreign byte stream makes the unpickler raise (all seen by fuzzing).
        raise InputError(f"{source}: not a readable pickle ({first_line(error)})") from None
