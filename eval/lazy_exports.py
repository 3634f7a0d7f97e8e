"""A package's public names loaded from its modules on first use (PEP 562), so that running the
package's command (`python -m eval.ava --help`) parses its arguments before the evaluator and
numpy load."""

import importlib
import sys

__all__ = ["lazy_exports"]


def lazy_exports(package, modules):
    """(`__all__`, `__getattr__`, `__dir__`) for the `__init__` of `package`: `modules` maps each
    submodule (relative to `package`) to the public names it defines, as one space-separated
    string."""
    exports = {name: module for module, names in modules.items() for name in names.split()}

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(sys.modules[package], name, value)  # later lookups find it directly
        return value

    def __dir__():
        return sorted(exports)

    return list(exports), __getattr__, __dir__
