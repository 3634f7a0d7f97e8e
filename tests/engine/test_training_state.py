"""Checkpoint state: atomic writes, weights-only reads, exact RNG/optimizer/scheduler/scaler round trip."""

import argparse
import random

import numpy as np
import pytest
import torch

from slowbench.checkpoint import read_checkpoint
from slowbench.engine import state
from slowbench.errors import CheckpointError


def small_training_objects(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1.0 / (1 + i))
    scaler = torch.amp.GradScaler("cpu", enabled=False)  # a float32 / bf16 run's: state_dict() is {}
    return model, opt, sched, scaler


def train_steps(model, opt, sched, n):
    for _ in range(n):
        x = torch.randn(8, 4) + np.random.rand() + random.random()
        loss = model(x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


def scaled_steps(model, opt, scaler, n):
    for _ in range(n):
        loss = model(torch.randn(8, 4)).square().mean()
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()


def test_resume_from_saved_state_is_bit_exact(tmp_path):
    model, opt, sched, scaler = small_training_objects()
    train_steps(model, opt, sched, 3)
    state.save_training_state(
        tmp_path / "c.pth",
        model=model,
        optimizer=opt,
        scheduler=sched,
        scaler=scaler,
        epoch=1,
        iteration=3,
        meta={"row": "x"},
    )
    train_steps(model, opt, sched, 4)
    expected = [p.clone() for p in model.state_dict().values()]

    model2, opt2, sched2, scaler2 = small_training_objects(seed=123)
    torch.manual_seed(999), np.random.seed(5), random.seed(7)  # scramble: the checkpoint must restore them
    ckpt = read_checkpoint(tmp_path / "c.pth")
    restored = state.restore_training_state(
        ckpt, model=model2, optimizer=opt2, scheduler=sched2, scaler=scaler2
    )
    assert restored == (1, 3)
    assert ckpt["meta"] == {"row": "x"}
    train_steps(model2, opt2, sched2, 4)
    for a, b in zip(expected, model2.state_dict().values()):
        assert torch.equal(a, b)


def test_loss_scaler_state_round_trips_through_the_checkpoint_file(tmp_path):
    # CPU GradScalers can be enabled: their state is non-empty, as an fp16 run's on CUDA.
    model, opt, sched, _ = small_training_objects()
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
    scaled_steps(model, opt, scaler, 3)  # grows once to 2048, one step towards the next growth
    saved = scaler.state_dict()
    assert (saved["scale"], saved["_growth_tracker"]) == (2048.0, 1)
    state.save_training_state(
        tmp_path / "c.pth",
        model=model,
        optimizer=opt,
        scheduler=sched,
        scaler=scaler,
        epoch=0,
        iteration=3,
        meta={},
    )

    resumed = torch.amp.GradScaler("cpu")  # a fresh run's: scale 65536, growth tracker 0
    ckpt = read_checkpoint(tmp_path / "c.pth")  # torch.load(weights_only=True)
    state.restore_training_state(ckpt, model=model, optimizer=opt, scheduler=sched, scaler=resumed)
    assert resumed.state_dict() == saved
    scaled_steps(model, opt, resumed, 1)  # the restored tracker makes this step grow the scale
    assert resumed.get_scale() == 4096.0


@pytest.mark.parametrize("written", ["before scaler state", "without a scaler"])
def test_checkpoint_without_scaler_state_resumes_with_the_scaler_as_it_is(tmp_path, written):
    model, opt, sched, scaler_off = small_training_objects()
    state.save_training_state(
        tmp_path / "c.pth",
        model=model,
        optimizer=opt,
        scheduler=sched,
        scaler=scaler_off,
        epoch=2,
        iteration=5,
        meta={},
    )
    ckpt = read_checkpoint(tmp_path / "c.pth")
    assert ckpt["scaler"] == {}
    if written == "before scaler state":  # the layout of files from before the scaler was saved
        del ckpt["scaler"]
        torch.save(ckpt, tmp_path / "c.pth")
        ckpt = read_checkpoint(tmp_path / "c.pth")
    scaler = torch.amp.GradScaler("cpu")
    fresh = scaler.state_dict()
    restored = state.restore_training_state(ckpt, model=model, optimizer=opt, scheduler=sched, scaler=scaler)
    assert restored == (2, 5)
    assert scaler.state_dict() == fresh


def test_rng_state_round_trip_through_weights_only_load(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    torch.save(state.rng_state(), tmp_path / "rng.pth")
    draws = (random.random(), np.random.rand(), torch.rand(1).item())
    state.set_rng_state(torch.load(tmp_path / "rng.pth", weights_only=True))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == draws


def test_training_state_file_is_an_mmaction2_style_dict(tmp_path):
    model, opt, sched, scaler = small_training_objects()
    state.save_training_state(
        tmp_path / "sub" / "c.pth",
        model=model,
        optimizer=opt,
        scheduler=sched,
        scaler=scaler,
        epoch=0,
        iteration=0,
        meta={},
    )
    ckpt = torch.load(tmp_path / "sub" / "c.pth", weights_only=True)
    keys = {"state_dict", "meta", "optimizer", "scheduler", "scaler", "rng", "epoch", "iteration"}
    assert set(ckpt) == keys
    assert set(ckpt["state_dict"]) == set(model.state_dict())


def test_read_checkpoint_errors_are_one_line(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match="not a readable torch checkpoint") as info:
        read_checkpoint(tmp_path / "junk.pth")
    assert "\n" not in str(info.value)
    torch.save({"weights": {}}, tmp_path / "nodict.pth")
    with pytest.raises(CheckpointError, match="no state dict of tensors"):
        read_checkpoint(tmp_path / "nodict.pth")


def test_read_checkpoint_refuses_arbitrary_pickled_objects(tmp_path):
    torch.save({"state_dict": {}, "evil": argparse.Namespace(a=1)}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match="not a readable torch checkpoint"):
        read_checkpoint(tmp_path / "evil.pth")


def test_weights_only_checkpoint_cannot_resume(tmp_path):
    model, opt, sched, scaler = small_training_objects()
    with pytest.raises(CheckpointError, match="cannot resume.*--pretrained"):
        state.restore_training_state(
            {"state_dict": model.state_dict()}, model=model, optimizer=opt, scheduler=sched, scaler=scaler
        )


def test_a_trained_checkpoint_is_read_once_for_its_meta_and_weights(tmp_path, monkeypatch):
    from slowbench.checkpoint import save_checkpoint
    from slowbench.engine.trained_detector import load_trained_detector
    from slowbench.model_zoo import get_row
    from slowbench.models import build_detector

    row, overrides = get_row("ava21-k400-r50-4x16"), {"depth": 18, "base_channels": 4}
    trained = build_detector(row, **overrides)
    save_checkpoint(tmp_path / "c.pth", trained, meta={"row": row.name, "model_overrides": overrides})
    reads, load = [], torch.load
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: reads.append(args) or load(*args, **kwargs))
    detector, meta = load_trained_detector(row, tmp_path / "c.pth")
    assert len(reads) == 1 and meta["model_overrides"] == overrides
    torch.testing.assert_close(detector.state_dict(), trained.state_dict())


@pytest.mark.parametrize(
    "meta, message",
    [
        ([1, 2], "meta is list, expected a dict"),
        ({"row": 5}, "meta['row'] is int, expected text"),
        ({"data_root": 3}, "meta['data_root'] is int, expected text"),
        ({"model_overrides": [1]}, "meta['model_overrides'] is list, expected a dict"),
        ({"model_overrides": {1: 2}}, "meta['model_overrides'] has a key that is not a name"),
        ({"model_overrides": {"depth": 18, "base_channels": 0}}, "do not build a detector (base_channels=0"),
    ],
)
def test_a_checkpoint_meta_of_the_wrong_kind_is_one_line(tmp_path, meta, message):
    """torch.load(weights_only=True) accepts any plain meta; it used to fail as AttributeError,
    TypeError or ValueError deep in the loaders."""
    from slowbench.engine.trained_detector import load_trained_detector
    from slowbench.model_zoo import get_row
    from slowbench.models import build_detector

    row = get_row("ava21-k400-r50-4x16")
    torch.save(
        {"state_dict": build_detector(row, depth=18, base_channels=4).state_dict(), "meta": meta},
        tmp_path / "c.pth",
    )
    with pytest.raises(CheckpointError) as info:
        load_trained_detector(row, tmp_path / "c.pth")
    assert str(info.value).startswith(f"{tmp_path / 'c.pth'}: ") and message in str(info.value)
