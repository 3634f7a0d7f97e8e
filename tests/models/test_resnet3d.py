"""SlowOnly backbone and non-local block: shapes, parameter counts, float64 functional references."""

import pytest
import torch
from torch.nn import functional as F

from slowbench.models import create_slowonly_backbone, reference_non_local_pattern
from slowbench.models.non_local import create_non_local


def _randomise(module):
    """Non-trivial BN statistics/affine so the references exercise every term."""
    torch.manual_seed(1)
    for name, tensor in module.state_dict().items():
        if name.endswith("running_var"):
            tensor.uniform_(0.5, 1.5)
        elif name.endswith(("running_mean", "bn.bias")):
            tensor.normal_(0, 0.1)
        elif name.endswith("bn.weight"):
            tensor.uniform_(0.5, 1.5)
    return module


def _conv_bn(state, prefix, x, stride, padding, relu=True):
    y = F.conv3d(x, state[f"{prefix}.conv.weight"], stride=stride, padding=padding)
    if f"{prefix}.bn.weight" in state:
        y = F.batch_norm(
            y,
            state[f"{prefix}.bn.running_mean"],
            state[f"{prefix}.bn.running_var"],
            state[f"{prefix}.bn.weight"],
            state[f"{prefix}.bn.bias"],
            eps=1e-5,
        )
    return F.relu(y) if relu else y


def _reference_backbone(state, x, blocks, bottleneck):
    """The SlowOnly forward written from the spec text: stem, then blocks whose first conv has a
    temporal kernel 3 in stages 3-4, spatial strides (1, 2, 2, 1) on the first block."""
    x = _conv_bn(state, "conv1", x, (1, 2, 2), (0, 3, 3))
    x = F.max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1))
    for stage, n in enumerate(blocks, start=1):
        t = 3 if stage >= 3 else 1
        for b in range(n):
            p = f"layer{stage}.{b}"
            s = 2 if (b == 0 and stage in (2, 3)) else 1
            if bottleneck:
                out = _conv_bn(state, f"{p}.conv1", x, 1, (t // 2, 0, 0))
                out = _conv_bn(state, f"{p}.conv2", out, (1, s, s), (0, 1, 1))
                out = _conv_bn(state, f"{p}.conv3", out, 1, 0, relu=False)
            else:
                out = _conv_bn(state, f"{p}.conv1", x, (1, s, s), (t // 2, 1, 1))
                out = _conv_bn(state, f"{p}.conv2", out, 1, (t // 2, 1, 1), relu=False)
            shortcut = (
                _conv_bn(state, f"{p}.downsample", x, (1, s, s), 0, relu=False)
                if f"{p}.downsample.conv.weight" in state
                else x
            )
            x = F.relu(out + shortcut)
    return x


@pytest.mark.parametrize("depth,blocks,bottleneck", [(18, (2, 2, 2, 2), False), (50, (3, 4, 6, 3), True)])
def test_backbone_equals_float64_functional_reference(depth, blocks, bottleneck):
    model = _randomise(create_slowonly_backbone(depth=depth, base_channels=4)).double().eval()
    clip = torch.randn(2, 3, 3, 32, 48, dtype=torch.float64)
    expected = _reference_backbone(model.state_dict(), clip, blocks, bottleneck)
    out = model(clip)
    assert out.shape == (2, model.out_channels, 3, 2, 3)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "depth,channels,params,entries",
    [(50, 2048, 31_634_496, 318), (101, 2048, 59_539_520, 624), (18, 512, None, None), (34, 512, None, None)],
)
def test_full_size_shapes_and_parameter_counts(depth, channels, params, entries):
    with torch.device("meta"):
        model = create_slowonly_backbone(depth=depth)
        out = model(torch.empty(1, 3, 4, 256, 320))
    assert out.shape == (1, channels, 4, 16, 20)
    if params is not None:
        assert sum(p.numel() for p in model.parameters()) == params
        assert len(model.state_dict()) == entries


def test_reference_non_local_placement_and_counts():
    assert reference_non_local_pattern(50) == ((0, 0, 0), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 0, 0))
    with torch.device("meta"):
        model = create_slowonly_backbone(depth=50, non_local_pattern=reference_non_local_pattern(50))
    assert sum(p.numel() for p in model.parameters()) == 38_988_864
    assert len(model.state_dict()) == 378


def test_bad_backbone_arguments():
    with pytest.raises(ValueError, match="depth=26"):
        create_slowonly_backbone(depth=26)
    with pytest.raises(ValueError, match="non_local_pattern"):
        create_slowonly_backbone(depth=18, non_local_pattern=((0,), (1,), (0,), (0,)))


def test_non_local_equals_float64_formula():
    torch.manual_seed(0)
    block = _randomise(create_non_local(in_channels=8)).double().eval()
    x = torch.randn(2, 8, 2, 4, 6, dtype=torch.float64)
    s = block.state_dict()

    def project(name):
        return torch.einsum("oc,nclhw->nolhw", s[f"{name}.conv.weight"][..., 0, 0, 0], x) + s[
            f"{name}.conv.bias"
        ].view(1, -1, 1, 1, 1)

    theta = project("theta").flatten(2)  # [N, 4, L]
    phi = F.max_pool3d(project("phi.0"), (1, 2, 2)).flatten(2)  # [N, 4, L/4]
    g = F.max_pool3d(project("g.0"), (1, 2, 2)).flatten(2)
    attention = torch.softmax(torch.einsum("ncl,ncm->nlm", theta, phi) / 2.0, dim=-1)
    y = torch.einsum("nlm,ncm->ncl", attention, g).reshape(2, 4, 2, 4, 6)
    z = _conv_bn(s, "conv_out", y, 1, 0, relu=False)
    torch.testing.assert_close(block(x), x + z, rtol=1e-10, atol=1e-10)


def test_non_local_starts_as_identity():
    block = create_non_local(in_channels=8).eval()
    x = torch.randn(1, 8, 2, 4, 4)
    torch.testing.assert_close(block(x), x)


def test_tiny_backbone_backward_reaches_every_parameter():
    model = create_slowonly_backbone(
        depth=18, base_channels=4, non_local_pattern=reference_non_local_pattern(18)
    )
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            torch.nn.init.ones_(module.weight)
    model(torch.randn(2, 3, 2, 32, 32)).square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
