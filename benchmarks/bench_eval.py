"""Evaluator speed on the reference-sized cases of `benchmarks/eval_cases.py`.

Each benchmark times the vectorised evaluator with pytest-benchmark and, in the same run, a
simple per-detection Python loop computing the same numbers (`eval_cases.naive_*`); it asserts
the speed-up ratio and that both agree, and records absolute times in `extra_info`. The
reference implementations' published costs on 2 shared CPU cores are recorded alongside:
AVA 4.96 s (mmaction2, Pool(32)) / 16.73 s (ActivityNet); MultiSports frame-AP 2.8 s per
threshold; tube linking 66.2 s and 2.15 GB peak.

Run: python -m pytest benchmarks/bench_eval.py --benchmark-only
"""
import time
import tracemalloc

import numpy as np
import pytest

from benchmarks.eval_cases import (ava_case, multisports_case, naive_ava_map, naive_frame_ap,
                                   naive_link_tubes)
from eval import ava
from eval.frame_ap import frame_ap
from eval.multisports_io import SKIPPED_LABEL_NAMES, check_frame_dets, prepare_gt
from eval.tube_linking import link_tubes

REFERENCE_SECONDS = {"ava_mmaction2": 4.96, "ava_activitynet": 16.73, "frame_ap": 2.8, "linking": 66.2}


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


@pytest.fixture(scope="module")
def ava_large():
    return ava_case()


@pytest.fixture(scope="module")
def multisports_large():
    gt, frame_dets = multisports_case()
    view = prepare_gt(gt)
    return gt, view, check_frame_dets(view, frame_dets)


def test_ava_frame_map(benchmark, ava_large, tmp_path):
    gt, pred, label_map, excluded = ava_large
    (expected, _), baseline = timed(naive_ava_map, gt, pred, label_map, excluded)
    result = benchmark.pedantic(ava.evaluate, args=(gt, pred, label_map, excluded),
                                rounds=5, iterations=1, warmup_rounds=1)
    ours = benchmark.stats.stats.median
    _, activitynet = timed(ava.evaluate, gt, pred, label_map, excluded, protocol="activitynet")
    gt_csv, pred_csv = tmp_path / "gt.csv", tmp_path / "pred.csv"
    gt.to_csv(gt_csv, header=False, index=False)
    ava.write_csv_pred(pred_csv, pred)
    _, reading = timed(lambda: (ava.read_csv_gt(gt_csv), ava.read_csv_pred(pred_csv)))
    benchmark.extra_info.update({
        "gt_rows": len(gt), "pred_rows": len(pred), "excluded_keys": len(excluded),
        "seconds_vectorised": ours, "seconds_per_detection_loop": baseline,
        "speedup_vs_loop": baseline / ours, "seconds_activitynet_protocol": activitynet,
        "seconds_reading_both_csv": reading,
        "reference_seconds": {k: REFERENCE_SECONDS[k] for k in ("ava_mmaction2", "ava_activitynet")},
    })
    assert result["mAP"] == pytest.approx(expected, abs=1e-12)
    assert baseline / ours >= 10


def test_multisports_frame_ap(benchmark, multisports_large):
    gt, view, frame_dets = multisports_large
    expected, baseline = timed(naive_frame_ap, gt, frame_dets, 0.5, SKIPPED_LABEL_NAMES)
    aps, _, _ = benchmark.pedantic(frame_ap, args=(view, frame_dets, [0.5]),
                                   rounds=3, iterations=1, warmup_rounds=1)
    ours = benchmark.stats.stats.median
    thresholds = [0.1 + 0.1 * i for i in range(9)]
    _, nine = timed(frame_ap, view, frame_dets, thresholds)
    benchmark.extra_info.update({
        "frame_detections": len(frame_dets), "frames": int(view.nframes.sum()),
        "seconds_one_threshold": ours, "seconds_nine_thresholds": nine,
        "seconds_per_detection_loop": baseline, "speedup_vs_loop": baseline / ours,
        "reference_seconds_per_threshold": REFERENCE_SECONDS["frame_ap"],
    })
    assert aps[0.5] == pytest.approx(expected, abs=1e-12)
    assert baseline / ours >= 10


def test_multisports_tube_linking(benchmark, multisports_large):
    gt, view, frame_dets = multisports_large
    # The frame-by-frame loop visits every frame of every (video, label): time it on a slice.
    few = 5
    sliced_gt = dict(gt, test_videos=[gt["test_videos"][0][:few]])
    sliced = frame_dets[frame_dets[:, 0] < few]
    expected, baseline = timed(naive_link_tubes, sliced_gt, sliced)
    got, ours_slice = timed(link_tubes, prepare_gt(sliced_gt), sliced)
    tubes = benchmark.pedantic(link_tubes, args=(view, frame_dets), rounds=3, iterations=1,
                               warmup_rounds=1)
    ours = benchmark.stats.stats.median
    _, bugged = timed(link_tubes, view, frame_dets, compat="mmaction2")
    tracemalloc.start()  # a separate run: tracing slows allocation-heavy code several-fold
    link_tubes(view, frame_dets)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    benchmark.extra_info.update({
        "frame_detections": len(frame_dets), "videos": len(view.videos),
        "tubes": sum(map(len, tubes.values())), "seconds_full": ours,
        "seconds_full_compat_mmaction2": bugged, "peak_traced_mb": peak / 1e6,
        "slice_videos": few, "seconds_slice_vectorised": ours_slice,
        "seconds_slice_frame_loop": baseline, "speedup_vs_loop": baseline / ours_slice,
        "reference_seconds": REFERENCE_SECONDS["linking"], "reference_peak_mb": 2150,
    })
    for label in expected:
        assert [(v, s) for v, s, _ in got[label]] == [(v, pytest.approx(s)) for v, s, _ in expected[label]]
    assert baseline / ours_slice >= 5
    assert peak < 500e6
    assert np.isfinite([s for entries in tubes.values() for _, s, _ in entries]).all()
