"""Bad-input errors and the one CLI runner that turns them into one line and exit status 2.

A command's `main(argv)` is `run_cli(command, argv)`: an `InputError` (and only an `InputError`)
prints `error: <message>` to stderr and gives exit status 2; any other exception is a bug and
propagates with its traceback. This is the repository's one error base and runner: slowbench's
`DataError` and `CheckpointError` derive from `InputError` and its commands run through
`slowbench.errors.run_cli`, this runner with its torch-specific message handling, so every
command fails the same way.
"""

import argparse
import contextlib
import math
import os
import sys
import warnings

__all__ = [
    "InputError",
    "InputWarning",
    "ArgumentParser",
    "reading",
    "first_line",
    "is_finite",
    "warn_once",
    "run_cli",
    "exit_process",
]


class InputError(Exception):
    """Bad user input: a file, a line of it or an argument that cannot be used. The message is
    one line that starts with what it names: `<file>:<line>: <what>` or `--arg: <what>`."""


class InputWarning(UserWarning):
    """Input that is ignored rather than rejected (e.g. unknown class ids in predictions)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors raise InputError (one line via `run_cli`) instead of
    printing the usage block and exiting."""

    def error(self, message):
        raise InputError(f"{self.prog}: {message}")


@contextlib.contextmanager
def reading(path, source=None):
    """Turns an OSError raised while opening or reading the user's file `path` (missing,
    a folder, no permission), or text that is not UTF-8, into a one-line InputError naming it
    (and the line of the first undecodable byte). `source`: where its content is read from,
    when not `path` itself (a copy of a pipe's bytes)."""
    try:
        yield
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}:{_first_non_utf8_line(source or path)}: not UTF-8 text") from None


def _first_non_utf8_line(path):
    with open(path, "rb") as file:
        data = file.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return data.count(b"\n", 0, error.start) + 1
    return 1  # the decoding that failed read another file or a part of one


def first_line(error):
    """The first non-blank line of an exception's message (its type's name when there is none):
    what a foreign library's error says about the user's file, on one line."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def is_finite(number):
    """Whether a Python or numpy number read from a user's file is finite (an int too large for
    a float is not; `math.isfinite` would raise OverflowError)."""
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def warn_once(message):
    """Emits `message` as an InputWarning (callers aggregate, so each issue is reported once)."""
    warnings.warn(message, InputWarning, stacklevel=3)


def run_cli(command, argv=None, *, one_line=None) -> int:
    """Runs `command(argv)` and returns the exit status: its return value, 0 when that is None,
    2 after printing `error: <one line>` when it raises an InputError.

    InputWarnings print as `warning: <message>`. Any other exception propagates. `one_line`: the
    error's message on one line (default: its lines joined).
    """

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        warnings.simplefilter("default", InputWarning)  # each distinct warning once a run
        try:
            status = command(argv)
        except InputError as error:
            print(f"error: {(one_line or _one_line)(error)}", file=sys.stderr)
            return 2
    return 0 if status is None else status


def exit_process(status):
    """Ends a command-line process with `status` once stdout and stderr are flushed, without the
    interpreter's teardown (freeing every module and array: a tenth of a 0.3 s evaluation).
    Only for `python -m` entry points: every file a command writes is closed by then."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: the stream was closed when the process started
                stream.flush()
        except BrokenPipeError:  # the reader left early (`| head`): what it took was written
            pass
    os._exit(status)


def _one_line(error):
    """The error's message on one line: its non-blank lines joined (its type's name when empty)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines) if lines else type(error).__name__
