"""Batching of `DetectionDataset` samples with different box counts (and clip sizes)."""

from __future__ import annotations

import torch


def collate(samples: list[dict]) -> dict:
    """Samples -> {clips uint8 [B, 3, T, H, W], proposals, gt_boxes, gt_labels, metas (lists)}.

    Clips of different H/W are zero-padded at the bottom/right to the largest, as the reference
    `stack_batch` does; box coordinates are unaffected by that padding.
    """
    if not samples:
        raise ValueError("collate: empty batch")
    clips = [sample["clip"] for sample in samples]
    channels, length = clips[0].shape[:2]
    if any(clip.shape[:2] != (channels, length) for clip in clips):
        raise ValueError(f"collate: clips differ in channels/length: {[tuple(c.shape) for c in clips]}")
    height = max(clip.shape[2] for clip in clips)
    width = max(clip.shape[3] for clip in clips)
    batch = torch.zeros((len(clips), channels, length, height, width), dtype=clips[0].dtype)
    for index, clip in enumerate(clips):
        batch[index, :, :, : clip.shape[2], : clip.shape[3]] = clip
    return {
        "clips": batch,
        "proposals": [sample["proposals"] for sample in samples],
        "gt_boxes": [sample["gt_boxes"] for sample in samples],
        "gt_labels": [sample["gt_labels"] for sample in samples],
        "metas": [sample["meta"] for sample in samples],
    }
