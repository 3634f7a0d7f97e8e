"""Train a model-zoo row: ``python -m slowbench.train --row ava22-k700-16x4 [options]``.

SGD with the row's schedule (linear warm-up, step or cosine decay), gradient clipping, a tqdm bar with
loss / lr / ETA, a JSON-lines log (``<work-dir>/log.jsonl``), validation through ``eval`` every
``--val-every`` epochs and at the end, atomic checkpoints (``<work-dir>/latest.pth``) that ``--resume``
continues bit-exactly, and ``<work-dir>/results.json``. Several processes: ``torchrun --nproc-per-node N
-m slowbench.train ...`` (DDP; gloo on CPU, nccl on CUDA). With no dataset at the default data root the
built-in synthetic dataset is generated and a CPU-sized profile is used (see ``engine/synthetic_profile``).
"""
import argparse
import dataclasses
import math
import pathlib
import sys
import time

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from slowbench.checkpoint import load_pretrained
from slowbench.data import PipelineConfig, build_dataset, collate, default_data_root, find_dataset
from slowbench.data.layout import dataset_files
from slowbench.engine import distributed
from slowbench.engine.atomic import atomic_json
from slowbench.engine.inference import predict_split
from slowbench.engine.jsonl_log import JsonLinesLog
from slowbench.engine.run_setup import format_metrics, make_deterministic, row_for_model, seed_everything
from slowbench.engine.sampling import EpochSampler, SeededDataset
from slowbench.engine.schedule import schedule_from_row
from slowbench.engine.state import read_checkpoint, restore_training_state, save_training_state
from slowbench.engine.synthetic_profile import is_synthetic, prepare_synthetic, synthetic_profile
from slowbench.engine.validation import evaluate_predictions
from slowbench.errors import ArgumentParser, CheckpointError, InputError, run_cli
from slowbench.models import build_detector
from slowbench.zoo import get_row

CHECKPOINT_NAME = "latest.pth"


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m slowbench.train", description=__doc__.splitlines()[0])
    p.add_argument("--row", required=True, help="model-zoo row name or reference config name")
    p.add_argument("--data-root", help="dataset root in the reference layout (default: data/<dataset>; "
                                       "synthetic data is generated when nothing is there)")
    p.add_argument("--work-dir", default=None, help="outputs (default: work_dirs/<row>)")
    p.add_argument("--epochs", type=int, help="override the row's epochs (schedule rescaled to it)")
    p.add_argument("--batch-size", type=int, help="clips per process (default: the row's per-GPU batch)")
    p.add_argument("--lr", type=float, help="base LR (default: the row's)")
    p.add_argument("--auto-scale-lr", action="store_true",
                   help="scale the LR by (batch x processes) / the row's total batch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--deterministic", action="store_true",
                   help="deterministic algorithms (bit-exact reruns and resume)")
    p.add_argument("--resume", nargs="?", const="auto", metavar="CKPT",
                   help=f"continue from CKPT (default: <work-dir>/{CHECKPOINT_NAME})")
    p.add_argument("--pretrained", metavar="CKPT",
                   help="initial weights: a detector checkpoint of this architecture (a classifier for "
                        "another class count keeps its init) or a Kinetics recogniser (backbone only)")
    p.add_argument("--device", default="auto", help="cpu, cuda or cuda:N (default: cuda when available)")
    p.add_argument("--workers", type=int, help="data-loading worker processes per process "
                                                "(default: 2, or 0 on synthetic data)")
    p.add_argument("--val-every", type=int, default=1, help="validate every N epochs (and at the end)")
    p.add_argument("--save-every", type=int, default=0, metavar="ITERS",
                   help="also checkpoint every ITERS iterations (0: at epoch ends only)")
    p.add_argument("--log-every", type=int, default=10, metavar="ITERS", help="JSON-lines log interval")
    p.add_argument("--short-side", type=int, metavar="PX",
                   help="scale the pipeline to this short side (train rescale PX..1.25 PX, crop PX, test PX)")
    p.add_argument("--fast-decode", action="store_true",
                   help="decode with Pillow at reduced scale (faster; pixels a few grey levels off "
                        "mmaction2's, which the default reproduces exactly)")
    p.add_argument("--model-override", action="append", default=[], metavar="KEY=VALUE",
                   help="build_detector override, e.g. depth=18 or base_channels=8 (repeatable)")
    p.add_argument("--stop-after", type=int, default=0, metavar="ITERS",
                   help="checkpoint and exit after global iteration ITERS, as a killed run (for resume tests)")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "workers", "val_every", "save_every", "log_every", "stop_after"):
        value = getattr(args, name)
        if value is not None and value < (1 if name in ("epochs", "batch_size", "val_every", "log_every") else 0):
            p.error(f"--{name.replace('_', '-')} must be a positive number, got {value}")
    args.model_override = parse_overrides(args.model_override)
    if args.short_side is not None and args.short_side < 16:
        p.error(f"--short-side must be >= 16 px, got {args.short_side}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        p.error(f"--lr must be a positive number, got {args.lr}")
    return args


def parse_overrides(items: list[str]) -> dict:
    """``["depth=18", "with_global=false"]`` -> ``{"depth": 18, "with_global": False}``."""
    overrides = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise InputError(f"--model-override {item!r}: expected KEY=VALUE")
        lowered = text.lower()
        if lowered in ("true", "false"):
            overrides[key] = lowered == "true"
        else:
            try:
                overrides[key] = int(text)
            except ValueError:
                try:
                    overrides[key] = float(text)
                except ValueError:
                    overrides[key] = text
    return overrides


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """What this run trains: data, pipeline, model overrides and schedule after all options."""

    data_root: pathlib.Path
    chance_mAP: float | None  # synthetic data only: expected frame-mAP of random scores
    pipeline: PipelineConfig
    model_overrides: dict
    epochs: int
    batch_size: int
    lr: float


def plan_run(row, args, info) -> RunPlan:
    """Resolves the data root (generating synthetic data when needed) and the effective settings."""
    if args.data_root is not None:
        data_root = pathlib.Path(args.data_root)
        if not find_dataset(row, data_root):
            raise InputError(f"--data-root {data_root}: no {row.dataset} dataset in the reference layout "
                             f"(annotations, proposals and rawframes/ for train and val)")
    else:
        data_root = default_data_root(row)
        if not find_dataset(row, data_root):
            data_root = prepare_synthetic(row, args.work_dir, info, missing_root=data_root)
    if is_synthetic(data_root):
        profile = synthetic_profile(row, data_root)
        base = dict(pipeline=profile.pipeline, model_overrides=profile.model_overrides,
                    epochs=profile.epochs, batch_size=profile.batch_size, lr=profile.lr)
        chance = profile.chance_mAP
    else:
        base = dict(pipeline=PipelineConfig.from_row(row), model_overrides={}, epochs=row.epochs,
                    batch_size=row.batch_per_gpu, lr=row.base_lr)
        chance = None
    batch_size = args.batch_size or base["batch_size"]
    lr = args.lr if args.lr is not None else base["lr"]
    if args.auto_scale_lr:
        lr *= batch_size * info.world_size / row.batch_size
    pipeline = (base["pipeline"].replace(train_scale=(args.short_side, args.short_side * 5 // 4),
                                         crop_size=args.short_side, test_short_side=args.short_side)
                if args.short_side else base["pipeline"])
    if args.fast_decode:
        pipeline = pipeline.replace(fast_decode=True)
    if args.workers is None:
        args.workers = 0 if chance is not None else 2
    return RunPlan(data_root=data_root, chance_mAP=chance, pipeline=pipeline,
                   model_overrides={**base["model_overrides"], **args.model_override},
                   epochs=args.epochs or base["epochs"], batch_size=batch_size, lr=lr)


class LossForward(torch.nn.Module):
    """Makes ``detector.loss`` the ``forward`` that DDP wraps (so its gradient hooks fire)."""

    def __init__(self, detector):
        super().__init__()
        self.detector = detector

    def forward(self, clips, proposals, gt_boxes, gt_labels):
        return self.detector.loss(clips, proposals, gt_boxes, gt_labels)


def train(args) -> dict:
    started = time.perf_counter()
    row = get_row(args.row)
    info = distributed.init_distributed(args.device)
    args.work_dir = pathlib.Path(args.work_dir or pathlib.Path("work_dirs") / row.name)
    if args.deterministic:
        make_deterministic()
    seed_everything(args.seed)
    plan = plan_run(row, args, info)
    log = JsonLinesLog(args.work_dir / "log.jsonl" if info.is_main else None)
    say = print if info.is_main else (lambda *a, **k: None)

    data_row = row_for_model(row, plan.model_overrides)
    train_set = build_dataset(data_row, plan.data_root, "train", plan.pipeline)
    val_set = build_dataset(data_row, plan.data_root, "val", plan.pipeline, test_mode=True)
    try:
        detector = build_detector(row, **plan.model_overrides).to(info.device)
    except (TypeError, ValueError) as error:  # an override the model does not take
        if not args.model_override:
            raise
        raise InputError(f"--model-override: {error}") from None
    if args.pretrained:
        report = load_pretrained(detector, args.pretrained)
        say(f"pretrained: {report.summary(args.pretrained)}")
        log.log("pretrained", path=str(args.pretrained), loaded=len(report.loaded), kept_init=report.missing,
                ignored=report.skipped)
    schedule = schedule_from_row(row).rescaled(epochs=plan.epochs, base_lr=plan.lr)
    sampler = EpochSampler(len(train_set), seed=args.seed, rank=info.rank, world_size=info.world_size)
    iters_per_epoch = math.ceil(len(sampler) / plan.batch_size)
    total_iters = plan.epochs * iters_per_epoch
    optimizer = torch.optim.SGD(detector.parameters(), lr=plan.lr, momentum=row.momentum,
                                weight_decay=row.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda it: schedule.lr(min(it, total_iters - 1), iters_per_epoch) / plan.lr)
    meta = {"row": row.name, "model_overrides": plan.model_overrides,
            "synthetic": plan.chance_mAP is not None, "data_root": str(plan.data_root.resolve()), "pipeline": dataclasses.asdict(plan.pipeline),
            "batch_size": plan.batch_size, "world_size": info.world_size, "epochs": plan.epochs,
            "lr": plan.lr, "seed": args.seed}

    start_iter = 0
    if args.resume:
        path = args.work_dir / CHECKPOINT_NAME if args.resume == "auto" else pathlib.Path(args.resume)
        ckpt = read_checkpoint(path)
        _check_resumable(ckpt.get("meta", {}), meta, path)
        _, start_iter = restore_training_state(ckpt, model=detector, optimizer=optimizer, scheduler=scheduler)
        say(f"resumed from {path} at iteration {start_iter}/{total_iters}")
    model = detector
    if info.world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            LossForward(detector), device_ids=[info.device.index] if info.device.type == "cuda" else None)
    else:
        model = LossForward(detector)

    loader = DataLoader(SeededDataset(train_set), batch_size=plan.batch_size, sampler=sampler,
                        collate_fn=collate, num_workers=args.workers,
                        generator=torch.Generator().manual_seed(args.seed),
                        pin_memory=info.device.type == "cuda")
    log.log("start", device=str(info.device),
            iters_per_epoch=iters_per_epoch, total_iters=total_iters, start_iter=start_iter, **meta)
    say(f"training {row.name} on {len(train_set)} clips x {plan.epochs} epochs "
        f"({iters_per_epoch} iters/epoch, batch {plan.batch_size} x {info.world_size} processes, "
        f"lr {plan.lr:g}, {schedule.decay} decay, {plan.pipeline.test_short_side} px short side, "
        f"model overrides {plan.model_overrides or 'none'}) on {info.device}")

    metrics, iteration = {}, start_iter
    bar = tqdm(total=total_iters, initial=start_iter, disable=not info.is_main, dynamic_ncols=True,
               desc="train")
    detector.train()
    for epoch in range(start_iter // iters_per_epoch, plan.epochs):
        done_in_epoch = iteration - epoch * iters_per_epoch
        sampler.set_epoch(epoch, start=done_in_epoch * plan.batch_size)
        for batch in loader:
            losses = model(batch["clips"].to(info.device, non_blocking=True).float(),
                           [p.to(info.device) for p in batch["proposals"]],
                           [b.to(info.device) for b in batch["gt_boxes"]],
                           [lab.to(info.device) for lab in batch["gt_labels"]])
            loss = losses["loss_action_cls"]
            if not torch.isfinite(loss):
                raise InputError(f"loss became {loss.item()} at iteration {iteration}; "
                                         f"lower --lr or check the data")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(detector.parameters(), row.grad_clip)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            scheduler.step()
            iteration += 1
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.4f}", lr=f"{lr:.3g}")
            if iteration % args.log_every == 0 or iteration == total_iters:
                log.log("train", epoch=epoch + 1, iter=iteration, lr=lr, grad_norm=float(grad_norm),
                        **{k: v.detach().item() for k, v in losses.items()}, seconds=time.perf_counter() - started)
            stop = args.stop_after and iteration >= args.stop_after
            if (args.save_every and iteration % args.save_every == 0) or stop:
                _save(info, args, detector, optimizer, scheduler, epoch, iteration, meta, log)
            if stop:
                bar.close()
                say(f"stopped after iteration {iteration} (--stop-after); resume with --resume")
                distributed.shutdown(info)
                return {}
        _save(info, args, detector, optimizer, scheduler, epoch + 1, iteration, meta, log)
        if (epoch + 1) % args.val_every == 0 or epoch + 1 == plan.epochs:
            metrics = _validate(row, plan, val_set, detector, info, args, log, epoch + 1)
            if info.is_main:
                bar.write(f"epoch {epoch + 1}: {format_metrics(metrics)}")
    bar.close()
    if not metrics:  # resumed from a finished run: nothing trained, still report its validation
        metrics = _validate(row, plan, val_set, detector, info, args, log, plan.epochs)

    result = None
    if info.is_main:
        result = {"row": row.name, **metrics, "epochs": plan.epochs,
                  "seconds": round(time.perf_counter() - started, 1), "device": str(info.device),
                  "world_size": info.world_size, "synthetic": plan.chance_mAP is not None,
                  **({"chance_mAP": plan.chance_mAP} if plan.chance_mAP is not None else {}),
                  "checkpoint": str(args.work_dir / CHECKPOINT_NAME)}
        atomic_json(result, args.work_dir / "results.json")
        log.log("done", **result)
        print(f"validation {format_metrics(metrics)} after {plan.epochs} epochs "
              f"({result['seconds']:.0f} s); wrote {args.work_dir / 'results.json'}")
    distributed.shutdown(info)
    return result


def _check_resumable(saved: dict, current: dict, path) -> None:
    for key in ("row", "batch_size", "world_size", "epochs", "model_overrides"):
        if saved.get(key) != current[key]:
            raise CheckpointError(f"{path}: cannot resume: checkpoint has {key}={saved.get(key)!r}, "
                             f"this run {key}={current[key]!r}")


def _save(info, args, detector, optimizer, scheduler, epoch, iteration, meta, log) -> None:
    if info.is_main:
        path = save_training_state(args.work_dir / CHECKPOINT_NAME, model=detector, optimizer=optimizer,
                                   scheduler=scheduler, epoch=epoch, iteration=iteration, meta=meta)
        log.log("checkpoint", path=str(path), epoch=epoch, iter=iteration)
    distributed.barrier(info)


def _validate(row, plan, val_set, detector, info, args, log, epoch) -> dict:
    predictions = predict_split(detector, val_set, info, collate=collate, workers=args.workers)
    metrics = None
    if info.is_main:
        metrics = evaluate_predictions(row, dataset_files(row, plan.data_root, "val"), predictions)
        log.log("val", epoch=epoch, **metrics)
    return distributed.broadcast_from_main(info, metrics)


def main(argv=None) -> int:
    """The command line; returns the exit status (2 after one ``error:`` line for bad input)."""
    return run_cli(_run, argv)


def _run(argv) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
