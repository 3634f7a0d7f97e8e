"""Random inputs for testing and benchmarking the ops: feature maps and RoIs of every flavour
(used by tests/ops and benchmarks/bench_ops.py)."""

from __future__ import annotations

import torch


def make_rois(
    num: int,
    batch_size: int,
    height: int,
    width: int,
    spatial_scale: float,
    *,
    generator: torch.Generator,
    kinds=("normal", "tiny", "huge", "off_map", "partial", "degenerate"),
    dtype=torch.float64,
) -> torch.Tensor:
    """[num, 5] RoIs in image pixels for a height x width feature map at spatial_scale.

    kinds cycle through: "normal" boxes inside the image, "tiny" (< 1 feature pixel),
    "huge" (larger than the map), "off_map" (wholly outside), "partial" (straddling an edge),
    "degenerate" (zero width/height or inverted corners).
    """
    img_h, img_w = height / spatial_scale, width / spatial_scale
    rows = []
    for i in range(num):
        kind = kinds[i % len(kinds)]
        u = torch.rand(6, generator=generator, dtype=torch.float64).tolist()
        b = float(int(u[0] * batch_size) % max(batch_size, 1))
        if kind == "normal":
            x1, y1 = u[1] * img_w * 0.7, u[2] * img_h * 0.7
            x2, y2 = x1 + (0.1 + u[3] * 0.6) * img_w, y1 + (0.1 + u[4] * 0.6) * img_h
        elif kind == "tiny":
            x1, y1 = u[1] * img_w, u[2] * img_h
            x2, y2 = x1 + u[3] * 0.9 / spatial_scale, y1 + u[4] * 0.9 / spatial_scale
        elif kind == "huge":
            x1, y1 = -u[1] * img_w, -u[2] * img_h
            x2, y2 = img_w * (1.5 + u[3]), img_h * (1.5 + u[4])
        elif kind == "off_map":
            side = int(u[5] * 4)
            x1, y1 = u[1] * img_w, u[2] * img_h
            if side == 0:
                x1 = img_w + 2 / spatial_scale + u[3] * img_w
            elif side == 1:
                x1 = -img_w - 3 / spatial_scale - u[3] * img_w
            elif side == 2:
                y1 = img_h + 2 / spatial_scale + u[4] * img_h
            else:
                y1 = -img_h - 3 / spatial_scale - u[4] * img_h
            x2, y2 = x1 + (0.2 + u[3]) * img_w * 0.5, y1 + (0.2 + u[4]) * img_h * 0.5
        elif kind == "partial":
            x1, y1 = -0.3 * img_w * u[1], img_h * (0.5 + 0.4 * u[2])
            x2, y2 = x1 + img_w * (0.2 + 0.5 * u[3]), y1 + img_h * (0.2 + 0.5 * u[4])
        elif kind == "degenerate":
            x1, y1 = u[1] * img_w, u[2] * img_h
            if u[5] < 0.5:
                x2, y2 = x1, y1 + u[3] * img_h * 0.3  # zero width
            else:
                x2, y2 = x1 - u[3] * img_w * 0.2, y1 - u[4] * img_h * 0.2  # inverted
        else:
            raise ValueError(kind)
        rows.append([b, x1, y1, x2, y2])
    if not rows:
        return torch.zeros((0, 5), dtype=dtype)
    return torch.tensor(rows, dtype=dtype)


def make_features(shape, *, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)


def non_contiguous(x: torch.Tensor) -> torch.Tensor:
    """Same values, permuted memory layout (H and W swapped in memory, T outermost)."""
    y = x.permute(2, 0, 1, 4, 3).contiguous().permute(1, 2, 0, 4, 3)
    assert not y.is_contiguous() and torch.equal(y, x)
    return y
