"""BBox head: forward vs manual computation, losses vs their formulas, metrics, edge cases."""

import math

import pytest
import torch

from slowbench.models.bbox_head import create_bbox_head


def test_forward_is_mean_over_time_max_over_bins_then_linear():
    head = create_bbox_head(in_channels=4, num_classes=3).eval()
    feats = torch.randn(5, 4, 2, 3, 3, dtype=torch.float64)
    head = head.double()
    pooled = torch.stack([torch.stack([feats[k, c].mean(0).max() for c in range(4)]) for k in range(5)])
    expected = pooled @ head.fc_cls.weight.T + head.fc_cls.bias
    torch.testing.assert_close(head(feats), expected)


def test_dropout_acts_before_pooling_in_training_only():
    head = create_bbox_head(in_channels=4, num_classes=3, dropout=0.5)
    feats = torch.ones(2, 4, 1, 8, 8)
    torch.manual_seed(0)
    train_out = head(feats)
    assert not torch.allclose(train_out, head.eval()(feats))
    # Max over 64 bins of 2.0-or-0.0 is 2 with near certainty: dropout is elementwise, pre-pool.
    expected = torch.full((2, 4), 2.0) @ head.fc_cls.weight.T + head.fc_cls.bias
    torch.testing.assert_close(train_out, expected)


def test_mlp_head_layout():
    head = create_bbox_head(in_channels=6, num_classes=3, mlp_head=True)
    assert {k: list(v.shape) for k, v in head.state_dict().items()} == {
        "fc_cls.0.weight": [6, 6],
        "fc_cls.0.bias": [6],
        "fc_cls.2.weight": [3, 6],
        "fc_cls.2.bias": [3],
    }
    x = torch.randn(2, 6, 1, 2, 2)
    pooled = x.amax(dim=(2, 3, 4))
    expected = (
        torch.relu(pooled @ head.fc_cls[0].weight.T + head.fc_cls[0].bias) @ head.fc_cls[2].weight.T
        + head.fc_cls[2].bias
    )
    torch.testing.assert_close(head.eval()(x), expected)


def _bce(logit, target):
    p = 1 / (1 + math.exp(-logit))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


@pytest.mark.parametrize("gamma,alpha", [(0.0, 1.0), (1.0, 1.0), (2.0, 0.25)])
def test_multilabel_loss_drops_background_and_negatives(gamma, alpha):
    head = create_bbox_head(in_channels=2, num_classes=4, focal_gamma=gamma, focal_alpha=alpha)
    logits = torch.tensor(
        [[9.0, 0.5, -1.0, 2.0], [3.0, -0.3, 0.7, 0.1], [5.0, 5.0, 5.0, 5.0]], requires_grad=True
    )
    labels = torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    terms = []
    for row in range(2):  # the all-zero third row (a negative) is excluded
        for col in range(1, 4):  # column 0 (background) is excluded
            bce = _bce(logits[row, col].item(), labels[row, col].item())
            terms.append(alpha * (1 - math.exp(-bce)) ** gamma * bce)
    losses = head.loss(logits, labels)
    assert losses["loss_action_cls"].item() == pytest.approx(sum(terms) / len(terms), rel=1e-6)
    losses["loss_action_cls"].backward()
    assert (logits.grad[:, 0] == 0).all() and (logits.grad[2] == 0).all()


def test_plain_bce_equals_torch_mean_bce():
    head = create_bbox_head(in_channels=2, num_classes=5)
    logits, labels = torch.randn(6, 5), (torch.rand(6, 5) > 0.5).float()
    labels[:, 1] = 1.0
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 1:], labels[:, 1:])
    torch.testing.assert_close(head.loss(logits, labels)["loss_action_cls"], expected)


def test_single_label_loss_is_soft_cross_entropy_without_background():
    head = create_bbox_head(in_channels=2, num_classes=3, background_class=False, multilabel=False)
    logits = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    labels = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    expected = [-(torch.log_softmax(logits[i], 0)[j]).item() for i, j in ((0, 1), (1, 2))]
    assert head.loss(logits, labels)["loss_action_cls"].item() == pytest.approx(sum(expected) / 2, rel=1e-6)
    scores = head.scores(logits)
    torch.testing.assert_close(scores.sum(dim=1), torch.ones(2))


def test_metrics_by_hand():
    head = create_bbox_head(in_channels=2, num_classes=7)
    # After dropping column 0: probs > 0.5 at columns {1, 2}; targets {1, 3}.
    logits = torch.tensor([[0.0, 4.0, 3.0, -1.0, -2.0, -3.0, -4.0]])
    labels = torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]])
    metrics = head.loss(logits, labels)
    assert metrics["recall@thr=0.5"].item() == pytest.approx(0.5)
    assert metrics["prec@thr=0.5"].item() == pytest.approx(0.5, rel=1e-5)
    # top3 = {1, 2, 3}: both targets found, 2 of 3 right; top5 adds 4, 5.
    assert metrics["recall@top3"].item() == pytest.approx(1.0)
    assert metrics["prec@top3"].item() == pytest.approx(2 / 3, rel=1e-5)
    assert metrics["prec@top5"].item() == pytest.approx(2 / 5, rel=1e-5)


def test_no_positive_rows_gives_a_finite_zero_loss():
    head = create_bbox_head(in_channels=2, num_classes=3)
    logits = torch.randn(4, 3, requires_grad=True)
    losses = head.loss(logits, torch.zeros(4, 3))
    assert losses["loss_action_cls"].item() == 0.0
    losses["loss_action_cls"].backward()
    assert torch.isfinite(logits.grad).all()


def test_multilabel_scores_are_sigmoid_of_every_column():
    head = create_bbox_head(in_channels=2, num_classes=4)
    logits = torch.randn(3, 4)
    torch.testing.assert_close(head.scores(logits), torch.sigmoid(logits))
