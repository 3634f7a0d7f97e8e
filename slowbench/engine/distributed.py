"""Process-group setup for ``torchrun`` (DDP): gloo on CPU, nccl on CUDA; a single process needs none."""

import dataclasses
import datetime
import os

import torch
import torch.distributed as dist

from slowbench.errors import InputError


@dataclasses.dataclass(frozen=True)
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size`` and the device it computes on."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(name: str | None) -> torch.device:
    """``None``/"auto" -> cuda when available else cpu; an unusable explicit device is an InputError."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InputError(f"--device: unknown device {name!r} (use cpu, cuda or cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {name}: CUDA is not available on this machine")
    if device.type not in ("cpu", "cuda"):
        raise InputError(f"--device {name}: only cpu and cuda are supported")
    return device


def init_distributed(device_name: str | None = None) -> DistInfo:
    """Joins the ``torchrun`` process group when WORLD_SIZE > 1 (one CUDA device per local rank)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(device_name)
    if world_size == 1:
        return DistInfo(rank=0, world_size=1, device=device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo", timeout=datetime.timedelta(minutes=30)
        )
    return DistInfo(rank=rank, world_size=world_size, device=device)


def barrier(info: DistInfo) -> None:
    if info.world_size > 1:
        dist.barrier()


def gather_to_main(info: DistInfo, obj):
    """List of every rank's ``obj`` on rank 0 (``None`` elsewhere); ``[obj]`` in a single process."""
    if info.world_size == 1:
        return [obj]
    gathered = [None] * info.world_size if info.is_main else None
    dist.gather_object(obj, gathered, dst=0)
    return gathered


def broadcast_from_main(info: DistInfo, obj):
    """Rank 0's ``obj`` on every rank."""
    if info.world_size == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shutdown(info: DistInfo) -> None:
    if info.world_size > 1 and dist.is_initialized():
        dist.destroy_process_group()
