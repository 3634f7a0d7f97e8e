"""Parameter and FLOP counts against the published/derived anchors (performance_anchors.md §4)."""

import pytest
import torch

from slowbench.model_zoo import get_row
from slowbench.models import build_detector, complexity, create_slowonly_backbone


def _meta(row):
    with torch.device("meta"):
        return build_detector(row)


def test_r50_params_match_published_recogniser_count():
    with torch.device("meta"):
        backbone = create_slowonly_backbone(depth=50)
    params, _ = complexity(backbone, (3, 4, 256, 256))
    kinetics_fc = 2048 * 400 + 400  # the published 32.45 M includes the recogniser's classifier
    assert round((params + kinetics_fc) / 1e6, 2) == 32.45


@pytest.mark.parametrize(
    "row,hw,gmacs",
    [
        ("ava21-k400-r50-4x16", (256, 256), 41.6),  # detection training crop
        ("ava21-k400-r50-4x16", None, 56.7),  # test 256x340
        ("ava22-k400-r50-8x8", None, 113.4),
        ("ava22-k700-16x4", None, 226.9),
        ("ava21-k400-r101-8x8", None, 191.9),
    ],
)
def test_backbone_macs_match_derived_anchors(row, hw, gmacs):
    zoo_row = get_row(row)
    _, gflops = complexity(_meta(row), (3, zoo_row.clip_len, *(hw or zoo_row.test_hw)))
    assert round(gflops / 2, 1) == gmacs  # FlopCounterMode counts a multiply-add as 2 FLOPs


def test_detector_params_add_the_head():
    params, _ = complexity(_meta("ava21-k400-r50-4x16"), (3, 4, 64, 64))
    assert params == 31_634_496 + 2048 * 81 + 81
    mlp, _ = complexity(_meta("ava22-k700-mlp"), (3, 8, 64, 64))
    assert mlp == 31_634_496 + 4096 * 4096 + 4096 + 4096 * 81 + 81


def test_bad_clip_shape():
    with pytest.raises(ValueError, match="clip_shape"):
        complexity(_meta("ava21-k400-r50-4x16"), (4, 4, 64, 64))
