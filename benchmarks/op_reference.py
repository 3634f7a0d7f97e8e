"""Independent pure-PyTorch references of slowbench's ops (no code shared with the C++/CUDA kernels).

``roi_align_3d_ref`` follows the RoIAlign definition literally, per RoI: build the sampling
points of every bin, gather the 4 bilinear neighbours of each, weight them, zero the samples
that fall more than one pixel outside the map (without reading them), and average over the
sampling grid. It is vectorised over channels, time and samples (so it is usable at
benchmark sizes), differentiable through autograd, and dtype-agnostic (tests run it in
float64). ``roi_align_3d_naive`` is a scalar transcription of the same rules for tiny inputs,
used to cross-check the vectorised reference.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _pair(output_size):
    return (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)


def _roi_geometry(roi, spatial_scale, output_size, sampling_ratio, aligned):
    """Box start, bin sizes and grid (Python floats, i.e. float64) of one RoI row."""
    oh, ow = output_size
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (float(v) * spatial_scale - offset for v in roi[1:])
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:
        roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    bin_h, bin_w = roi_h / oh, roi_w / ow
    grid_h = sampling_ratio if sampling_ratio > 0 else max(math.ceil(roi_h / oh), 0)
    grid_w = sampling_ratio if sampling_ratio > 0 else max(math.ceil(roi_w / ow), 0)
    return y1, x1, bin_h, bin_w, grid_h, grid_w


def _axis(start, bin_size, grid, pooled, size, dtype, device):
    """Sample positions along one axis -> (lo, hi, w_lo, w_hi, valid), each [pooled, grid]."""
    p = torch.arange(pooled, dtype=torch.float64, device=device)[:, None]
    i = torch.arange(grid, dtype=torch.float64, device=device)[None, :]
    pos = start + p * bin_size + (i + 0.5) * bin_size / grid
    pos = pos.to(dtype)
    valid = (pos >= -1) & (pos <= size)
    pos = torch.where(valid, pos.clamp(min=0), torch.zeros_like(pos))
    lo = pos.floor().long()
    at_edge = lo >= size - 1
    lo = torch.where(at_edge, torch.full_like(lo, size - 1), lo)
    hi = torch.where(at_edge, lo, lo + 1)
    pos = torch.where(at_edge, lo.to(dtype), pos)
    frac = pos - lo.to(dtype)
    return lo, hi, 1 - frac, frac, valid


def roi_align_3d_ref(
    input: Tensor, rois: Tensor, output_size, spatial_scale=1.0, sampling_ratio=0, aligned=True
) -> Tensor:
    """[N, C, T, H, W], [K, 5] -> [K, C, T, oh, ow]."""
    oh, ow = _pair(output_size)
    N, C, T, H, W = input.shape
    dtype, device = input.dtype, input.device
    outs = []
    for roi in rois.detach().to("cpu", torch.float64).tolist():
        b = int(roi[0])
        y1, x1, bin_h, bin_w, gh, gw = _roi_geometry(roi, spatial_scale, (oh, ow), sampling_ratio, aligned)
        if gh == 0 or gw == 0:
            # No sample at all: zeros, kept in the autograd graph (zero gradient, even for NaN input).
            no = torch.zeros((), dtype=torch.bool, device=device)
            outs.append(torch.where(no, input[b, :, :, :1, :1], 0).expand(C, T, oh, ow))
            continue
        ylo, yhi, wylo, wyhi, vy = _axis(y1, bin_h, gh, oh, H, dtype, device)
        xlo, xhi, wxlo, wxhi, vx = _axis(x1, bin_w, gw, ow, W, dtype, device)
        valid = vy[:, :, None, None] & vx[None, None, :, :]  # [oh, gh, ow, gw]
        feat = input[b]  # [C, T, H, W]
        total = 0
        for yi, wy in ((ylo, wylo), (yhi, wyhi)):
            rows = feat[:, :, yi]  # [C, T, oh, gh, W]
            for xi, wx in ((xlo, wxlo), (xhi, wxhi)):
                v = rows[..., xi]  # [C, T, oh, gh, ow, gw]
                w = wy[:, :, None, None] * wx[None, None, :, :]
                total = total + torch.where(valid, w * v, torch.zeros((), dtype=dtype, device=device))
        outs.append(total.sum(dim=(3, 5)) / max(gh * gw, 1))
    if not outs:
        return input.new_zeros((0, C, T, oh, ow)) + 0 * input.sum()
    return torch.stack(outs)


def temporal_pool_ref(input: Tensor, mode: str = "max") -> Tensor:
    """[N, C, T, H, W] -> [N, C, 1, H, W]; max via torch.max (gradient to the returned index)."""
    if mode == "max":
        return torch.max(input, dim=2, keepdim=True).values
    if mode == "avg":
        return input.mean(dim=2, keepdim=True)
    raise ValueError(mode)


def roi_align_3d_pool_ref(
    input, rois, output_size, spatial_scale=1.0, sampling_ratio=0, aligned=True, temporal_mode="avg"
) -> Tensor:
    """roi_align_3d_ref followed by temporal_pool_ref."""
    return temporal_pool_ref(
        roi_align_3d_ref(input, rois, output_size, spatial_scale, sampling_ratio, aligned), temporal_mode
    )


def roi_align_3d_naive(
    input: Tensor, rois: Tensor, output_size, spatial_scale=1.0, sampling_ratio=0, aligned=True
) -> Tensor:
    """Scalar loops over every output element and sample (tiny inputs only, no autograd)."""
    oh, ow = _pair(output_size)
    N, C, T, H, W = input.shape
    x = input.detach().to("cpu", torch.float64)
    out = torch.zeros((rois.shape[0], C, T, oh, ow), dtype=torch.float64)

    def bilinear(plane, y, xx):
        if y < -1.0 or y > H or xx < -1.0 or xx > W:
            return 0.0
        y, xx = max(y, 0.0), max(xx, 0.0)
        y_lo, x_lo = int(y), int(xx)
        if y_lo >= H - 1:
            y_lo = y_hi = H - 1
            y = float(y_lo)
        else:
            y_hi = y_lo + 1
        if x_lo >= W - 1:
            x_lo = x_hi = W - 1
            xx = float(x_lo)
        else:
            x_hi = x_lo + 1
        ly, lx = y - y_lo, xx - x_lo
        hy, hx = 1 - ly, 1 - lx
        return (
            hy * hx * plane[y_lo][x_lo]
            + hy * lx * plane[y_lo][x_hi]
            + ly * hx * plane[y_hi][x_lo]
            + ly * lx * plane[y_hi][x_hi]
        )

    for k, roi in enumerate(rois.detach().to("cpu", torch.float64).tolist()):
        b = int(roi[0])
        y1, x1, bin_h, bin_w, gh, gw = _roi_geometry(roi, spatial_scale, (oh, ow), sampling_ratio, aligned)
        count = max(gh * gw, 1)
        for c in range(C):
            for t in range(T):
                plane = x[b, c, t].tolist()
                for ph in range(oh):
                    for pw in range(ow):
                        acc = 0.0
                        for iy in range(gh):
                            y = y1 + ph * bin_h + (iy + 0.5) * bin_h / gh
                            for ix in range(gw):
                                xx = x1 + pw * bin_w + (ix + 0.5) * bin_w / gw
                                acc += bilinear(plane, y, xx)
                        out[k, c, t, ph, pw] = acc / count
    return out
