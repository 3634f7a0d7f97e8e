"""Drawing detections on frames (Pillow `ImageDraw` with Pillow's bundled font) and writing the
result as mp4 (PyAV) or animated GIF (Pillow)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from eval.atomic import atomic_bytes
from slowbench.data.video_writer import encode_video

PREDICTION_COLOUR = (0, 150, 255)  # boxes and label backgrounds of predictions
GROUND_TRUTH_COLOUR = (40, 200, 40)
TEXT_COLOUR = (255, 255, 255)
OUTPUT_SUFFIXES = (".mp4", ".gif")


@dataclass
class Detection:
    """One box to draw: normalised (x1, y1, x2, y2) and its text lines (label and score)."""

    box: np.ndarray
    lines: list[str]


class Painter:
    """Draws detections on RGB uint8 frames of one size; text scales with the frame height."""

    def __init__(self, width: int, height: int):
        self.size = np.array([width, height, width, height], dtype=np.float64)
        self.font_size = max(10, round(height / 24))
        self.font = ImageFont.load_default(size=self.font_size)
        self.line_width = max(1, round(height / 160))

    def draw(
        self, frame: np.ndarray, predictions: list[Detection], ground_truth: list[Detection]
    ) -> np.ndarray:
        """A copy of `frame` [H, W, 3] with ground truth (labels in the box's bottom-left corner)
        and predictions (labels in its top-left corner) drawn on it."""
        image = Image.fromarray(frame)
        draw = ImageDraw.Draw(image)
        for detection in ground_truth:
            self._box(draw, detection, GROUND_TRUTH_COLOUR, bottom=True)
        for detection in predictions:
            self._box(draw, detection, PREDICTION_COLOUR, bottom=False)
        return np.asarray(image)

    def _box(self, draw: ImageDraw.ImageDraw, detection: Detection, colour, *, bottom: bool):
        x1, y1, x2, y2 = (detection.box * self.size).round()
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=self.line_width)
        step = self.font_size + 2
        y = y2 - len(detection.lines) * step if bottom else y1 + self.line_width
        for line in detection.lines:
            left, top, right, bottom = draw.textbbox((x1 + self.line_width, y), line, font=self.font)
            draw.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=colour)
            draw.text((x1 + self.line_width, y), line, fill=TEXT_COLOUR, font=self.font)
            y += step


def write_output(path: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    """Writes frames to `path` by its extension (.mp4: H.264 with PyAV; .gif: Pillow, looping)
    atomically; returns the number of frames."""
    if path.suffix.lower() == ".mp4":
        return encode_video(path, frames, fps)
    images = [Image.fromarray(frame) for frame in frames]
    if not images:
        raise ValueError("write_output: no frames")
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
        optimize=True,
    )
    atomic_bytes(path, buffer.getvalue())
    return len(images)
