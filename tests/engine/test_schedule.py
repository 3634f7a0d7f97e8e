"""LrSchedule against the spec's LR lists and against torch's own chained schedulers."""

import math

import pytest
import torch

from slowbench.engine.schedule import LrSchedule

AVA21 = LrSchedule(
    base_lr=0.2,
    epochs=20,
    warmup_epochs=5,
    warmup_ratio=0.1,
    warmup_by_iter=False,
    decay="step",
    milestones=(10, 15),
)
MULTISPORTS = LrSchedule(
    base_lr=0.2,
    epochs=8,
    warmup_epochs=5,
    warmup_ratio=0.1,
    warmup_by_iter=False,
    decay="step",
    milestones=(6, 7),
)
AVA_KINETICS = LrSchedule(
    base_lr=0.1, epochs=10, warmup_epochs=2, warmup_ratio=0.1, warmup_by_iter=True, decay="cosine"
)


def per_epoch(schedule, iters_per_epoch=3):
    return [
        schedule.lr(e * iters_per_epoch + iters_per_epoch - 1, iters_per_epoch)
        for e in range(schedule.epochs)
    ]


def test_ava21_lr_per_epoch_matches_spec():
    expected = [0.02, 0.065, 0.11, 0.155] + [0.2] * 6 + [0.02] * 5 + [0.002] * 5
    assert per_epoch(AVA21) == pytest.approx(expected, rel=1e-12)


def test_multisports_lr_per_epoch_matches_spec():
    assert per_epoch(MULTISPORTS) == pytest.approx(
        [0.02, 0.065, 0.11, 0.155, 0.2, 0.2, 0.02, 0.002], rel=1e-12
    )


def test_ava_kinetics_iteration_warmup_and_cosine_formula():
    L = 7
    for i in range(2 * L):
        assert AVA_KINETICS.lr(i, L) == pytest.approx(0.1 * (0.1 + 0.9 * i / (2 * L - 1)), rel=1e-12)
    for s in range(8 * L):
        assert AVA_KINETICS.lr(2 * L + s, L) == pytest.approx(
            0.1 * (1 + math.cos(math.pi * s / (8 * L))) / 2, rel=1e-12, abs=1e-15
        )


def torch_reference_lrs(make_schedulers, total_steps, base_lr):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=base_lr)
    sched = make_schedulers(opt)
    lrs = []
    for _ in range(total_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_step_schedule_equals_torch_linear_then_multistep():
    lrs = torch_reference_lrs(
        lambda opt: torch.optim.lr_scheduler.ChainedScheduler(
            [
                torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=4),
                torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[10, 15], gamma=0.1),
            ]
        ),
        20,
        0.2,
    )
    assert per_epoch(AVA21, 1) == pytest.approx(lrs, rel=1e-9)


def test_cosine_schedule_equals_torch_sequential_linear_cosine():
    L = 5
    lrs = torch_reference_lrs(
        lambda opt: torch.optim.lr_scheduler.SequentialLR(
            opt,
            [
                torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=2 * L - 1),
                torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8 * L),
            ],
            milestones=[2 * L],
        ),
        10 * L,
        0.1,
    )
    ours = [AVA_KINETICS.lr(i, L) for i in range(10 * L)]
    assert ours == pytest.approx(lrs, rel=1e-6, abs=1e-9)


def test_rescaled_keeps_shape_proportionally():
    short = AVA21.rescaled(epochs=4, base_lr=0.05)
    assert (short.epochs, short.warmup_epochs, short.milestones, short.base_lr) == (4, 1, (2, 3), 0.05)
    assert AVA_KINETICS.rescaled(epochs=5).warmup_epochs == 1
    assert AVA21.rescaled(epochs=20) == AVA21


@pytest.mark.parametrize(
    "kwargs, match", [(dict(decay="poly"), "decay"), (dict(epochs=3, warmup_epochs=5), "warmup_epochs")]
)
def test_invalid_schedule_is_rejected(kwargs, match):
    base = dict(base_lr=0.1, epochs=8, warmup_epochs=2, warmup_ratio=0.1, warmup_by_iter=True, decay="cosine")
    with pytest.raises(ValueError, match=match):
        LrSchedule(**{**base, **kwargs})


def test_zero_iters_per_epoch_is_rejected():
    with pytest.raises(ValueError, match="iters_per_epoch"):
        AVA21.lr(0, 0)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("ava21-k400-r50-4x16", AVA21),
        ("multisports-k400-r50-4x16", MULTISPORTS),
        ("ava22-k700-16x4", AVA_KINETICS),
    ],
)
def test_schedule_from_zoo_row(name, expected):
    from slowbench.engine.schedule import schedule_from_row
    from slowbench.model_zoo import get_row

    assert schedule_from_row(get_row(name)) == expected
