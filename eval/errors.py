"""Bad-input errors and the CLI wrapper that turns them into one line and exit status 2."""
import argparse
import sys
import warnings

__all__ = ["InputError", "InputWarning", "ArgumentParser", "warn_once", "run_cli"]


class InputError(ValueError):
    """Malformed user input; the message names the file (or argument) and the line or key."""


class InputWarning(UserWarning):
    """Input that is ignored rather than rejected (e.g. unknown class ids in predictions)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors raise InputError (one line via `run_cli`) instead of
    printing the usage block."""

    def error(self, message):
        raise InputError(f"{self.prog}: {message}")


def warn_once(message):
    """Emits `message` as an InputWarning (callers aggregate, so each issue is reported once)."""
    warnings.warn(message, InputWarning, stacklevel=3)


def run_cli(main, argv=None):
    """Runs `main(argv)`; bad input prints `error: <one line>` to stderr and exits with 2.

    Warnings print as `warning: <message>` lines. Programming errors keep their traceback.
    """
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        warnings.simplefilter("always", InputWarning)
        try:
            status = main(argv)
        except (ValueError, OSError) as error:
            text = str(error).replace("\n", " ") or type(error).__name__
            print(f"error: {text}", file=sys.stderr)
            status = 2
    sys.exit(status)
