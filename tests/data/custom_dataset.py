"""A hand-made dataset file for the tests: two videos of 100 numbered frames at 25 fps, labels
2, 7 and 40, keyframes from second 0 (one fractional), boxes in pixels or normalised."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

SIZE = (64, 48)  # width, height
FRAMES = 100
LABELS = 'item {\n  name: "walk"\n  id: 2\n}\nitem {\n  name: "wave"\n  id: 7\n}\nitem {\n  name: "sit"\n  id: 40\n}\n'
# video, seconds, box (pixels of 64x48), label, person
ROWS = [
    ("a", "1", (16, 12, 48, 36), 2, 0),
    ("a", "1", (16, 12, 48, 36), 40, 0),
    ("a", "1", (0, 0, 32, 24), 7, 1),
    ("a", "2.5", (8, 6, 40, 42), 7, 0),
    ("b", "2", (32, 24, 64, 48), 40, 0),
]
TOML = """format = "keyframes"
labels = "labels.pbtxt"
fps = 25
frames = "frames/{{video}}/f{{frame:04d}}.png"
boxes = "{boxes}"
{extra}
[train]
annotations = "train.csv"
proposals = "gt"

[val]
annotations = "val.csv"
proposals = "gt"
"""


def grey_level(number: int) -> int:
    """The grey level of frame `number` (1-based): which frame landed where survives PNG exactly."""
    return (2 * number) % 256


def csv_text(rows, *, pixels: bool) -> str:
    lines = []
    for video, seconds, box, label, person in rows:
        values = box if pixels else (box[0] / SIZE[0], box[1] / SIZE[1], box[2] / SIZE[0], box[3] / SIZE[1])
        lines.append(f"{video},{seconds},{','.join(repr(float(v)) for v in values)},{label},{person}\n")
    return "".join(lines)


def write_frames(root: Path, videos=("a", "b"), count: int = FRAMES) -> None:
    for video in videos:
        folder = root / "frames" / video
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(1, count + 1):
            level = grey_level(number)
            Image.new("RGB", SIZE, (level, level, level)).save(folder / f"f{number:04d}.png")


def write_dataset(
    root: Path, *, pixels: bool = True, extra: str = "", rows=ROWS, frames: bool = True
) -> Path:
    """The dataset under `root` (train and val share the rows); returns the dataset file."""
    root.mkdir(parents=True, exist_ok=True)
    if frames:
        write_frames(root)
    (root / "labels.pbtxt").write_text(LABELS)
    for split in ("train", "val"):  # the same rows
        (root / f"{split}.csv").write_text(csv_text(rows, pixels=pixels))
    path = root / "dataset.toml"
    path.write_text(TOML.format(boxes="pixels" if pixels else "normalized", extra=extra))
    return path
