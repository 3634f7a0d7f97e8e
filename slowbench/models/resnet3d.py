"""SlowOnly ResNet3D backbone (mmaction2 `ResNet3dSlowOnly` as configured for detection).

Stem 1x7x7 conv (stride 1,2,2) + 1x3x3 max pool (stride 1,2,2); four stages with spatial
strides (1, 2, 2, 1) and no temporal stride, so the output is `[N, 8 * 64 * e, T, H/16, W/16]`
(2048 channels for R50/R101, e = 4; 512 for R18/R34, e = 1). Stages 3 and 4 are "inflated":
their first conv has a 3x1x1 (bottleneck) or 3x3x3 (basic block) temporal kernel.
"""

from __future__ import annotations

from torch import Tensor, nn

from slowbench.models.conv_norm import ConvNormAct, create_conv_norm_act
from slowbench.models.non_local import NonLocal3d, create_non_local

# depth -> (block kind, blocks per stage); one row per supported mmaction2 ResNet3d depth.
STAGE_BLOCKS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
}
EXPANSION = {"basic": 1, "bottleneck": 4}
SPATIAL_STRIDES = (1, 2, 2, 1)
INFLATE = (False, False, True, True)

NonLocalPattern = tuple[tuple[int, ...], ...]


def reference_non_local_pattern(depth: int) -> NonLocalPattern:
    """mmaction2's R50-NL placement generalised to any depth: a block after every even-indexed
    block of stages 2 and 3 (R50: `((0,0,0), (1,0,1,0), (1,0,1,0,1,0), (0,0,0))`)."""
    blocks = STAGE_BLOCKS[depth][1]
    return tuple(
        tuple(int(stage in (1, 2) and b % 2 == 0) for b in range(n)) for stage, n in enumerate(blocks)
    )


class ResBlock3d(nn.Module):
    """`relu(convs(x) + shortcut(x))`, then the optional non-local block.

    Bottleneck: conv1 (3x1x1 if inflated else 1x1x1) -> conv2 1x3x3 (strided) -> conv3 1x1x1.
    Basic: conv1 (3x3x3 if inflated else 1x3x3, strided) -> conv2 (same kernel).
    """

    def __init__(
        self, convs: list[ConvNormAct], downsample: ConvNormAct | None, non_local: NonLocal3d | None
    ) -> None:
        super().__init__()
        for index, conv in enumerate(convs, start=1):
            self.add_module(f"conv{index}", conv)
        self.num_convs = len(convs)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        if non_local is not None:
            self.non_local_block = non_local
        self.non_local = non_local is not None

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = x
        for index in range(1, self.num_convs + 1):
            out = getattr(self, f"conv{index}")(out)
        out = self.relu(out + identity)
        if self.non_local:
            out = self.non_local_block(out)
        return out


def create_res_block(
    *, kind: str, in_channels: int, planes: int, spatial_stride: int, inflate: bool, non_local: bool
) -> ResBlock3d:
    """One bottleneck or basic block with mmaction2's kernels, paddings and init
    (kaiming convs, BN weight 1, the last BN zero-initialised so the block starts as identity)."""
    out_channels = planes * EXPANSION[kind]
    stride = (1, spatial_stride, spatial_stride)
    if kind == "bottleneck":
        t = 3 if inflate else 1
        convs = [
            create_conv_norm_act(
                in_channels=in_channels, out_channels=planes, kernel=(t, 1, 1), padding=(t // 2, 0, 0)
            ),
            create_conv_norm_act(
                in_channels=planes, out_channels=planes, kernel=(1, 3, 3), stride=stride, padding=(0, 1, 1)
            ),
            create_conv_norm_act(in_channels=planes, out_channels=out_channels, relu=False),
        ]
    else:
        t = 3 if inflate else 1
        convs = [
            create_conv_norm_act(
                in_channels=in_channels,
                out_channels=planes,
                kernel=(t, 3, 3),
                stride=stride,
                padding=(t // 2, 1, 1),
            ),
            create_conv_norm_act(
                in_channels=planes,
                out_channels=out_channels,
                kernel=(t, 3, 3),
                padding=(t // 2, 1, 1),
                relu=False,
            ),
        ]
    for conv in convs:
        nn.init.kaiming_normal_(conv.conv.weight, mode="fan_out", nonlinearity="relu")
    nn.init.zeros_(convs[-1].bn.weight)
    downsample = None
    if spatial_stride != 1 or in_channels != out_channels:
        downsample = create_conv_norm_act(
            in_channels=in_channels, out_channels=out_channels, stride=stride, relu=False
        )
        nn.init.kaiming_normal_(downsample.conv.weight, mode="fan_out", nonlinearity="relu")
    block_non_local = create_non_local(in_channels=out_channels) if non_local else None
    return ResBlock3d(convs, downsample, block_non_local)


class ResNet3dSlowOnly(nn.Module):
    """`clip [N, 3, T, H, W]` (normalised) -> features `[N, out_channels, T, H/16, W/16]`."""

    def __init__(self, conv1: ConvNormAct, layers: list[nn.Sequential], out_channels: int) -> None:
        super().__init__()
        self.conv1 = conv1
        self.maxpool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
        for index, layer in enumerate(layers, start=1):
            self.add_module(f"layer{index}", layer)
        self.num_stages = len(layers)
        self.out_channels = out_channels

    def forward(self, clip: Tensor) -> Tensor:
        x = self.maxpool(self.conv1(clip))
        for index in range(1, self.num_stages + 1):
            x = getattr(self, f"layer{index}")(x)
        return x


def create_slowonly_backbone(
    *, depth: int = 50, base_channels: int = 64, non_local_pattern: NonLocalPattern | None = None
) -> ResNet3dSlowOnly:
    """SlowOnly ResNet3D of depth 18, 34, 50 or 101 with mmaction2's detection settings.

    `non_local_pattern` has one 0/1 tuple per stage with one entry per block, as mmaction2's
    `non_local` argument (see `reference_non_local_pattern`); None means no non-local blocks.
    """
    if depth not in STAGE_BLOCKS:
        raise ValueError(f"depth={depth} is not supported; choose one of {sorted(STAGE_BLOCKS)}")
    kind, blocks = STAGE_BLOCKS[depth]
    if non_local_pattern is None:
        non_local_pattern = tuple((0,) * n for n in blocks)
    if tuple(len(stage) for stage in non_local_pattern) != blocks:
        raise ValueError(
            f"non_local_pattern={non_local_pattern} must have one entry per block "
            f"of stages with {blocks} blocks"
        )
    conv1 = create_conv_norm_act(
        in_channels=3, out_channels=base_channels, kernel=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3)
    )
    nn.init.kaiming_normal_(conv1.conv.weight, mode="fan_out", nonlinearity="relu")
    layers = []
    in_channels = base_channels
    for stage, n in enumerate(blocks):
        planes = base_channels * 2**stage
        layer = [
            create_res_block(
                kind=kind,
                in_channels=in_channels if b == 0 else planes * EXPANSION[kind],
                planes=planes,
                spatial_stride=SPATIAL_STRIDES[stage] if b == 0 else 1,
                inflate=INFLATE[stage],
                non_local=bool(non_local_pattern[stage][b]),
            )
            for b in range(n)
        ]
        layers.append(nn.Sequential(*layer))
        in_channels = planes * EXPANSION[kind]
    return ResNet3dSlowOnly(conv1, layers, out_channels=in_channels)
