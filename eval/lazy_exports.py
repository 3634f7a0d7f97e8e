"""A package's public names loaded from its modules on first use (PEP 562), so that running the
package's command (`python -m eval.ava --help`) parses its arguments before the evaluator and
numpy load."""

import importlib
import sys

__all__ = ["lazy_exports"]


def lazy_exports(package, exports):
    """(`__getattr__`, `__dir__`) for the `__init__` of `package`: `exports` maps each public name
    to the submodule (relative to `package`) that defines it."""

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(sys.modules[package], name, value)  # later lookups find it directly
        return value

    def __dir__():
        return sorted(exports)

    return __getattr__, __dir__
