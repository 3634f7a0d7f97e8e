"""Set-up of a DataLoader worker process."""
import cv2


def init_worker(_worker_id: int) -> None:
    """One OpenCV thread per worker, as mmaction2's workers run: each worker is already one of
    several decoding processes, and OpenCV's own thread pool would oversubscribe the cores.
    Pixels do not depend on it (OpenCV splits rows across threads, not sums)."""
    cv2.setNumThreads(1)
