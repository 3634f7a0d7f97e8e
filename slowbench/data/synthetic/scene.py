"""Seeded synthetic scenes: textured "persons" whose actions are visible only as motion over time.

Every person has the same kind of look (striped body, head, one arm) whatever it does; the
actions differ only in how that look changes from frame to frame: move left/right (translation),
jump (bouncing), crouch (squatting up and down), spin (body texture scrolling as on a turning
cylinder), wave (arm swinging), stand still (none of these). A static arm pose or a single
squashed frame also occurs without the action, so one frame does not tell the label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

FPS = 30
ACTIONS = ("move left", "move right", "jump", "crouch", "spin", "wave", "stand still")
# Periods are not multiples of the 4x16 / 8x8 / 16x4 sampling steps, so sampled frames never
# all land on the same phase.
JUMP_PERIOD_S = 0.8
CROUCH_PERIOD_S = 1.3
WAVE_PERIOD_S = 0.7
SHAKE_PX = 3
NOISE_LEVELS = 8


@dataclass
class Segment:
    """Frames [start, end) during which a person does `actions` (a subset of ACTIONS)."""

    start: int
    end: int
    actions: frozenset


@dataclass
class Person:
    body_w: float
    body_h: float
    ground: float  # y of the feet
    stripe: float  # texture period in pixels (wide enough to survive the stride-16 features)
    colors: np.ndarray  # [3, 3] body colour A, body colour B, head colour
    arm_side: int  # -1 left, +1 right
    arm_rest: float  # arm angle (degrees from pointing down) when not waving
    phases: np.ndarray  # [3] radians for jump, crouch, wave
    speed: float  # px per second when moving
    segments: list = field(default_factory=list)
    x: np.ndarray = None  # [n_frames] body centre x
    fps: int = FPS  # frames per second of the timeline

    def segment_at(self, frame: int) -> Segment:
        for segment in self.segments:
            if segment.start <= frame < segment.end:
                return segment
        return self.segments[-1]


def _segment_bounds(n_frames: int, rng: np.random.Generator, fps: int) -> list[tuple[int, int]]:
    # Changes at whole seconds + 0.5 and segments of 3-5 s: a clip (about -1.1 s .. +0.8 s around
    # its keyframe) mixes two actions only next to a change, i.e. for few keyframes.
    bounds, start, end_s = [], 0, rng.integers(2, 5) + 0.5
    while start < n_frames:
        end = min(int(round(end_s * fps)), n_frames)
        bounds.append((start, end))
        start, end_s = end, end_s + rng.integers(3, 6)
    return bounds


def _choose_actions(rng: np.random.Generator, multilabel: bool, can_move: dict) -> frozenset:
    moves = [name for name in ("move left", "move right") if can_move[name]]
    if not multilabel:
        options = [name for name in ACTIONS if name not in ("move left", "move right")] + moves
        return frozenset([options[rng.integers(len(options))]])
    actions = set()
    if moves and rng.random() < 0.5:
        actions.add(moves[rng.integers(len(moves))])
    vertical = rng.random()
    if vertical < 0.25:
        actions.add("jump")
    elif vertical < 0.5:
        actions.add("crouch")
    if rng.random() < 0.3:
        actions.add("spin")
    if rng.random() < 0.3:
        actions.add("wave")
    return frozenset(actions or {"stand still"})


def make_person(
    rng: np.random.Generator, *, width: int, height: int, n_frames: int, multilabel: bool, fps: int = FPS
) -> Person:
    """A random person with an action timeline that keeps it inside the frame (the same timeline
    in seconds, for the same random draws, at any `fps`)."""
    # Tall enough to span 2-3 feature cells at the detector's stride 16 on 96 px frames.
    body_h = height * rng.uniform(0.45, 0.6)
    body_w = body_h * rng.uniform(0.38, 0.48)
    colors = rng.uniform(30, 230, size=(3, 3))
    while np.abs(colors[0] - colors[1]).max() < 80:  # stripes must show, or spinning is invisible
        colors[1] = rng.uniform(30, 230, size=3)
    person = Person(
        body_w=body_w,
        body_h=body_h,
        ground=height * rng.uniform(0.86, 0.99),
        # One stripe pair per body width: finer stripes blur away before the temporal convolutions
        # (res4, stride 16) and spinning became hard to see (AP 0.43 -> 0.53 when widened).
        stripe=body_w * rng.uniform(0.8, 1.0),
        colors=colors,
        arm_side=int(rng.choice([-1, 1])),
        arm_rest=rng.uniform(40, 160),
        phases=rng.uniform(0, 2 * np.pi, size=3),
        speed=width * rng.uniform(0.11, 0.15),
        fps=fps,
    )
    margin = body_w * 0.6  # the body may leave the frame by a few pixels; the box is clipped
    x = np.empty(n_frames)
    position = rng.uniform(margin, width - margin)
    for start, end in _segment_bounds(n_frames, rng, fps):
        travel = person.speed * (end - start) / fps
        can_move = {
            "move left": position - travel >= margin,
            "move right": position + travel <= width - margin,
        }
        actions = _choose_actions(rng, multilabel, can_move)
        velocity = {"move left": -1, "move right": 1}
        step = sum(velocity.get(a, 0) for a in actions) * person.speed / fps
        x[start:end] = position + step * np.arange(1, end - start + 1)
        position = x[end - 1]
        if person.segments and person.segments[-1].actions == actions:
            person.segments[-1].end = end  # one tube per continued action, as annotators mark it
        else:
            person.segments.append(Segment(start, end, actions))
    person.x = x
    return person


def _pose(person: Person, frame: int):
    """(body box x1, y1, x2, y2), head box, arm segment ((x, y), (x, y)), texture shift, at `frame`."""
    t = frame / person.fps
    actions = person.segment_at(frame).actions
    lift = 0.0
    squash = 1.0
    if "jump" in actions:
        lift = 0.3 * person.body_h * abs(np.sin(np.pi * t / JUMP_PERIOD_S + person.phases[0]))
    if "crouch" in actions:
        squash = 1 - 0.4 * (0.5 - 0.5 * np.cos(2 * np.pi * t / CROUCH_PERIOD_S + person.phases[1]))
    angle = person.arm_rest
    if "wave" in actions:
        angle = 100 + 60 * np.sin(2 * np.pi * t / WAVE_PERIOD_S + person.phases[2])
    shift = 0.9 * person.stripe * t if "spin" in actions else 0.0
    cx, bottom = person.x[frame], person.ground - lift
    top = bottom - person.body_h * squash
    body = (cx - person.body_w / 2, top, cx + person.body_w / 2, bottom)
    side = 0.5 * person.body_w
    head = (cx - side / 2, top - side, cx + side / 2, top)
    shoulder = np.array([cx + person.arm_side * person.body_w / 2, top + 0.15 * person.body_h])
    radians = np.deg2rad(angle)
    hand = shoulder + 0.5 * person.body_h * np.array([person.arm_side * np.sin(radians), np.cos(radians)])
    return body, head, (shoulder, hand), shift


def person_box(person: Person, frame: int, width: int, height: int) -> np.ndarray:
    """The person's box float [4] (x1, y1, x2, y2) in pixels, clipped to the frame."""
    body, head, (shoulder, hand), _ = _pose(person, frame)
    xs = [body[0], body[2], head[0], head[2], shoulder[0], hand[0]]
    ys = [body[1], body[3], head[1], head[3], shoulder[1], hand[1]]
    box = np.array([min(xs), min(ys), max(xs), max(ys)])
    return np.clip(box, 0, [width, height, width, height])


def _fill(canvas: np.ndarray, box, color) -> None:
    height, width = canvas.shape[:2]
    x1, y1 = max(int(round(box[0])), 0), max(int(round(box[1])), 0)
    x2, y2 = min(int(round(box[2])), width), min(int(round(box[3])), height)
    if x2 > x1 and y2 > y1:
        canvas[y1:y2, x1:x2] = color(x1, x2) if callable(color) else color


def _draw_arm(canvas: np.ndarray, start: np.ndarray, end: np.ndarray, color, thickness: float):
    height, width = canvas.shape[:2]
    x1, y1 = np.floor(np.minimum(start, end) - thickness).astype(int)
    x2, y2 = np.ceil(np.maximum(start, end) + thickness).astype(int) + 1
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    if x2 <= x1 or y2 <= y1:
        return
    ys, xs = np.mgrid[y1:y2, x1:x2] + 0.5
    direction = end - start
    along = np.clip(
        ((xs - start[0]) * direction[0] + (ys - start[1]) * direction[1]) / max(direction @ direction, 1e-6),
        0,
        1,
    )
    distance = np.hypot(xs - start[0] - along * direction[0], ys - start[1] - along * direction[1])
    canvas[y1:y2, x1:x2][distance <= thickness] = color


def draw_person(canvas: np.ndarray, person: Person, frame: int) -> None:
    body, head, (shoulder, hand), shift = _pose(person, frame)

    def stripes(x1, x2):
        columns = (np.arange(x1, x2) + 0.5 - body[0] + shift) // (person.stripe / 2) % 2
        return np.where(columns[:, None] == 0, person.colors[0], person.colors[1])[None]

    _fill(canvas, body, stripes)
    _fill(canvas, head, person.colors[2])
    # A thick arm (6 px on a 50 px body): a thinner one barely reached the stride-16 features.
    _draw_arm(canvas, shoulder, hand, person.colors[0] * 0.7, thickness=max(1.4, 0.12 * person.body_h))


@dataclass
class Scene:
    """One video: background, persons (drawn far to near), optional occluding pillar, camera noise."""

    width: int
    height: int
    n_frames: int
    background: np.ndarray  # float [height + 2 SHAKE_PX, width + 2 SHAKE_PX, 3]
    persons: list
    pillar: tuple | None  # (x1, x2, colour) drawn over the persons
    shake: np.ndarray  # [n_frames, 2] camera offsets in [0, 2 SHAKE_PX]
    seed: int
    fps: int = FPS

    def render(self, frame: int, rng: np.random.Generator) -> np.ndarray:
        """uint8 [height, width, 3] RGB of 0-based `frame`."""
        dx, dy = self.shake[frame]
        canvas = self.background[dy : dy + self.height, dx : dx + self.width].copy()
        for person in self.persons:
            draw_person(canvas, person, frame)
        if self.pillar is not None:
            x1, x2, color = self.pillar
            canvas[:, x1:x2] = color
        canvas *= np.float32(rng.normal(1.0, 0.03))
        # Sensor noise of std ~5 grey levels; uniform integers cost a quarter of a Gaussian draw.
        canvas += rng.integers(-NOISE_LEVELS, NOISE_LEVELS + 1, size=canvas.shape, dtype=np.int16)
        return np.clip(canvas, 0, 255).astype(np.uint8)


def make_scene(
    rng: np.random.Generator,
    *,
    width: int,
    height: int,
    n_frames: int,
    persons: tuple[int, int],
    multilabel: bool,
    fps: int = FPS,
) -> Scene:
    low = rng.uniform(40, 200, size=(height // 12 + 2, width // 12 + 2, 3)).astype(np.uint8)
    size = (width + 2 * SHAKE_PX, height + 2 * SHAKE_PX)
    background = np.asarray(Image.fromarray(low).resize(size, Image.BICUBIC), dtype=np.float32)
    count = int(rng.integers(persons[0], persons[1] + 1))
    people = sorted(
        (
            make_person(rng, width=width, height=height, n_frames=n_frames, multilabel=multilabel, fps=fps)
            for _ in range(count)
        ),
        key=lambda person: person.ground,
    )
    pillar = None
    if rng.random() < 0.5:
        x1 = int(rng.integers(0, width - width // 16))
        pillar = (x1, x1 + max(width // 16, 3), rng.uniform(20, 235, size=3))
    walk = np.cumsum(rng.integers(-1, 2, size=(n_frames, 2)), axis=0)
    shake = np.clip(walk + SHAKE_PX, 0, 2 * SHAKE_PX)
    return Scene(
        width=width,
        height=height,
        n_frames=n_frames,
        background=background,
        persons=people,
        pillar=pillar,
        shake=shake,
        seed=int(rng.integers(2**31)),
        fps=fps,
    )
