"""Building blocks of eval/: AP, IoU, greedy matching, integer-key sorts, import hygiene."""

import subprocess
import sys

import numpy as np
import pytest

from eval.ap import precision_recall, voc_ap
from eval.box_iou import paired_iou
from eval.greedy_match import best_gt_overlap, true_positives
from eval.int_sort import coarser_rank, descending_rank, first_appearance_codes, order_by


def test_voc_ap_all_point_area():
    precision, recall = precision_recall(np.array([True, False, True, False]), 4)
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(recall, [0.25, 0.25, 0.5, 0.5])
    assert voc_ap(precision, recall) == pytest.approx(0.25 + 0.25 * 2 / 3)  # envelope, not 11-point
    assert voc_ap(*precision_recall(np.zeros(0, dtype=bool), 3)) == 0.0


def test_paired_iou_conventions():
    a = np.array([[0.0, 0.0, 10.0, 10.0], [0, 0, 10, 10], [5, 5, 5, 5]])
    b = np.array([[0.0, 0.0, 20.0, 10.0], [20, 20, 30, 30], [5, 5, 5, 5]])
    with np.errstate(invalid="ignore"):
        iou = paired_iou(a, b)
    assert iou[0] == 0.5 and iou[1] == 0.0 and np.isnan(iou[2])  # 0/0 like the references
    assert paired_iou(a[:1], b[:1], plus_one=True)[0] == pytest.approx(121 / 231)
    assert paired_iou(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32


def test_best_gt_takes_first_maximum_and_nan_first():
    gt_group = np.array([0, 0, 0, 1])
    gt_boxes = np.array([[0.0, 0, 5, 10], [0, 0, 10, 10], [0, 0, 10, 10], [3, 3, 3, 3]])
    det_group = np.array([0, 0, 1, 2])
    det_boxes = np.array([[0.0, 0, 10, 10], [0, 0, 10, 10], [3, 3, 3, 3], [0, 0, 1, 1]])
    with np.errstate(invalid="ignore"):
        index, iou = best_gt_overlap(det_group, det_boxes, gt_group, gt_boxes)
    assert index.tolist() == [1, 1, 3, -1]  # equal IoU: the first; a NaN IoU wins; no gt: -1
    assert np.isnan(iou[2]) and np.isnan(iou[3])
    assert true_positives(index, iou, 0.5).tolist() == [True, False, False, False]


def test_order_by_equals_lexsort_and_ranks():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 500), rng.integers(0, 3, 500)
    np.testing.assert_array_equal(order_by(a, b), np.lexsort((np.arange(500), b, a)))
    huge = np.array([2**40, 5, 2**40]), np.array([2**30, 1, 0])
    np.testing.assert_array_equal(order_by(*huge), np.lexsort(huge[::-1]))  # 63-bit fallback
    assert descending_rank(np.array([0.5, 0.9, 0.5, 0.1])).tolist() == [1, 0, 1, 2]


def test_coarser_rank_equals_ranking_the_cast_values():
    rng = np.random.default_rng(1)
    values = rng.random(3000) * rng.choice([1e-3, 1.0, 1e6], 3000)
    # values that differ in float64 but not in float32, exact float32 values, one beyond float32
    values = np.concatenate([values, values[:900] + 1e-12, values[:500].astype(np.float32), [1e300, -1e300]])
    rank = descending_rank(values)
    with np.errstate(over="ignore"):
        expected = descending_rank(values.astype(np.float32))
    np.testing.assert_array_equal(coarser_rank(rank, values, np.float32), expected)
    np.testing.assert_array_equal(coarser_rank(rank, values, np.float64), rank)
    assert coarser_rank(descending_rank(np.zeros(0)), np.zeros(0), np.float32).size == 0


@pytest.mark.parametrize("dtype", [np.int64, np.float64, object])
def test_first_appearance_codes_number_values_as_they_first_appear(dtype):
    values = np.array([7, 7, 3, 7, 3, 3, 9, 7], dtype=dtype)
    if dtype is object:
        values = np.array([f"v{v}" for v in values.tolist()], dtype=object)
    assert first_appearance_codes(values).tolist() == [0, 0, 1, 0, 1, 1, 2, 0]
    assert first_appearance_codes(values[:0]).tolist() == []


def test_eval_imports_neither_torch_nor_slowbench():
    code = (
        "import sys, eval.ava, eval.multisports, eval.safe_pickle; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'slowbench', 'matplotlib')]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "modules, heavy",
    [
        ("eval.ava.__main__", ("numpy", "pandas", "scipy", "matplotlib")),  # python -m eval.ava --help
        (
            "eval.multisports, eval.compare, eval.multisports.error_analysis, eval.multisports.official_files",
            ("pandas", "scipy", "matplotlib"),
        ),
        ("eval.ava, eval.ava.error_analysis, eval.report.html", ("pandas", "scipy", "matplotlib")),
    ],
)
def test_heavy_imports_stay_off_the_start_up_path(modules, heavy):
    # Both commands need numpy only (AVA's parses its arguments before numpy loads; pandas only
    # for the DataFrame readers); matplotlib loads when a plot is drawn.
    code = f"import sys, {modules}; bad = [m for m in {heavy!r} if m in sys.modules]; assert not bad, bad"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
