"""Device parameters of the op tests: "cpu" always, "cuda" only with a GPU."""

import pytest
import torch

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
# "cpu" always; "cuda" carries the cuda marker and skips cleanly without a GPU.
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, CUDA])]
