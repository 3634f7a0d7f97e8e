"""Two `--json` results of the same evaluator side by side: headline metrics and every class's AP
with the change B - A. Modules: `comparison` (the library), `__main__` (`python -m eval.compare`).
"""

from eval.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "comparison": "compare format_comparison plot_comparison METRICS",
        "__main__": "main",
    },
)
