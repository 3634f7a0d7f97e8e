"""The training loop: ``start_run`` builds a ``TrainingRun`` (everything one run holds), ``fit``
trains it epoch by epoch.

Each job is one function: ``train_step`` (forward, backward, clipping, optimizer and LR step: the
place for mixed precision), ``TrainingRun.event`` (every structured log line: the place for a new
log sink), ``save_state``, ``validate`` and ``write_results``.
"""

import dataclasses
import math
import time

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from eval.atomic import atomic_json
from slowbench.checkpoint import load_pretrained, read_checkpoint
from slowbench.data import build_dataset, collate
from slowbench.data.dataset_split import load_dataset_split
from slowbench.engine import distributed
from slowbench.engine.inference import predict_split
from slowbench.engine.jsonl_log import JsonLinesLog
from slowbench.engine.mixed_precision import MixedPrecision
from slowbench.engine.run_plan import LOG_NAME, RESULTS_NAME, RunPlan
from slowbench.engine.run_setup import format_metrics, row_for_model
from slowbench.engine.sampling import EpochSampler, SeededDataset
from slowbench.engine.schedule import schedule_from_row
from slowbench.engine.scoring import headline
from slowbench.engine.state import restore_training_state, save_training_state
from slowbench.engine.val_split import ValSplit, build_val_split, evaluate_val
from slowbench.errors import CheckpointError, InputError
from slowbench.models import build_detector

# Checkpoint meta keys that must match for --resume to continue a run (``amp``: the saved loss
# scaler state only fits the precision it was saved under).
RESUME_KEYS = ("row", "batch_size", "world_size", "epochs", "model_overrides", "amp", "classes")


class LossForward(torch.nn.Module):
    """Makes ``detector.loss`` the ``forward`` that DDP wraps (so its gradient hooks fire)."""

    def __init__(self, detector):
        super().__init__()
        self.detector = detector

    def forward(self, clips, proposals, gt_boxes, gt_labels):
        return self.detector.loss(clips, proposals, gt_boxes, gt_labels)


@dataclasses.dataclass
class TrainingRun:
    """One training run: its plan, model, optimisation state, data and progress."""

    row: object  # slowbench.model_zoo.ZooRow
    plan: RunPlan
    info: distributed.DistInfo
    detector: torch.nn.Module  # unwrapped: checkpoints and validation
    model: torch.nn.Module  # what a step calls: LossForward(detector), DDP-wrapped across processes
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    sampler: EpochSampler
    loader: DataLoader
    val: ValSplit  # the val split in its parts (AVA-Kinetics: AVA and Kinetics)
    log: JsonLinesLog
    meta: dict  # stored in every checkpoint; what --resume and slowbench.test read back
    iters_per_epoch: int
    started: float  # time.perf_counter() at the start
    precision: MixedPrecision  # --amp: autocast and (fp16) gradient scaling
    iteration: int = 0  # global iterations done
    resumed_from: str | None = None  # the checkpoint the run went on from (--resume)

    @property
    def total_iters(self) -> int:
        return self.plan.epochs * self.iters_per_epoch

    def event(self, kind: str, **fields) -> None:
        """One structured log line (rank 0's log.jsonl)."""
        self.log.log(kind, **fields)

    def say(self, text: str) -> None:
        """One console line from rank 0 (through tqdm, so a progress bar stays intact)."""
        if self.info.is_main:
            tqdm.write(text)


def start_run(row, plan: RunPlan, info, *, started: float, pretrained=None, resume=None) -> TrainingRun:
    """Builds datasets, model, optimiser, schedule and loader; loads ``pretrained`` weights or
    restores the training state of the checkpoint ``resume``. ``started``: the command's start
    (``time.perf_counter()``), from which the log and ``results.json`` count seconds."""
    precision = MixedPrecision(plan.amp, info.device)
    log = JsonLinesLog(plan.work_dir / LOG_NAME if info.is_main else None)
    detector = _build_detector(row, plan)  # first: it checks the overrides, which size the labels too
    data_row = row_for_model(row, plan.model_overrides)
    if plan.dataset is not None:
        train_set = load_dataset_split(plan.dataset, "train", plan.pipeline)
    else:
        train_set = build_dataset(data_row, plan.data_root, "train", plan.pipeline, columns=plan.columns)
    val = build_val_split(data_row, plan.data_root, plan.pipeline, columns=plan.columns, spec=plan.dataset)
    detector.to(info.device)
    sampler = EpochSampler(len(train_set), seed=plan.seed, rank=info.rank, world_size=info.world_size)
    iters_per_epoch = math.ceil(len(sampler) / plan.batch_size)
    optimizer = torch.optim.SGD(
        detector.parameters(), lr=plan.lr, momentum=row.momentum, weight_decay=row.weight_decay
    )
    schedule = schedule_from_row(row).rescaled(epochs=plan.epochs, base_lr=plan.lr)
    last = plan.epochs * iters_per_epoch - 1
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda it: schedule.lr(min(it, last), iters_per_epoch) / plan.lr
    )
    loss_forward = LossForward(detector)
    model = (
        loss_forward
        if info.world_size == 1
        else torch.nn.parallel.DistributedDataParallel(
            loss_forward, device_ids=[info.device.index] if info.device.type == "cuda" else None
        )
    )
    loader = DataLoader(
        SeededDataset(train_set),
        batch_size=plan.batch_size,
        sampler=sampler,
        collate_fn=collate,
        num_workers=plan.workers,
        generator=torch.Generator().manual_seed(plan.seed),
        pin_memory=info.device.type == "cuda",
    )
    meta = {
        "row": row.name,
        "model_overrides": plan.model_overrides,
        "synthetic": plan.synthetic,
        "data_root": str(plan.data_root.resolve()),
        # What slowbench.test and slowbench.demo read by default: the dataset file, --classes (or
        # the file's classes) and the label id of every head column.
        "dataset_file": None if plan.dataset is None else str(plan.dataset.path),
        "classes": _chosen_classes(plan),
        "label_ids": None if plan.columns is None else list(plan.columns.ids),
        "pipeline": dataclasses.asdict(plan.pipeline),
        "batch_size": plan.batch_size,
        "world_size": info.world_size,
        "epochs": plan.epochs,
        "lr": plan.lr,
        "seed": plan.seed,
        "amp": plan.amp,
    }
    run = TrainingRun(
        row=row,
        plan=plan,
        info=info,
        detector=detector,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        sampler=sampler,
        loader=loader,
        val=val,
        log=log,
        meta=meta,
        iters_per_epoch=iters_per_epoch,
        started=started,
        precision=precision,
    )
    if pretrained:
        _load_pretrained(run, pretrained)
    if resume:
        _resume(run, resume)
    run.event(
        "start",
        device=str(info.device),
        iters_per_epoch=iters_per_epoch,
        total_iters=run.total_iters,
        start_iter=run.iteration,
        **meta,
    )
    run.say(
        f"training {row.name} on {len(train_set)} clips x {plan.epochs} epochs "
        f"({iters_per_epoch} iters/epoch, batch {plan.batch_size} x {info.world_size} "
        f"processes, lr {plan.lr:g}, {schedule.decay} decay, "
        f"{plan.pipeline.test_short_side} px short side, "
        f"model overrides {plan.model_overrides or 'none'}) on {info.device}; validating on "
        f"{val.describe()}{f'; {plan.amp} autocast' if plan.amp else ''}"
    )
    return run


def _chosen_classes(plan: RunPlan) -> list | None:
    """The label ids chosen by --classes or a dataset file's classes (None: every label)."""
    if plan.dataset is not None:
        return None if plan.dataset.classes is None else list(plan.dataset.classes)
    return None if plan.columns is None else list(plan.columns.ids)


def _build_detector(row, plan: RunPlan) -> torch.nn.Module:
    """The row's detector with the plan's overrides; one the model does not take is bad input."""
    try:
        return build_detector(row, **plan.model_overrides)
    except (TypeError, ValueError) as error:
        if not plan.user_overrides:
            raise
        raise InputError(f"--model-override: {error}") from None


def _load_pretrained(run: TrainingRun, path) -> None:
    report = load_pretrained(run.detector, path)
    run.say(f"pretrained: {report.summary(path)}")
    run.event(
        "pretrained",
        path=str(path),
        loaded=len(report.loaded),
        kept_init=report.missing,
        ignored=report.skipped,
    )


def _resume(run: TrainingRun, path) -> None:
    """Restores model, optimiser, scheduler, loss scaler and RNG states; the run goes on at its
    iteration."""
    ckpt = read_checkpoint(path)
    saved = ckpt["meta"]
    for key in RESUME_KEYS:
        if saved.get(key) != run.meta[key]:
            raise CheckpointError(
                f"{path}: cannot resume: checkpoint has {key}="
                f"{saved.get(key)!r}, this run {key}={run.meta[key]!r}"
            )
    _, run.iteration = restore_training_state(
        ckpt,
        model=run.detector,
        optimizer=run.optimizer,
        scheduler=run.scheduler,
        scaler=run.precision.scaler,
    )
    run.resumed_from = str(path)
    run.say(f"resumed from {path} at iteration {run.iteration}/{run.total_iters}")


def fit(run: TrainingRun) -> dict | None:
    """Trains to the last epoch (validating every ``val_every`` epochs and at the end) and writes
    ``results.json``; returns the result on rank 0, None on other ranks, ``{}`` after
    ``stop_after`` and when there is nothing to train (one line says why)."""
    plan, metrics = run.plan, {}
    nothing = _nothing_to_train(run)
    if nothing:
        run.say(nothing)
        return {}
    bar = tqdm(
        total=run.total_iters,
        initial=run.iteration,
        disable=not run.info.is_main,
        dynamic_ncols=True,
        desc="train",
    )
    run.detector.train()
    with bar:
        for epoch in range(run.iteration // run.iters_per_epoch, plan.epochs):
            if not train_epoch(run, epoch, bar):
                run.say(f"stopped after iteration {run.iteration} (--stop-after); resume with --resume")
                return {}
            save_state(run, epoch + 1)
            if (epoch + 1) % plan.val_every == 0 or epoch + 1 == plan.epochs:
                metrics = validate(run, epoch + 1)
                run.say(f"epoch {epoch + 1}: {format_metrics(metrics)}")
    return write_results(run, metrics)


def _nothing_to_train(run: TrainingRun) -> str | None:
    """Why a resumed run has nothing left to train, or None: its checkpoint is at or past
    ``--stop-after``, or at the end of its epochs. Its checkpoint and results stay as they are."""
    plan = run.plan
    where = f"{run.resumed_from} is at iteration {run.iteration}"
    if plan.stop_after and run.iteration >= plan.stop_after:
        return f"nothing to train: {where}, at or past --stop-after {plan.stop_after}"
    if run.iteration >= run.total_iters:
        return f"nothing to train: {where}, the end of its {plan.epochs} epochs"
    return None


def train_epoch(run: TrainingRun, epoch: int, bar) -> bool:
    """The rest of ``epoch`` (all of it unless resumed inside it); False when ``stop_after`` ended
    the run (after checkpointing)."""
    plan = run.plan
    done_in_epoch = run.iteration - epoch * run.iters_per_epoch
    run.sampler.set_epoch(epoch, start=done_in_epoch * plan.batch_size)
    for batch in run.loader:
        step = train_step(run, batch)
        run.iteration += 1
        bar.update(1)
        bar.set_postfix(epoch=epoch + 1, loss=f"{step['loss_action_cls']:.4f}", lr=f"{step['lr']:.3g}")
        if run.iteration % plan.log_every == 0 or run.iteration == run.total_iters:
            run.event(
                "train",
                epoch=epoch + 1,
                iter=run.iteration,
                **step,
                seconds=time.perf_counter() - run.started,
            )
        stop = plan.stop_after and run.iteration >= plan.stop_after
        if (plan.save_every and run.iteration % plan.save_every == 0) or stop:
            save_state(run, epoch)
        if stop:
            return False
    return True


def train_step(run: TrainingRun, batch: dict) -> dict:
    """One optimisation step on a collated batch; returns ``lr``, ``grad_norm`` and the losses as
    floats. A non-finite loss stops the run with one line."""
    device, scaler = run.info.device, run.precision.scaler
    with run.precision.autocast():
        losses = run.model(
            batch["clips"].to(device, non_blocking=True).float(),
            [p.to(device) for p in batch["proposals"]],
            [b.to(device) for b in batch["gt_boxes"]],
            [lab.to(device) for lab in batch["gt_labels"]],
        )
    loss = losses["loss_action_cls"]
    if not torch.isfinite(loss):
        raise InputError(
            f"loss became {loss.item()} at iteration {run.iteration}; lower --lr or check the data"
        )
    run.optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(run.optimizer)  # clip the true gradients
    grad_norm = torch.nn.utils.clip_grad_norm_(run.detector.parameters(), run.row.grad_clip)
    lr = run.optimizer.param_groups[0]["lr"]
    scaler.step(run.optimizer)  # skipped by fp16's scaler when a gradient is inf / NaN
    scaler.update()
    run.scheduler.step()
    return {
        "lr": lr,
        "grad_norm": float(grad_norm),
        **{name: value.detach().item() for name, value in losses.items()},
    }


def save_state(run: TrainingRun, epoch: int) -> None:
    """Rank 0 writes the checkpoint (atomically); every rank waits for it."""
    if run.info.is_main:
        path = save_training_state(
            run.plan.checkpoint,
            model=run.detector,
            optimizer=run.optimizer,
            scheduler=run.scheduler,
            scaler=run.precision.scaler,
            epoch=epoch,
            iteration=run.iteration,
            meta=run.meta,
        )
        run.event("checkpoint", path=str(path), epoch=epoch, iter=run.iteration)
    distributed.barrier(run.info)


def validate(run: TrainingRun, epoch: int) -> dict:
    """Metrics on the val split (every rank predicts its shard; rank 0 evaluates, then shares)."""
    predictions = predict_split(
        run.detector,
        run.val.dataset,
        run.info,
        collate=collate,
        workers=run.plan.workers,
        precision=run.precision,
    )
    metrics = None
    if run.info.is_main:
        metrics = headline(evaluate_val(run.val, predictions))
        run.event("val", epoch=epoch, **metrics)
    return distributed.broadcast_from_main(run.info, metrics)


def write_results(run: TrainingRun, metrics: dict) -> dict | None:
    """Rank 0 writes ``results.json`` and returns it; other ranks return None."""
    if not run.info.is_main:
        return None
    plan = run.plan
    result = {
        "row": run.row.name,
        **metrics,
        "epochs": plan.epochs,
        "seconds": round(time.perf_counter() - run.started, 1),
        "device": str(run.info.device),
        "world_size": run.info.world_size,
        "synthetic": plan.synthetic,
        **({"chance_mAP": plan.chance_mAP} if plan.synthetic else {}),
        "checkpoint": str(plan.checkpoint),
    }
    path = atomic_json(plan.work_dir / RESULTS_NAME, result)
    run.event("done", **result)
    run.say(
        f"validation {format_metrics(metrics)} after {plan.epochs} epochs "
        f"({result['seconds']:.0f} s); wrote {path}"
    )
    return result
