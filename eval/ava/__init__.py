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

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "evaluation": "evaluate evaluate_tables",
        "io": "read_label_map read_csv_gt read_csv_gt_2020 read_csv_pred read_exclusions read_gt_table "
        "read_gt_2020_table read_gt_rows read_pred_table read_gt_and_pred write_csv_pred check_columns",
        "protocols": "PROTOCOLS FRACTIONAL CATEGORIES IOU_THRESHOLD",
        "__main__": "main",
    },
)
