"""DataLoader workers run OpenCV single-threaded."""
import cv2
import torch
from torch.utils.data import DataLoader

from slowbench.data.worker_setup import init_worker


class _OpenCvThreads(torch.utils.data.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, index):
        return cv2.getNumThreads()


def test_workers_run_opencv_on_one_thread():
    threads = DataLoader(_OpenCvThreads(), num_workers=1, worker_init_fn=init_worker)
    assert [int(t) for t in threads] == [1, 1]
