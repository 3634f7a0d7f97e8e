"""Inference over a dataset split, sharded across DDP ranks and gathered back in dataset order."""

import contextlib

import torch
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from slowbench.engine.distributed import DistInfo, gather_to_main
from slowbench.engine.input_wait import InputWait
from slowbench.engine.mixed_precision import MixedPrecision


@torch.no_grad()
def predict_split(
    detector,
    dataset,
    info: DistInfo,
    *,
    collate,
    workers: int = 0,
    desc: str = "val",
    precision: MixedPrecision | None = None,
    input_wait: InputWait | None = None,
) -> list | None:
    """``[(proposals [n, 4], scores [n, C], meta), ...]`` numpy per sample, in dataset order, on rank 0.

    One clip per batch, as the reference's val loader (its RoI head asserts batch 1). Other ranks get
    None. Rank r predicts samples r, r + world, ... so no sample is seen twice. With ``precision``
    (``--amp``) the forward passes run under its autocast; ``input_wait`` collects where this
    rank's time went (loader or model).
    """
    indices = list(range(info.rank, len(dataset), info.world_size))
    loader = DataLoader(
        Subset(dataset, indices),
        batch_size=1,
        shuffle=False,
        collate_fn=collate,
        num_workers=workers,
    )
    was_training = detector.training
    detector.eval()
    rows = []
    try:
        batches = tqdm(loader, desc=desc, disable=not info.is_main, leave=False, dynamic_ncols=True)
        if input_wait is not None:
            batches = input_wait.timed(batches)
        for position, batch in enumerate(batches):  # not zip: the timing sees the loop end
            index = indices[position]
            with precision.autocast() if precision else contextlib.nullcontext():
                scores = detector.predict(
                    batch["clips"].to(info.device).float(), [p.to(info.device) for p in batch["proposals"]]
                )
            rows.append(
                (index, batch["proposals"][0].numpy(), scores[0].float().cpu().numpy(), batch["metas"][0])
            )
    finally:
        detector.train(was_training)
    gathered = gather_to_main(info, rows)
    if gathered is None:
        return None
    merged = sorted((row for part in gathered for row in part), key=lambda row: row[0])
    return [row[1:] for row in merged]
