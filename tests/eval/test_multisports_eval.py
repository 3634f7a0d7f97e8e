"""eval.multisports: frame-AP, tube linking and video-AP on hand-computed cases, and against
simple per-detection loops on random cases."""

import copy
import warnings

import numpy as np
import pytest

from benchmarks.eval_cases import multisports_case, naive_frame_ap, naive_link_tubes
from eval import multisports
from eval.errors import InputError, InputWarning
from eval.multisports.io import SKIPPED_LABEL_NAMES, prepare_gt
from eval.multisports.tube_linking import link_tubes
from eval.multisports.video_ap import tube_iou

LABELS = ["jump", "spin", "aerobic kick jump", "pass"]  # label 2 is never evaluated
BOX = (0.0, 0.0, 10.0, 10.0)
WIDE = (0.0, 0.0, 20.0, 10.0)  # IoU with BOX exactly 0.5


def tube(first, last, box=BOX):
    frames = np.arange(first, last + 1, dtype=np.float32)[:, None]
    return np.concatenate([frames, np.tile(np.array(box, np.float32), (len(frames), 1))], 1)


def make_gt(tubes, nframes=100):
    """One test video "v0" with {label: [tube]}."""
    return {
        "labels": list(LABELS),
        "test_videos": [["v0"]],
        "nframes": {"v0": nframes},
        "resolution": {"v0": (720, 1280)},
        "gttubes": {"v0": tubes},
    }


def dets(*rows):
    """Rows (frame, label, score, box) of video 0 -> [N, 8]."""
    return np.array([(0, f, label, score, *box) for f, label, score, box in rows], dtype=np.float64)


def test_frame_ap_hand_computed():
    gt = make_gt({0: [tube(1, 3)], 1: [tube(1, 2)], 2: [tube(1, 2)]})
    frame_dets = dets(
        (1, 0, 0.9, BOX),  # TP
        (1, 0, 0.8, BOX),  # duplicate: FP
        (2, 0, 0.7, WIDE),  # IoU exactly 0.5: TP
        (9, 0, 0.6, BOX),  # frame without gt of the label: FP
        (1, 2, 0.9, BOX),  # skipped label name
        (1, 3, 0.9, BOX),
    )  # label without gt: left out
    result = multisports.evaluate(gt, frame_dets)
    # label 0: precision 1, 1/2, 2/3, 1/2 at recall 1/3, 1/3, 2/3, 2/3 -> 1/3 + 1/3 * 2/3
    assert result["per_class"]["0"]["frame_ap"] == pytest.approx(5 / 9, abs=1e-12)
    assert result["per_class"]["1"]["frame_ap"] == 0.0  # gt but no detection: 0, in the mean
    assert set(result["per_class"]) == {"0", "1"}
    assert result["frame_mAP"] == pytest.approx(5 / 18, abs=1e-12)
    assert result["per_class"]["0"]["num_gt_boxes"] == 3 and result["per_class"]["0"]["num_det"] == 4


def test_frame_ap_ties_keep_input_order():
    gt = make_gt({0: [tube(1, 1)]})
    fp_first = dets((5, 0, 0.5, BOX), (1, 0, 0.5, BOX))
    assert multisports.evaluate(gt, fp_first)["frame_mAP"] == 0.5
    assert multisports.evaluate(gt, fp_first[::-1])["frame_mAP"] == 1.0


def test_frame_thresholds_and_empty_detections():
    gt = make_gt({0: [tube(1, 1)]})
    shifted = dets((1, 0, 0.9, (3.0, 0.0, 13.0, 10.0)))  # IoU 70/130
    assert multisports.evaluate(gt, shifted, frame_thr=0.5)["frame_mAP"] == 1.0
    assert multisports.evaluate(gt, shifted, frame_thr=0.6)["frame_mAP"] == 0.0
    with pytest.warns(
        InputWarning, match="frame_dets: no detection of an evaluated label; every frame-AP is 0"
    ):
        empty = multisports.evaluate(gt, np.zeros((0, 8)))
    assert empty["frame_mAP"] == 0.0 and empty["video_mAP"]["0.5"] == 0.0
    with pytest.raises(InputError, match="^gt: no gt tube of an evaluated label in the test videos$"):
        multisports.evaluate(make_gt({}), np.zeros((0, 8)))


def test_linking_builds_tubes_and_drops_short_ones():
    gt = prepare_gt(make_gt({}, nframes=60))
    frame_dets = dets(
        *[(f, 0, 0.8, BOX) for f in range(1, 21)],  # tube 1..20
        *[(f, 0, 0.6, BOX) for f in range(22, 41)],  # gap at 21: new tube 22..40
        *[(f, 1, 0.9, BOX) for f in range(1, 15)],  # 14 frames: too short
        *[(f, 3, 0.5, BOX if f <= 20 else (50.0, 50.0, 60.0, 60.0)) for f in range(1, 41)],
    )  # jump at 21: 20 + 20
    tubes = link_tubes(gt, frame_dets)
    assert [(t[0], round(t[1], 6), len(t[2]), t[2][0, 0], t[2][-1, 0]) for t in tubes[0]] == [
        ("v0", 0.8, 20, 1, 20),
        ("v0", 0.6, 19, 22, 40),
    ]
    assert tubes[1] == [] and len(tubes[3]) == 2
    assert tubes[0][0][2].dtype == np.float32 and tubes[0][0][2].shape == (20, 6)
    np.testing.assert_array_equal(tubes[0][0][2][:, 1:5], np.tile(BOX, (20, 1)))


def test_compat_score_bug_versus_fixed_linking():
    gt = prepare_gt(make_gt({0: [tube(1, 30)]}, nframes=30))
    frame_dets = dets(*[(f, 0, 0.9, BOX) for f in range(1, 31)], (30, 1, 0.001, BOX))
    fixed = link_tubes(gt, frame_dets)
    assert len(fixed[0]) == 1 and fixed[0][0][1] == pytest.approx(0.9)
    # mmaction2 gives every box the last row's score (0.001 < 0.005): the tube is dropped.
    assert link_tubes(gt, frame_dets, compat="mmaction2")[0] == []
    gt_dict = make_gt({0: [tube(1, 30)]}, nframes=30)
    assert multisports.evaluate(gt_dict, frame_dets)["video_mAP"]["0.5"] == 1.0
    bugged = multisports.evaluate(gt_dict, frame_dets, compat="mmaction2")
    assert bugged["video_mAP"]["0.5"] == 0.0 and bugged["tubes"] == "linked (mmaction2 score bug)"


def test_score_decay_nms_keeps_overlapping_boxes_with_lower_scores():
    gt = prepare_gt(make_gt({}, nframes=20))
    near = (1.0, 0.0, 11.0, 10.0)  # +1-pixel IoU with BOX: 110 / 132 > 0.6
    frame_dets = dets(*[(f, 0, 0.8, BOX) for f in range(1, 21)], *[(f, 0, 0.7, near) for f in range(1, 21)])
    tubes = link_tubes(gt, frame_dets)[0]
    # Both tubes run to the last frame and are listed in score order.
    assert [len(t[2]) for t in tubes] == [20, 20]
    assert tubes[0][1] == pytest.approx(0.8, abs=1e-12)
    assert tubes[1][1] == pytest.approx(0.7 * (1 - 110 / 132), abs=1e-12)
    np.testing.assert_array_equal(tubes[1][2][:, 1:5], np.tile(near, (20, 1)))


def test_tube_iou_conventions():
    assert tube_iou(tube(1, 10), tube(6, 15)) == pytest.approx(4 / 14, rel=1e-6)
    assert tube_iou(tube(1, 5), tube(5, 9)) == 0.0  # one common frame: no +1
    assert tube_iou(tube(1, 5), tube(7, 9)) == 0.0  # disjoint
    with np.errstate(invalid="ignore"):
        assert np.isnan(tube_iou(tube(3, 3), tube(3, 3)))  # 0/0, an FP in video-AP
    assert tube_iou(tube(1, 11), tube(1, 11, WIDE)) == pytest.approx(0.5)
    assert tube_iou(tube(1, 10), tube(1, 10)).dtype == np.float32


def test_video_ap_with_given_tubes_at_several_thresholds():
    gt = make_gt({0: [tube(1, 10), tube(1, 10)], 3: [tube(1, 20)]})
    det_tube = np.concatenate([tube(6, 15), np.full((10, 1), 0.5, np.float32)], 1)
    exact = np.concatenate([tube(1, 10), np.full((10, 1), 0.5, np.float32)], 1)
    video_dets = {0: [("v0", 0.9, det_tube), ("v0", 0.8, exact), ("v0", 0.7, exact)], 3: [("v0", 0.9, exact)]}
    result = multisports.evaluate(gt, dets(), video_dets=video_dets)
    # Every detection's best gt is the first of the two equal gt tubes (no fallback).
    # label 0 at 0.2: TP (IoU 4/14), FP, FP with 2 gt -> 1/2; label 3: IoU 9/19 -> TP -> 1.
    assert result["video_mAP_by_thr"]["0.20"] == pytest.approx((0.5 + 1.0) / 2)
    # at 0.5: FP, TP, FP -> precision 1/2 at recall 1/2; label 3: FP.
    assert result["per_class"]["0"]["video_ap"]["0.5"] == pytest.approx(0.25)
    assert result["per_class"]["3"]["video_ap"] == {"0.2": 1.0, "0.5": 0.0}
    assert result["tubes"] == "given"
    assert result["per_class"]["0"]["num_gt_tubes"] == 2 and result["per_class"]["0"]["num_tubes"] == 3


def test_unknown_labels_warn_once():
    gt = make_gt({0: [tube(1, 3)]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = multisports.evaluate(gt, dets((1, 0, 0.9, BOX), (1, 70, 0.9, BOX), (2, 99, 0.9, BOX)))
    messages = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    assert messages == [
        "frame_dets: ignoring detections with labels outside 0..3: 2 (first: row 1, label 70)"
    ]
    assert result["per_class"]["0"]["num_det"] == 1
    assert result["ignored"] == {
        "detections_label_not_in_gt": {
            "count": 2,
            "what": "detections with labels outside 0..3",
            "first": "row 1, label 70",
        }
    }


@pytest.mark.parametrize(
    "frame_dets, message",
    [
        (np.zeros((3, 7)), "expected an [N, 8] numeric array"),
        (dets((1, 0, np.nan, BOX)), "row 0: non-finite value"),
        (dets((1, 0, 0.5, BOX), (1.5, 0, 0.5, BOX)), "row 1: video index, frame and label must be integers"),
        (dets((0, 0, 0.5, BOX)), "row 0: frame outside 1..nframes"),
        (dets((101, 0, 0.5, BOX)), "row 0: frame outside 1..nframes"),
        (dets((1, 0, 0.5, (5.0, 0.0, 1.0, 1.0))), "row 0: inverted box"),
        (np.array([[3, 1, 0, 0.5, *BOX]]), "row 0: unknown video index"),
    ],
)
def test_bad_frame_detections(frame_dets, message):
    with pytest.raises(InputError, match=re_escape(message)):
        multisports.evaluate(make_gt({0: [tube(1, 3)]}), frame_dets)


def re_escape(text):
    import re

    return re.escape(text)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda g: g.pop("gttubes"), "missing key 'gttubes'"),
        (lambda g: g.update(test_videos=["v0"]), "key 'test_videos'"),
        (lambda g: g["nframes"].update(v0=0), "key 'nframes'['v0']"),
        (lambda g: g["nframes"].update(v0=10**20), "key 'nframes'['v0']"),  # found by fuzzing
        (lambda g: g["nframes"].update(v0=True), "key 'nframes'['v0']"),
        (lambda g: g["gttubes"]["v0"].update({9: [tube(1, 2)]}), "label is not an index"),
        (lambda g: g["gttubes"]["v0"][0].append(tube(1, 2)[:, :4]), "expected a non-empty [T, 5] array"),
        (lambda g: g["gttubes"]["v0"][0].append(tube(1, 3)[[0, 2]]), "contiguous increasing"),
        (lambda g: g["gttubes"]["v0"][0].append(tube(99, 102)), "outside 1..100"),
        (lambda g: g["gttubes"]["v0"][0].append(tube(1, 2).astype(str)), "expected an array of numbers"),
    ],
)
def test_bad_ground_truth(mutate, message):
    gt = make_gt({0: [tube(1, 3)]})
    mutate(gt)
    with pytest.raises(InputError, match=re_escape(message)):
        multisports.evaluate(gt, dets((1, 0, 0.5, BOX)))


def test_bad_video_dets_and_options():
    gt = make_gt({0: [tube(1, 3)]})
    good = np.concatenate([tube(1, 3), np.ones((3, 1), np.float32)], 1)
    with pytest.raises(InputError, match="unknown video 'v9'"):
        multisports.evaluate(gt, dets(), video_dets={0: [("v9", 0.5, good)]})
    for score in (float("nan"), 10**400, "0.5"):
        with pytest.raises(InputError, match="score must be a finite number"):
            multisports.evaluate(gt, dets(), video_dets={0: [("v0", score, good)]})
    with pytest.raises(InputError, match="unknown video"):  # not a name, not hashable
        multisports.evaluate(gt, dets(), video_dets={0: [(["v0"], 0.5, good)]})
    with pytest.raises(InputError, match="expected an array of numbers"):
        multisports.evaluate(gt, dets(), video_dets={0: [("v0", 0.5, good.astype(object))]})
    with pytest.raises(InputError, match="compat"):
        multisports.evaluate(gt, dets(), compat="mmaction3")
    with pytest.raises(InputError, match="frame_thr"):
        multisports.evaluate(gt, dets(), frame_thr=1.5)


@pytest.fixture(scope="module")
def random_case():
    gt, frame_dets = multisports_case(seed=7, videos=3, min_frames=600, max_frames=700, tubes_per_video=4)
    frame_dets[:, 3] += np.random.default_rng(1).uniform(0, 1e-6, len(frame_dets))  # tie-free
    return gt, frame_dets


def test_frame_ap_matches_per_detection_loop(random_case):
    gt, frame_dets = random_case
    for thr in (0.3, 0.5, 0.75):
        got = multisports.evaluate(gt, frame_dets, frame_thr=thr)
        expected = naive_frame_ap(gt, frame_dets, thr, SKIPPED_LABEL_NAMES)
        assert {int(k): e["frame_ap"] for k, e in got["per_class"].items()} == pytest.approx(
            expected, abs=1e-12
        )


@pytest.mark.parametrize("bug", [False, True])
def test_linking_matches_frame_by_frame_loop(random_case, bug):
    gt, frame_dets = random_case
    ours = link_tubes(prepare_gt(gt), frame_dets, compat="mmaction2" if bug else None)
    expected = naive_link_tubes(gt, frame_dets, bug=bug)
    assert sum(map(len, ours.values())) > 5
    for label in expected:
        assert [(v, s) for v, s, _ in ours[label]] == [
            (v, pytest.approx(s, abs=1e-12)) for v, s, _ in expected[label]
        ]
        for (_, _, a), (_, _, b) in zip(ours[label], expected[label]):
            np.testing.assert_array_equal(a, b)


def _assert_same_tubes(got, expected):
    assert got.keys() == expected.keys()
    for label in expected:
        assert [(v, s) for v, s, _ in got[label]] == [(v, s) for v, s, _ in expected[label]]
        for (_, _, a), (_, _, b) in zip(got[label], expected[label]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("compat", [None, "mmaction2"])
def test_linking_in_several_processes_gives_the_same_tubes(compat):
    # Eight videos of four sports: every label has tubes in videos of different processes.
    gt, frame_dets = multisports_case(seed=5, videos=8, min_frames=600, max_frames=650, tubes_per_video=4)
    gt = prepare_gt(gt)
    # Also with rows of all videos interleaved: each process keeps its rows in file order.
    shuffled = frame_dets[np.random.default_rng(3).permutation(len(frame_dets))]
    for dets in (frame_dets, shuffled):
        one = link_tubes(gt, dets, compat=compat)
        assert sum(map(len, one.values())) > 5
        for workers in (2, 3, 8):
            _assert_same_tubes(link_tubes(gt, dets, compat=compat, workers=workers), one)


def test_gt_dict_is_not_modified(random_case):
    gt, frame_dets = random_case
    before = copy.deepcopy(gt)
    multisports.evaluate(gt, frame_dets[:100])
    assert before.keys() == gt.keys() and before["test_videos"] == gt["test_videos"]
