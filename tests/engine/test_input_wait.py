"""InputWait: the loop's time split into waiting for the loader and working on each clip."""

import itertools

import pytest

from slowbench.engine import input_wait
from slowbench.engine.input_wait import InputWait


@pytest.fixture
def clock(monkeypatch):
    """A fake perf_counter: `clock.advance(s)` moves it on."""

    class Clock:
        now = 100.0

        def advance(self, seconds):
            self.now += seconds

    fake = Clock()
    monkeypatch.setattr(input_wait.time, "perf_counter", lambda: fake.now)
    return fake


def _source(clock, fetch_seconds):
    """Items whose fetching takes `fetch_seconds[i]` of the fake clock."""
    for seconds in fetch_seconds:
        clock.advance(seconds)
        yield seconds


def test_loader_waits_and_work_are_charged_separately(clock):
    meter = InputWait()
    for _ in meter.timed(_source(clock, [5.0, 0.3, 0.3, 0.3])):
        clock.advance(0.1)  # the model's work on each clip, the last one included
    assert meter.clips == 4
    assert meter.first_clip_s == pytest.approx(5.0)
    assert meter.waiting_s == pytest.approx(0.9) and meter.working_s == pytest.approx(0.4)
    figures = meter.summary()
    assert figures["clips_per_s"] == pytest.approx(3 / 1.3, abs=0.01)
    assert figures["waiting_share"] == pytest.approx(0.9 / 1.3, abs=1e-4)
    assert figures["input_bound"] is True
    assert "input-bound" in meter.describe(workers=2) and "2 loader worker(s)" in meter.describe(workers=2)


def test_a_model_bound_loop_is_not_input_bound(clock):
    meter = InputWait()
    for _ in meter.timed(_source(clock, [1.0, *itertools.repeat(0.001, 9)])):
        clock.advance(0.5)
    assert meter.waiting_share() == pytest.approx(0.009 / 5.009)
    assert meter.summary()["input_bound"] is False and "input-bound" not in meter.describe(workers=8)


def test_nothing_ran():
    figures = InputWait().summary()
    assert figures["clips"] == 0 and figures["clips_per_s"] is None and figures["waiting_share"] == 0
