"""The default number of DataLoader workers."""

from slowbench.data.worker_setup import default_workers


def test_default_workers_share_the_usable_cores(monkeypatch):
    def cores(count):
        monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(count)), raising=False)

    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    cores(16)  # the GPU host of the device tool: one core left for the process running the model
    assert default_workers() == 15
    cores(64)
    assert default_workers() == 16
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")  # torchrun, 8 ranks: each rank its share
    assert default_workers() == 7
    cores(16)
    assert default_workers() == 1
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    cores(2)
    assert default_workers() == 1
    cores(1)
    assert default_workers() == 1
