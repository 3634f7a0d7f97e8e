"""Bad-input errors of the slowbench package and its command-line runner.

A command's ``main(argv)`` is ``run_cli(command, argv)``: an ``InputError`` (and only an
``InputError``) prints ``error: <one line>`` to stderr and gives exit status 2; any other exception
is a bug and keeps its traceback. slowbench reads user files through ``eval`` (pickles, CSVs, GT)
and validates with it, so ``InputError`` derives from ``eval.errors.InputError`` and the commands
share eval's runner: every command in the repository fails the same way.
"""

import eval.errors
from eval.errors import InputWarning, first_line, run_cli

__all__ = [
    "InputError",
    "DataError",
    "CheckpointError",
    "InputWarning",
    "ArgumentParser",
    "first_line",
    "run_cli",
]


class InputError(eval.errors.InputError):
    """Bad user input: an argument, file or line that cannot be used; the message is one line
    that names it (``<file>:<line>: <what>`` or ``--arg: <what>``)."""


class DataError(InputError):
    """Bad dataset input; the message is one line that starts with the offending file (and line).

    Raised for malformed annotation rows, unreadable or corrupt frames, proposal files that do not
    follow the reference format and splits that end up empty. Inside a DataLoader worker, torch
    re-raises it in the main process as a `DataError` whose message ends with this line.
    """


class CheckpointError(InputError):
    """A checkpoint that cannot be read or does not fit the model; the message is one line."""


class ArgumentParser(eval.errors.ArgumentParser):
    """argparse whose usage errors raise this package's InputError (one line via ``run_cli``)."""

    def error(self, message):
        raise InputError(f"{self.prog}: {message}")
