"""Bad-input errors of the slowbench package and its command-line runner.

slowbench reads user files through ``eval`` (pickles, CSVs, gt) and validates with it, so the
repository has one error base, ``eval.errors.InputError``, re-exported here with eval's
``ArgumentParser``; ``DataError`` and ``CheckpointError`` derive from it. A command's
``main(argv)`` is ``run_cli(command, argv)``: an ``InputError`` (and only an ``InputError``)
prints ``error: <one line>`` to stderr and gives exit status 2; any other exception is a bug and
keeps its traceback.
"""

import eval.errors
from eval.errors import ArgumentParser, InputError, InputWarning, first_line

__all__ = [
    "InputError",
    "DataError",
    "CheckpointError",
    "InputWarning",
    "ArgumentParser",
    "first_line",
    "run_cli",
]


class DataError(InputError):
    """Bad dataset input; the message is one line that starts with the offending file (and line).

    Raised for malformed annotation rows, unreadable or corrupt frames, proposal files that do not
    follow the reference format and splits that end up empty. Inside a DataLoader worker, torch
    re-raises it in the main process as a `DataError` whose message carries the worker's
    traceback; `run_cli` prints only its original line.
    """


class CheckpointError(InputError):
    """A checkpoint that cannot be read or does not fit the model; the message is one line."""


def run_cli(command, argv=None) -> int:
    """``eval.errors.run_cli`` for slowbench's commands (see the module docstring)."""
    return eval.errors.run_cli(command, argv, one_line=_one_line)


def _one_line(error) -> str:
    """The error's message on one line. An error re-raised from a torch DataLoader worker carries
    the worker's traceback in its message; its last line is the original message, after the
    exception's qualified name."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and "worker process" in lines[0]:
        name = f"{type(error).__module__}.{type(error).__qualname__}: "
        return lines[-1].removeprefix(name)
    return " ".join(lines) if lines else type(error).__name__
