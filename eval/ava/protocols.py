"""The AVA protocols and class categories: plain constants (no numpy), so the command line can
offer them before the evaluator loads."""

import math

__all__ = ["PROTOCOLS", "FRACTIONAL", "CATEGORIES", "IOU_THRESHOLD"]

PROTOCOLS = ("mmaction2", "activitynet", "activitynet-2020")
FRACTIONAL = "activitynet-2020"  # the protocol whose frames are keyed by fractional seconds
IOU_THRESHOLD = 0.5
# Category -> inclusive id range, as in mmaction2's `ava_eval`.
CATEGORIES = {
    "person_movement": (-math.inf, 14),
    "object_manipulation": (15, 63),
    "person_interaction": (64, math.inf),
}
