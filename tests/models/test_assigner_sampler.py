"""Assignment (MaxIoUAssignerAVA) and RoI sampling (RandomSampler) on hand-made cases."""

import numpy as np
import pytest
import torch

from slowbench.models.assigner import assign_max_iou, box_iou
from slowbench.models.sampler import sample_rois


def test_box_iou_known_values_without_plus_one():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    b = torch.tensor(
        [
            [0.0, 0.0, 10.0, 10.0],
            [5.0, 0.0, 15.0, 10.0],
            [20.0, 20.0, 30.0, 30.0],
            [0.0, 0.0, 10.0, 9.0],
            [3.0, 3.0, 3.0, 3.0],
        ]
    )
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1.0, 50 / 150, 0.0, 0.9, 0.0]]))


def test_assignment_thresholds_and_labels():
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]])
    labels = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]])
    proposals = torch.tensor(
        [
            [0.0, 0.0, 10.0, 9.0],  # IoU 0.9 with gt 0: positive
            [0.0, 0.0, 10.0, 8.0],  # IoU 0.8: negative
            [20.0, 0.0, 30.0, 10.0],  # exact gt 1
            [50.0, 50.0, 60.0, 60.0],
        ]
    )  # no overlap
    result = assign_max_iou(proposals, gt, labels)
    assert result.gt_inds.tolist() == [1, 0, 2, 0]
    torch.testing.assert_close(result.max_overlaps, torch.tensor([0.9, 0.8, 1.0, 0.0]))
    torch.testing.assert_close(
        result.labels, torch.stack([labels[0], torch.zeros(4), labels[1], torch.zeros(4)])
    )


def test_low_quality_matching_claims_all_ties_and_later_gt_wins():
    # Two identical gts: each proposal's argmax is gt 0, but gt 1 (processed last) re-claims
    # every proposal tied at its best IoU.
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
    proposals = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 9.5]])
    result = assign_max_iou(proposals, gt, torch.eye(2))
    assert result.gt_inds.tolist() == [2, 2, 1]


def test_assignment_without_gt_or_proposals():
    proposals = torch.tensor([[0.0, 0.0, 5.0, 5.0]])
    none = assign_max_iou(proposals, torch.zeros(0, 4), torch.zeros(0, 3))
    assert none.gt_inds.tolist() == [0] and none.labels.shape == (1, 3)
    empty = assign_max_iou(torch.zeros(0, 4), proposals, torch.ones(1, 3))
    assert empty.gt_inds.shape == (0,) and empty.labels.shape == (0, 3)


@pytest.mark.shared_data
def test_reference_assigner_case_on_eval_detection_fixture(shared_file):
    from eval.safe_pickle import load

    proposals = load(shared_file("fixtures/mmaction2_tests/eval_detection/proposal.pkl"))
    boxes = torch.tensor(np.asarray(proposals["3reY9zJKhqN,1774"])[:, :4], dtype=torch.float64)
    rows = [
        line.split(",")
        for line in shared_file("fixtures/mmaction2_tests/eval_detection/gt.csv").read_text().splitlines()
    ]
    gt = torch.tensor(
        [[float(v) for v in r[2:6]] for r in rows if r[0] == "3reY9zJKhqN"], dtype=torch.float64
    )
    result = assign_max_iou(
        boxes, gt, torch.eye(len(gt), dtype=torch.float64), pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5
    )
    assert result.gt_inds.tolist() == [0, 0, 3, 3, 0, 0, 0, 1, 0, 0]
    np.testing.assert_allclose(
        result.max_overlaps.numpy(),
        [
            0.40386841,
            0.47127257,
            0.53544776,
            0.58797631,
            0.29281288,
            0.40979504,
            0.45902917,
            0.50093938,
            0.21560125,
            0.32948171,
        ],
        rtol=1e-7,
    )


def _case(num_pos_proposals, num_neg_proposals):
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    proposals = torch.cat(
        [
            gt.repeat(num_pos_proposals, 1),
            torch.tensor([[50.0, 50.0, 60.0, 60.0]]).repeat(num_neg_proposals, 1),
        ]
    )
    proposals[:, 2] += torch.arange(len(proposals)) * 1e-4  # distinct boxes
    labels = torch.tensor([[0.0, 1.0, 1.0]])
    return proposals, gt, labels, assign_max_iou(proposals, gt, labels)


def test_sampler_prepends_gt_and_fills_with_negatives():
    proposals, gt, labels, assignment = _case(2, 5)
    sample = sample_rois(proposals, gt, labels, assignment, num=32)
    assert sample.num_pos == 3  # the gt itself plus two matching proposals
    torch.testing.assert_close(sample.boxes, torch.cat([gt, proposals]))
    torch.testing.assert_close(sample.labels, torch.cat([labels.repeat(3, 1), torch.zeros(5, 3)]))


def test_sampler_caps_positives_with_random_sorted_choice():
    proposals, gt, labels, assignment = _case(40, 3)
    generator = torch.Generator().manual_seed(7)
    sample = sample_rois(proposals, gt, labels, assignment, num=32, generator=generator)
    assert sample.num_pos == 32 and sample.boxes.shape == (32, 4)  # no room for negatives
    # Same draw by hand: randperm over the 41 positives (gt + 40), first 32, sorted.
    expected = torch.randperm(41, generator=torch.Generator().manual_seed(7))[:32].sort().values
    torch.testing.assert_close(sample.boxes, torch.cat([gt, proposals])[expected])


def test_sampler_caps_negatives_to_remaining_slots():
    proposals, gt, labels, assignment = _case(1, 50)
    sample = sample_rois(proposals, gt, labels, assignment, num=8, generator=torch.Generator().manual_seed(0))
    assert sample.num_pos == 2 and sample.boxes.shape == (8, 4)
    assert (sample.labels[2:] == 0).all() and (sample.boxes[2:, 0] == 50).all()
