"""Embedded-Gaussian non-local block (Wang et al. 2018) with mmcv NonLocal3d's layout and keys."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from slowbench.models.conv_norm import ConvNormAct, create_conv_norm_act


class NonLocal3d(nn.Module):
    """`x [N, C, T, H, W] -> x + conv_out(softmax(theta(x) phi(x)^T / sqrt(C')) g(x))`.

    C' = C / reduction. `g` and `phi` are followed by a (1, 2, 2) max pool (sub-sampling), so
    the attention is `[N, THW, T(H/2)(W/2)]`. Submodules are registered in the reference order
    (g, conv_out, theta, phi) so `state_dict()` lists keys like the official checkpoints.
    """

    def __init__(
        self,
        *,
        g: nn.Sequential,
        conv_out: ConvNormAct,
        theta: ConvNormAct,
        phi: nn.Sequential,
        inter_channels: int,
    ) -> None:
        super().__init__()
        self.g = g
        self.conv_out = conv_out
        self.theta = theta
        self.phi = phi
        self.inter_channels = inter_channels

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        g_x = self.g(x).reshape(n, self.inter_channels, -1).transpose(1, 2)  # [N, L/4, C']
        theta_x = self.theta(x).reshape(n, self.inter_channels, -1).transpose(1, 2)  # [N, L, C']
        phi_x = self.phi(x).reshape(n, self.inter_channels, -1)  # [N, C', L/4]
        attention = torch.softmax(theta_x @ phi_x / self.inter_channels**0.5, dim=-1)
        y = (attention @ g_x).transpose(1, 2).reshape(n, self.inter_channels, *x.shape[2:])
        return x + self.conv_out(y)


def create_non_local(*, in_channels: int, reduction: int = 2) -> NonLocal3d:
    """Embedded-Gaussian, scaled, sub-sampled non-local block initialised as mmcv does
    (projections ~ N(0, 0.01), output BN weight 0 so the block starts as the identity)."""
    inter = in_channels // reduction

    def projection() -> ConvNormAct:
        block = create_conv_norm_act(in_channels=in_channels, out_channels=inter, norm=False, relu=False)
        nn.init.normal_(block.conv.weight, std=0.01)
        nn.init.zeros_(block.conv.bias)
        return block

    conv_out = create_conv_norm_act(in_channels=inter, out_channels=in_channels, relu=False)
    nn.init.zeros_(conv_out.bn.weight)
    return NonLocal3d(
        g=nn.Sequential(projection(), nn.MaxPool3d((1, 2, 2))),
        conv_out=conv_out,
        theta=projection(),
        phi=nn.Sequential(projection(), nn.MaxPool3d((1, 2, 2))),
        inter_channels=inter,
    )
