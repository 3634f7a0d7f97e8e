"""Where an inference loop's time goes: waiting for the data loader or running the model."""

import dataclasses
import time

# Above this share of the loop spent waiting for clips, the run is called input-bound.
INPUT_BOUND_SHARE = 0.1


@dataclasses.dataclass
class InputWait:
    """Seconds of one rank's loop: `first_clip_s` until the first clip (workers starting),
    then `waiting_s` blocked on the loader and `working_s` in forward passes (synchronised by
    the copy of the scores to the host), over `clips` clips."""

    first_clip_s: float = 0.0
    waiting_s: float = 0.0
    working_s: float = 0.0
    clips: int = 0

    def timed(self, batches):
        """Yields the items of `batches`, charging the time to fetch each one and the time the
        caller spends on it before asking for the next."""
        clock = time.perf_counter()
        for batch in batches:
            fetched = time.perf_counter()
            if self.clips == 0:
                self.first_clip_s += fetched - clock
            else:
                self.waiting_s += fetched - clock
            self.clips += 1
            yield batch
            clock = time.perf_counter()
            self.working_s += clock - fetched

    def waiting_share(self) -> float:
        """Share of the loop after the first clip spent waiting for data (0 when nothing ran)."""
        total = self.waiting_s + self.working_s
        return self.waiting_s / total if total > 0 else 0.0

    def summary(self) -> dict:
        """The figures for `--json`: seconds, clips/s after the first clip, waiting share."""
        steady = self.waiting_s + self.working_s
        return {
            "clips": self.clips,
            "first_clip_s": round(self.first_clip_s, 3),
            "waiting_s": round(self.waiting_s, 3),
            "working_s": round(self.working_s, 3),
            "clips_per_s": round((self.clips - 1) / steady, 2) if steady > 0 else None,
            "waiting_share": round(self.waiting_share(), 4),
            "input_bound": self.waiting_share() > INPUT_BOUND_SHARE,
        }

    def describe(self, workers: int) -> str:
        """One line for the console."""
        figures = self.summary()
        line = (
            f"input: {figures['clips']} clips, {figures['clips_per_s']} clips/s after the first; "
            f"{100 * figures['waiting_share']:.1f}% of that time waiting for the {workers} loader worker(s)"
        )
        if figures["input_bound"]:
            line += " - input-bound: more --workers (CPU cores) would make the run faster"
        return line
