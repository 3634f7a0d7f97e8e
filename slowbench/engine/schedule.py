"""mmaction2's learning-rate schedules of the model-zoo configs as a pure function of the iteration.

Two shapes occur in the model zoo:
- per-epoch linear warm-up (LinearLR, start factor r, ``end`` epochs) chained with MultiStepLR
  (AVA v2.1 and MultiSports rows): epoch e < end gets factor r + (1 - r) * e / (end - 1);
- per-iteration linear warm-up over ``end`` epochs (factor r + (1 - r) * i / (end * L - 1)) followed by
  cosine annealing to 0 over the remaining epochs (AVA-Kinetics rows), L = iterations per epoch.
After the warm-up the factor is 1.
"""

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class LrSchedule:
    """LR of every training iteration: ``base_lr * warm-up factor * decay factor``."""

    base_lr: float
    epochs: int
    warmup_epochs: int
    warmup_ratio: float
    warmup_by_iter: bool
    decay: str  # "step" or "cosine"
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1

    def __post_init__(self):
        if self.decay not in ("step", "cosine"):
            raise ValueError(f"LrSchedule: decay must be 'step' or 'cosine', got {self.decay!r}")
        if self.epochs < 1 or self.warmup_epochs < 0 or self.warmup_epochs > self.epochs:
            raise ValueError(
                f"LrSchedule: need 0 <= warmup_epochs ({self.warmup_epochs}) "
                f"<= epochs ({self.epochs}) and epochs >= 1"
            )

    def lr(self, iteration: int, iters_per_epoch: int) -> float:
        """LR used by the optimizer step of global ``iteration`` (0-based)."""
        if iters_per_epoch < 1:
            raise ValueError(f"LrSchedule: iters_per_epoch must be >= 1, got {iters_per_epoch}")
        epoch = iteration // iters_per_epoch
        return (
            self.base_lr
            * self._warmup(iteration, epoch, iters_per_epoch)
            * self._decay(iteration, epoch, iters_per_epoch)
        )

    def _warmup(self, iteration, epoch, iters_per_epoch):
        step, steps = (
            (iteration, self.warmup_epochs * iters_per_epoch)
            if self.warmup_by_iter
            else (epoch, self.warmup_epochs)
        )
        if step >= steps:
            return 1.0
        # mmengine's LinearLR reaches the end factor one step before `end` (total_iters = end - begin - 1).
        return self.warmup_ratio + (1.0 - self.warmup_ratio) * step / max(steps - 1, 1)

    def _decay(self, iteration, epoch, iters_per_epoch):
        if self.decay == "step":
            return self.gamma ** sum(epoch >= m for m in self.milestones)
        start = self.warmup_epochs * iters_per_epoch
        if iteration < start:
            return 1.0
        length = (self.epochs - self.warmup_epochs) * iters_per_epoch
        return 0.5 * (1.0 + math.cos(math.pi * (iteration - start) / max(length, 1)))

    def rescaled(self, *, epochs: int, base_lr: float | None = None) -> "LrSchedule":
        """The same shape stretched to ``epochs`` (warm-up and milestones scale proportionally)."""
        scale = epochs / self.epochs
        warmup = min(epochs, max(1 if self.warmup_epochs else 0, round(self.warmup_epochs * scale)))
        milestones = tuple(sorted({max(1, round(m * scale)) for m in self.milestones}))
        return dataclasses.replace(
            self,
            epochs=epochs,
            warmup_epochs=warmup,
            milestones=milestones,
            base_lr=self.base_lr if base_lr is None else base_lr,
        )


def schedule_from_row(row) -> LrSchedule:
    """The reference schedule of a ``slowbench.model_zoo.ZooRow``."""
    return LrSchedule(
        base_lr=row.base_lr,
        epochs=row.epochs,
        warmup_epochs=row.warmup_end_epoch,
        warmup_ratio=row.warmup_start_factor,
        warmup_by_iter=row.warmup_by_iter,
        decay=row.decay,
        milestones=tuple(row.milestones),
        gamma=row.decay_gamma,
    )
