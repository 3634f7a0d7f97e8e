"""Two `--json` results of the same evaluator side by side: headline metrics and every class's AP
with the change B - A. Modules: `comparison` (the library), `__main__` (`python -m eval.compare`).
"""

from eval.lazy_exports import lazy_exports

_EXPORTS = {
    "compare": "comparison",
    "format_comparison": "comparison",
    "plot_comparison": "comparison",
    "METRICS": "comparison",
    "main": "__main__",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
