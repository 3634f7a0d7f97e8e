"""Conv3d -> optional BatchNorm3d -> optional ReLU, named like mmcv's ConvModule (`conv`, `bn`)."""

from __future__ import annotations

from torch import Tensor, nn

Triple = tuple[int, int, int]


class ConvNormAct(nn.Module):
    """`[N, C_in, T, H, W] -> [N, C_out, T', H', W']`; holds already-built parts only."""

    def __init__(self, conv: nn.Conv3d, bn: nn.BatchNorm3d | None, relu: bool) -> None:
        super().__init__()
        self.conv = conv
        self.bn = bn
        self.relu = nn.ReLU(inplace=True) if relu else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.relu is not None:
            x = self.relu(x)
        return x


def create_conv_norm_act(
    *,
    in_channels: int,
    out_channels: int,
    kernel: Triple = (1, 1, 1),
    stride: Triple = (1, 1, 1),
    padding: Triple = (0, 0, 0),
    norm: bool = True,
    relu: bool = True,
) -> ConvNormAct:
    """A conv with BatchNorm3d (eps 1e-5, momentum 0.1) when `norm`; the conv has a bias only
    without a norm, as in mmcv, so the state-dict keys match the reference checkpoints."""
    conv = nn.Conv3d(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=not norm)
    bn = nn.BatchNorm3d(out_channels) if norm else None
    return ConvNormAct(conv, bn, relu)
