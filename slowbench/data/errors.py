"""The data package's error (defined with the package's other input errors) and warning."""

from slowbench.errors import DataError, InputWarning

__all__ = ["DataError", "DataWarning"]


class DataWarning(InputWarning):
    """A few samples were skipped (e.g. annotated videos without a frame folder); says how many."""
