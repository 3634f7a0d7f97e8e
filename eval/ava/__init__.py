"""AVA frame-mAP at IoU 0.5, equal to each protocol's reference evaluator.

Protocols (`PROTOCOLS`): `mmaction2` (default, mmaction2 1.x `ava_eval`), `activitynet` (the
ActivityNet 2019 evaluator) and `activitynet-2020` (the current one, the AVA-Kinetics
challenge's); their exact rules are in `eval.ava.evaluation`. Modules: `evaluation` (the
metric), `io` (label maps, gt / prediction CSVs, exclusions), `error_analysis` (what false
positives are), `report` (the `--report` page), `__main__` (`python -m eval.ava`).

    from eval.ava import evaluate, read_csv_gt, read_csv_pred, read_label_map
    result = evaluate(read_csv_gt(gt), read_csv_pred(pred), read_label_map(label_map))
"""

from eval.lazy_exports import lazy_exports

_EXPORTS = {
    "evaluate": "evaluation",
    "evaluate_tables": "evaluation",
    "read_label_map": "io",
    "read_csv_gt": "io",
    "read_csv_gt_2020": "io",
    "read_csv_pred": "io",
    "read_exclusions": "io",
    "read_gt_table": "io",
    "read_gt_2020_table": "io",
    "read_gt_rows": "io",
    "read_pred_table": "io",
    "read_gt_and_pred": "io",
    "write_csv_pred": "io",
    "check_columns": "io",
    "PROTOCOLS": "protocols",
    "FRACTIONAL": "protocols",
    "CATEGORIES": "protocols",
    "IOU_THRESHOLD": "protocols",
    "main": "__main__",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
