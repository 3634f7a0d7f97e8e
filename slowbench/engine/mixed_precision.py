"""Mixed precision (`--amp`): forward passes under autocast, everything else in float32.

bf16 (the default) needs no loss scaling; fp16 runs on CUDA only, with a GradScaler. The model's
parameters, optimiser state and checkpoints stay float32 (autocast casts per op); slowbench's ops
take the autocast dtype of their input as it comes (they accumulate in float32); the RoI head
casts logits to float32 before the loss and the scores (`BBoxHeadAVA`), so losses, metrics and
evaluation are float32.
"""

from __future__ import annotations

import contextlib

import torch

from slowbench.errors import InputError

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class MixedPrecision:
    """The `--amp` setting of a run on `device`: `autocast()` for forward passes and `scaler`
    (a no-op unless fp16) for the backward pass and the optimiser step."""

    def __init__(self, amp: str | None, device: torch.device) -> None:
        if amp is not None and amp not in DTYPES:
            raise InputError(f"--amp {amp}: expected one of {', '.join(DTYPES)}")
        if amp == "fp16" and device.type != "cuda":
            raise InputError(
                f"--amp fp16: float16 with a GradScaler needs a CUDA device, this run "
                f"is on {device.type}; use --amp bf16"
            )
        self.amp = amp
        self.dtype = DTYPES.get(amp)
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")

    def autocast(self):
        """Autocast to the run's dtype, or nothing when `--amp` is off."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)


def add_amp_argument(parser) -> None:
    """`--amp [bf16|fp16]` of slowbench.train and slowbench.test."""
    parser.add_argument(
        "--amp",
        nargs="?",
        const="bf16",
        choices=list(DTYPES),
        help="mixed precision: forward passes under autocast to bfloat16 (the "
        "default) or float16 (CUDA only, with a GradScaler); weights, "
        "checkpoints, loss and evaluation stay float32",
    )
