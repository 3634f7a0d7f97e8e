"""The module both exports trace: `Detector.score_rois` as a `forward`."""

from __future__ import annotations

from torch import Tensor, nn


class RoiScorer(nn.Module):
    """`(clip [B, 3, T, H, W] RGB 0..255, rois [K, 5] = (clip index, x1, y1, x2, y2) input
    pixels) -> scores [K, num_classes]`, the numbers `Detector.predict` gives. Puts itself and
    the detector in eval mode (exporters restore the wrapper's mode after tracing, so it must be
    eval too)."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector
        self.eval()

    def forward(self, clip: Tensor, rois: Tensor) -> Tensor:
        return self.detector.score_rois(clip, rois)
