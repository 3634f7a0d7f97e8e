"""How much mmaction2's demo choices would change a checkpoint's scores (see docs/demo.md).

    python tools/demo_differences.py --row ROW --ckpt CKPT --data-root ROOT

Scores every val keyframe of ROOT (its proposals, the checkpoint's test pipeline) four ways and
prints, for each against slowbench's own way, the mean and largest change of the action scores,
the share of (box, class) decisions at 0.5 that flip, and the val frame-mAP:

- slowbench: RGB frames, the dataset's clip (frames k + interval * (i - T/2));
- BGR: the same frames with the channels reversed, as mmaction2's demo feeds them (OpenCV frames
  normalised with the RGB mean / std, `to_rgb=False`);
- reference offsets: RGB, the clip one interval later (frames k + interval * (i - T/2 + 1)), as
  mmaction2's demo samples it;
- reference demo: both.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from slowbench.data import PipelineConfig, build_dataset, dataset_files
from slowbench.engine.trained_detector import load_trained_detector
from slowbench.engine.validation import evaluate_predictions
from slowbench.zoo import get_row

ACTION_THR = 0.5
VARIANTS = {
    "slowbench": (False, 0),
    "BGR": (True, 0),
    "reference offsets": (False, 1),
    "reference demo": (True, 1),
}


@torch.no_grad()
def scored(detector, dataset, *, bgr: bool, shift: int) -> list:
    """`predict_split`'s rows for every val keyframe: channels reversed with `bgr`, the clip moved
    by `shift` frame intervals."""
    sample_indices = dataset.frame_indices
    interval = dataset.pipeline.frame_interval
    dataset.frame_indices = lambda keyframe: sample_indices(keyframe) + shift * interval
    rows = []
    try:
        for index in range(len(dataset)):
            sample = dataset[index]
            clip = sample["clip"].flip(0) if bgr else sample["clip"]
            scores = detector.predict(clip[None].float(), [sample["proposals"]])[0].numpy()
            rows.append((sample["proposals"].numpy(), scores, sample["meta"]))
    finally:
        dataset.frame_indices = sample_indices
    return rows


def compare(base: list, other: list) -> dict:
    """Mean / max |score change| and the share of flipped decisions over the action columns
    (column 0 is background)."""
    before = np.concatenate([scores[:, 1:] for _, scores, _ in base])
    after = np.concatenate([scores[:, 1:] for _, scores, _ in other])
    change = np.abs(after - before)
    return {
        "mean_change": float(change.mean()),
        "max_change": float(change.max()),
        "flipped": float(((before > ACTION_THR) != (after > ACTION_THR)).mean()),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", required=True)
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--data-root", required=True, type=Path)
    args = parser.parse_args(argv)
    row = get_row(args.row)
    detector, meta = load_trained_detector(row, args.ckpt)
    detector.eval()
    pipeline = PipelineConfig.from_saved(meta["pipeline"]) if meta.get("pipeline") else None
    dataset = build_dataset(row, args.data_root, "val", pipeline)
    files = dataset_files(row, args.data_root, "val")
    results = {
        name: scored(detector, dataset, bgr=bgr, shift=shift) for name, (bgr, shift) in VARIANTS.items()
    }
    print(f"{len(dataset)} val keyframes, {sum(len(p) for p, _, _ in results['slowbench'])} boxes")
    print("| variant | frame-mAP | mean abs score change | max | decisions at 0.5 flipped |")
    print("|---|---|---|---|---|")
    for name, rows in results.items():
        mAP = evaluate_predictions(row, files, rows)["mAP"]
        change = compare(results["slowbench"], rows)
        print(
            f"| {name} | {mAP:.4f} | {change['mean_change']:.4f} | {change['max_change']:.3f} "
            f"| {100 * change['flipped']:.2f}% |"
        )


if __name__ == "__main__":
    main()
