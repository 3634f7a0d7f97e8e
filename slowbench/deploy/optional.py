"""The deploy extra's packages (onnx, onnxruntime), imported only where they are used."""

import importlib

from slowbench.errors import InputError


def import_optional(name: str):
    """`import name`, or a one-line InputError that says how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise InputError(
            f"{name} is not installed; install the deploy extra: pip install -e .[deploy]"
        ) from None
