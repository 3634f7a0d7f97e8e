"""The one exception type of the data package."""


class DataError(ValueError):
    """Bad dataset input; the message is one line that starts with the offending file (and line).

    Raised for malformed annotation rows, unreadable or corrupt frames, proposal files that do not
    follow the reference format and splits that end up empty. Inside a DataLoader worker, torch
    re-raises it in the main process as a `DataError` whose message ends with this line.
    """


class DataWarning(UserWarning):
    """A few samples were skipped (e.g. annotated videos without a frame folder); says how many."""
