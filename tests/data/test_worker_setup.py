"""The default number of DataLoader workers."""
import cv2
import torch
from torch.utils.data import DataLoader

from slowbench.data.worker_setup import default_workers


def test_default_workers_share_the_usable_cores(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(32)), raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert default_workers() == 8
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")
    assert default_workers() == 4
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_workers() == 1
