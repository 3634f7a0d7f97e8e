"""Detector: extractor vs a float64 RoIAlign reference, predict vs manual, training step,
builders from zoo rows, BN folding, bad inputs."""

import math

import pytest
import torch

from slowbench.models import build_detector
from slowbench.models.fold_batchnorm import fold_batchnorm
from slowbench.models.roi_extractor import create_roi_extractor


def _bilinear(plane, y, x):
    """torchvision/mmcv bilinear sample of `plane [C, H, W]` at (y, x); 0 outside [-1, size]."""
    height, width = plane.shape[1:]
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return plane.new_zeros(plane.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(math.floor(y)), int(math.floor(x))
    y1, x1 = min(y0 + 1, height - 1), min(x0 + 1, width - 1)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    ly, lx = y - y0, x - x0
    return (
        (1 - ly) * (1 - lx) * plane[:, y0, x0]
        + (1 - ly) * lx * plane[:, y0, x1]
        + ly * (1 - lx) * plane[:, y1, x0]
        + ly * lx * plane[:, y1, x1]
    )


def _roi_align_reference(features, rois, size, scale):
    """Aligned RoIAlign with adaptive sampling on `[N, C, H, W]`, written from its definition."""
    out = features.new_zeros(len(rois), features.shape[1], size, size)
    for k, (index, *box) in enumerate(rois.tolist()):
        x1, y1, x2, y2 = (v * scale - 0.5 for v in box)
        bin_h, bin_w = (y2 - y1) / size, (x2 - x1) / size
        grid_h, grid_w = math.ceil((y2 - y1) / size), math.ceil((x2 - x1) / size)
        count = max(grid_h * grid_w, 1)
        for ph in range(size):
            for pw in range(size):
                total = features.new_zeros(features.shape[1])
                for iy in range(grid_h):
                    for ix in range(grid_w):
                        total += _bilinear(
                            features[int(index)],
                            y1 + ph * bin_h + (iy + 0.5) * bin_h / grid_h,
                            x1 + pw * bin_w + (ix + 0.5) * bin_w / grid_w,
                        )
                out[k, :, ph, pw] = total / count
    return out


ROIS = torch.tensor(
    [
        [0, 3.0, 5.0, 60.0, 47.0],
        [1, -10.0, 0.0, 30.0, 90.0],
        [1, 20.0, 20.0, 20.0, 40.0],
        [0, 0.0, 0.0, 79.0, 63.0],
    ],
    dtype=torch.float64,
)


@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("with_global", [False, True])
def test_extractor_equals_float64_reference(require_ops, mode, with_global):
    torch.manual_seed(0)
    features = torch.randn(2, 3, 4, 4, 5, dtype=torch.float64)
    extractor = create_roi_extractor(temporal_pool_mode=mode, with_global=with_global)
    pooled = features.mean(2) if mode == "avg" else features.amax(2)
    expected = _roi_align_reference(pooled, ROIS, 8, 1 / 16).unsqueeze(2)
    if with_global:
        context = torch.nn.functional.adaptive_avg_pool2d(pooled, 8)[ROIS[:, 0].long()]
        expected = torch.cat([expected, context.unsqueeze(2)], dim=1)
    out = extractor(features, ROIS)
    assert out.shape == (4, 6 if with_global else 3, 1, 8, 8)
    torch.testing.assert_close(out, expected, rtol=1e-9, atol=1e-9)


def test_fused_order_equals_reference_order_for_avg(require_ops):
    features = torch.randn(2, 3, 4, 4, 5, dtype=torch.float64)
    reference = create_roi_extractor(with_global=True)
    fused = create_roi_extractor(with_global=True, roi_order="fused")
    torch.testing.assert_close(fused(features, ROIS), reference(features, ROIS))


def _clips(batch=2, frames=2, size=32):
    torch.manual_seed(3)
    return torch.rand(batch, 3, frames, size, size) * 255


def test_predict_equals_manual_pipeline(require_ops, tiny_detector):
    model = tiny_detector(with_global=True).double().eval()
    clips = _clips().double()
    proposals = [
        torch.tensor([[2.0, 3.0, 20.0, 30.0]]),
        torch.tensor([[0.0, 0.0, 31.0, 31.0], [8.0, 8.0, 16.0, 24.0]]),
    ]
    scores = model.predict(clips, proposals)
    # The statistics are float32 buffers (as the reference), converted by `.double()`.
    mean = torch.tensor([123.675, 116.28, 103.53]).double().view(1, 3, 1, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).double().view(1, 3, 1, 1, 1)
    pooled = model.backbone((clips - mean) / std).mean(2)
    rois = torch.tensor(
        [[0, 2.0, 3.0, 20.0, 30.0], [1, 0.0, 0.0, 31.0, 31.0], [1, 8.0, 8.0, 16.0, 24.0]], dtype=torch.float64
    )
    feats = torch.cat(
        [
            _roi_align_reference(pooled, rois, 8, 1 / 16),
            torch.nn.functional.adaptive_avg_pool2d(pooled, 8)[rois[:, 0].long()],
        ],
        1,
    )
    head = model.roi_head.bbox_head.fc_cls
    expected = torch.sigmoid(feats.amax(dim=(2, 3)) @ head.weight.T + head.bias)
    assert [s.shape for s in scores] == [(1, 6), (2, 6)]
    torch.testing.assert_close(torch.cat(scores), expected, rtol=1e-9, atol=1e-9)


def test_clip_without_proposals_gives_empty_result(require_ops, tiny_detector):
    model = tiny_detector().eval()
    scores = model.predict(_clips(), [torch.zeros(0, 4), torch.tensor([[1.0, 1.0, 9.0, 9.0]])])
    assert scores[0].shape == (0, 6) and scores[1].shape == (1, 6)


def test_all_clips_without_proposals_skip_the_network(tiny_detector):
    scores = tiny_detector().eval().predict(_clips(), [torch.zeros(0, 4), torch.zeros(0, 4)])
    assert [s.shape for s in scores] == [(0, 6), (0, 6)]


@pytest.mark.parametrize(
    "overrides",
    [
        dict(),
        dict(with_global=True, temporal_pool_mode="max", mlp_head=True, focal_gamma=1.0),
        dict(nonlocal_stages="reference", roi_order="fused"),
        dict(num_classes=5, background_class=False, multilabel=False),
    ],
)
def test_training_step_reduces_loss_and_reaches_every_parameter(require_ops, tiny_detector, overrides):
    model = tiny_detector(dropout=0.0, **overrides)
    classes = overrides.get("num_classes", 6)
    clips = _clips()
    gt_boxes = [
        torch.tensor([[4.0, 4.0, 20.0, 28.0]]),
        torch.tensor([[0.0, 2.0, 16.0, 16.0], [10.0, 10.0, 30.0, 30.0]]),
    ]
    gt_labels = [torch.zeros(1, classes), torch.zeros(2, classes)]
    gt_labels[0][0, 2] = gt_labels[1][0, 1] = gt_labels[1][1, 3] = 1.0
    proposals = [
        torch.tensor([[4.0, 4.0, 20.0, 28.5], [0.0, 0.0, 8.0, 8.0]]),
        torch.tensor([[20.0, 0.0, 31.0, 9.0]]),
    ]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for step in range(3):
        out = model.loss(clips, proposals, gt_boxes, gt_labels, generator=torch.Generator().manual_seed(step))
        optimizer.zero_grad()
        out["loss_action_cls"].backward()
        if step == 0:
            assert set(out) >= {"loss_action_cls", "recall@thr=0.5", "prec@top3"}
            assert all(p.grad is not None for p in model.parameters())
        optimizer.step()
        losses.append(out["loss_action_cls"].item())
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]


def test_build_detector_from_rows_with_tiny_overrides():
    model = build_detector("ava22-k700-16x4", depth=18, base_channels=8)
    assert model.roi_head.bbox_roi_extractor.with_global
    assert model.roi_head.bbox_roi_extractor.temporal_pool_mode == "max"
    assert model.roi_head.bbox_head.fc_cls[0].in_features == 128 and model.num_classes == 81
    assert model.roi_head.bbox_head.focal_gamma == 1.0
    nl = build_detector(
        "slowonly_kinetics400-pretrained-r50-nl_8xb16-8x8x1-20e_ava21-rgb", depth=18, base_channels=8
    )
    assert sum(".non_local_block." in k for k in nl.state_dict()) > 0
    sports = build_detector("multisports-k400-r50-4x16", depth=18, base_channels=8)
    assert not sports.roi_head.bbox_head.multilabel and sports.num_classes == 66
    with pytest.raises(KeyError, match="known rows"):
        build_detector("ava21-k400-r18")


def test_fold_batchnorm_keeps_outputs(tiny_detector):
    model = tiny_detector().double()
    for name, tensor in model.state_dict().items():
        if name.endswith(("running_var", "bn.weight")):
            tensor.uniform_(0.5, 1.5)
        elif name.endswith(("running_mean", "bn.bias")):
            tensor.normal_(0, 0.1)
    model.eval()
    clip = torch.randn(2, 3, 2, 32, 32, dtype=torch.float64)
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm3d) for m in folded.modules())
    torch.testing.assert_close(folded.backbone(clip), model.backbone(clip))


def test_pixels_are_normalised_per_channel_with_the_reference_statistics():
    """mmaction2's ActionDataPreprocessor: (x - mean) / std with its RGB mean and std."""
    model = build_detector("ava21-k400-r50-4x16", depth=18, base_channels=4)
    clips = torch.tensor([124.0, 116.0, 104.0]).view(1, 3, 1, 1, 1).expand(2, 3, 2, 2, 2)
    expected = (torch.tensor([124.0, 116.0, 104.0]) - torch.tensor([123.675, 116.28, 103.53])) / torch.tensor(
        [58.395, 57.12, 57.375]
    )
    out = model.normalise(clips)
    assert out.shape == clips.shape and out.dtype == torch.float32
    torch.testing.assert_close(out[1, :, 1, 1, 1], expected)
    with pytest.raises(ValueError, match=r"\[B, 3, T, H, W\]"):
        model.normalise(clips[0])


@pytest.mark.parametrize(
    "clips,message",
    [
        (torch.zeros(3, 2, 32, 32), r"\[B, 3, T, H, W\]"),
        (torch.zeros(1, 4, 2, 32, 32), r"got \[1, 4, 2, 32, 32\]"),
        (torch.zeros(1, 3, 2, 32, 32, dtype=torch.uint8), "floating point"),
    ],
)
def test_bad_clips(tiny_detector, clips, message):
    with pytest.raises(ValueError, match=message):
        tiny_detector().predict(clips, [torch.zeros(0, 4)] * len(clips))


@pytest.mark.parametrize(
    "proposals,message",
    [
        ([torch.zeros(2, 5)], r"proposals\[0\] must be \[n, 4\]"),
        ([torch.tensor([[0.0, 0.0, float("nan"), 1.0]])], r"proposals\[0\] has non-finite"),
        ([torch.zeros(0, 4), torch.zeros(0, 4)], "list of 1 tensors"),
        (torch.zeros(1, 4), "list of 1 tensors"),
    ],
)
def test_bad_proposals(tiny_detector, proposals, message):
    with pytest.raises(ValueError, match=message):
        tiny_detector().predict(torch.zeros(1, 3, 2, 32, 32), proposals)


def test_bad_ground_truth(tiny_detector):
    model, clips = tiny_detector(), torch.zeros(1, 3, 2, 32, 32)
    boxes = [torch.tensor([[0.0, 0.0, 8.0, 8.0]])]
    with pytest.raises(ValueError, match=r"gt_labels\[0\] must be \[1, 6\]"):
        model.loss(clips, boxes, boxes, [torch.zeros(1, 5)])
    with pytest.raises(ValueError, match=r"gt_boxes\[0\] has non-finite"):
        model.loss(clips, boxes, [torch.tensor([[0.0, 0.0, float("inf"), 8.0]])], [torch.zeros(1, 6)])
