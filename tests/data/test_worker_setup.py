"""DataLoader workers: their default count, and OpenCV single-threaded in each."""
import cv2
import torch
from torch.utils.data import DataLoader

from slowbench.data.worker_setup import default_workers, init_worker


class _OpenCvThreads(torch.utils.data.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, index):
        return cv2.getNumThreads()


def test_workers_run_opencv_on_one_thread():
    threads = DataLoader(_OpenCvThreads(), num_workers=1, worker_init_fn=init_worker)
    assert [int(t) for t in threads] == [1, 1]


def test_default_workers_share_the_usable_cores(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(32)), raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert default_workers() == 8
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")
    assert default_workers() == 4
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_workers() == 1
