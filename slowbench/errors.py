"""Bad-input errors of the slowbench package.

Every command turns an `InputError` (and only an `InputError`) into one line and exit status 2;
any other exception is a bug and keeps its traceback.
"""


class InputError(ValueError):
    """Bad user input: an argument, file or line that cannot be used; the message is one line
    that names it."""


class DataError(InputError):
    """Bad dataset input; the message is one line that starts with the offending file (and line).

    Raised for malformed annotation rows, unreadable or corrupt frames, proposal files that do not
    follow the reference format and splits that end up empty. Inside a DataLoader worker, torch
    re-raises it in the main process as a `DataError` whose message ends with this line.
    """


class CheckpointError(InputError):
    """A checkpoint that cannot be read or does not fit the model; the message is one line."""
