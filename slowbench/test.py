"""Evaluate a checkpoint: ``python -m slowbench.test --row ROW --ckpt CKPT|--onnx FILE [--dump result.csv|result.pkl]``.

Runs inference on the row's validation split, evaluates it with ``eval`` (AVA frame-mAP, or MultiSports
frame-/video-mAP; AVA-Kinetics rows: per part and combined, ``--part``) and optionally dumps the predictions: the official AVA detection CSV (read by
``python -m eval.ava``) or, for MultiSports, a pickle ``{"frame_dets": [N, 8], "gt_path": str}`` (read by
``python -m eval.multisports``) or, given ``--dump DIR/``, the official MultiSports toolkit's two pickles;
``--report DIR`` writes eval's HTML report with the error analysis. A checkpoint written by ``slowbench.train`` carries its model overrides,
pipeline and (synthetic) data root, so a synthetic-profile run is evaluated as it was trained; an ONNX
file from ``slowbench.export`` carries the same meta and runs through onnxruntime.
"""

import argparse
import pathlib
import sys
import time

import torch

from eval.atomic import atomic_json
from slowbench.data import PipelineConfig, collate, default_data_root, find_dataset
from slowbench.data.dataset_check import check_dataset
from slowbench.data.worker_setup import default_workers
from slowbench.engine import distributed
from slowbench.engine.arguments import at_least
from slowbench.engine.checkpoint_data import checkpoint_columns, checkpoint_dataset
from slowbench.engine.inference import predict_split
from slowbench.engine.input_wait import InputWait
from slowbench.engine.mixed_precision import MixedPrecision, add_amp_argument
from slowbench.engine.run_setup import format_metrics, row_for_model
from slowbench.engine.scoring import check_dump_path, dump_path, headline
from slowbench.engine.trained_detector import load_trained_detector
from slowbench.engine.val_split import PART_CHOICES, build_val_split, evaluate_val, write_val_dump
from slowbench.errors import ArgumentParser, CheckpointError, InputError, run_cli
from slowbench.model_zoo import get_row


def parser() -> ArgumentParser:
    """The command line's options."""
    p = ArgumentParser(prog="python -m slowbench.test", description=__doc__.splitlines()[0])
    p.add_argument("--row", required=True, help="model-zoo row name or reference config name")
    p.add_argument("--ckpt", help="checkpoint (slowbench.train output or official .pth)")
    p.add_argument(
        "--onnx",
        metavar="FILE",
        help="instead of --ckpt: run this slowbench.export ONNX file through onnxruntime "
        "(its stored checkpoint meta gives the data root and pipeline)",
    )
    p.add_argument("--data-root", help="dataset root (default: the checkpoint's, else data/<dataset>)")
    p.add_argument(
        "--dataset",
        metavar="DATASET.toml",
        help="instead of --data-root: a dataset file (default: the one the checkpoint was trained on)",
    )
    p.add_argument(
        "--dump",
        help="write predictions: .csv (AVA; AVA-Kinetics adds the Kinetics part "
        "as <stem>_kinetics.csv) or .pkl (MultiSports); for "
        "MultiSports a directory DIR/ gets the official toolkit's "
        "frame_detections.pkl and video_detections.pkl",
    )
    p.add_argument("--report", metavar="DIR", help="write eval's report.html and PNG plots here")
    p.add_argument(
        "--part",
        choices=PART_CHOICES,
        help="AVA-Kinetics rows: validate on the AVA part, the Kinetics part or both (default: "
        "both when the data root has the Kinetics part, else ava)",
    )
    p.add_argument(
        "--json",
        help="also write the metrics as JSON to this file, with the evaluator's per-class "
        "results (python -m eval.compare A.json B.json compares two runs)",
    )
    p.add_argument("--device", default="auto", help="cpu, cuda or cuda:N (default: cuda when available)")
    add_amp_argument(p)
    p.add_argument(
        "--workers",
        type=at_least(0),
        default=default_workers(),
        help="data-loading worker processes (0: load in the main process; default: the "
        "usable cores less one, at most 16)",
    )
    p.add_argument(
        "--fast-decode",
        action="store_true",
        help="decode with Pillow at reduced scale (up to 1.4x faster; pixels differ from "
        "mmaction2's; default: the checkpoint's training pipeline, else mmaction2's)",
    )
    return p


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments, parsed and checked (one-line InputError for a bad combination)."""
    p = parser()
    args = p.parse_args(argv)
    if (args.ckpt is None) == (args.onnx is None):
        p.error("give exactly one of --ckpt and --onnx")
    if args.onnx and args.amp:
        p.error("--amp applies to PyTorch inference; an ONNX model runs as exported (float32)")
    return args


def resolve_test_data(row, args, meta: dict) -> tuple[pathlib.Path, PipelineConfig]:
    """Data root and test pipeline: explicit --data-root, else the trained-on root, else the default."""
    return _official_root(row, args, meta), test_pipeline(args, meta)


def _official_root(row, args, meta: dict) -> pathlib.Path:
    if args.data_root is not None:
        root = pathlib.Path(args.data_root)
    elif meta.get("data_root") and find_dataset(row, meta["data_root"]):
        root = pathlib.Path(meta["data_root"])
    else:
        root = default_data_root(row)
    if not find_dataset(row, root):
        raise InputError(
            f"{root}: no {row.dataset} dataset in the reference layout (annotations, "
            f"proposals and rawframes/ or, for MultiSports, trainval/); give --data-root"
        )
    return root


def test_pipeline(args, meta: dict, row=None) -> PipelineConfig:
    """The checkpoint's recorded pipeline (its test short side), else the row's reference one."""
    if not meta.get("pipeline"):
        return PipelineConfig.from_row(row or get_row(args.row))
    try:
        return PipelineConfig.from_saved(meta["pipeline"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(
            f"{args.ckpt or args.onnx}: meta['pipeline'] is not a pipeline: {error}"
        ) from None


def test(args) -> dict | None:
    """Runs the command's test; the result dict on rank 0 (None on other ranks)."""
    started = time.perf_counter()
    row = get_row(args.row)
    if args.dump and args.dataset is None and not _may_name_dataset_file(args):
        check_dump_path(row, args.dump)  # before any work; else once the dataset is known
    info = distributed.init_distributed(args.device)
    try:
        return _test(row, args, info, started)
    finally:
        distributed.shutdown(info)


def _may_name_dataset_file(args) -> bool:
    """Whether the checkpoint may have been trained on a dataset file, whose format (not the
    row's) decides the dump's: an ONNX file, or a checkpoint whose meta names one."""
    if args.onnx:
        return True
    try:
        meta = torch.load(args.ckpt, map_location="cpu", weights_only=True, mmap=True).get("meta") or {}
    except Exception:  # noqa: BLE001 - a missing or broken checkpoint is reported when it is read
        return False
    return isinstance(meta, dict) and bool(meta.get("dataset_file"))


def _test(row, args, info, started) -> dict | None:
    if args.onnx:
        from slowbench.deploy.onnx_detector import load_onnx_detector  # onnxruntime: optional

        detector, meta = load_onnx_detector(row, args.onnx)
    else:
        detector, meta = load_trained_detector(row, args.ckpt)
    spec = checkpoint_dataset(
        args.dataset, args.data_root, meta, width=detector.num_classes, source=args.ckpt or args.onnx
    )
    if spec is None:
        data_root, pipeline = resolve_test_data(row, args, meta)
    else:
        data_root, pipeline = spec.root, test_pipeline(args, meta, row)
        check_dataset(spec, ["val"], clip=(row.clip_len, row.frame_interval))
    if args.dump:
        dump_path(args.dump, tubes=spec.format == "tubes" if spec else row.dataset == "multisports")
    if args.fast_decode:
        pipeline = pipeline.replace(fast_decode=True)
    overrides = meta.get("model_overrides") or {}
    columns = checkpoint_columns(meta) if spec is None else None
    val = build_val_split(
        row_for_model(row, overrides), data_root, pipeline, args.part, columns=columns, spec=spec
    )
    detector.to(info.device)
    input_wait = InputWait()
    predictions = predict_split(
        detector,
        val.dataset,
        info,
        collate=collate,
        workers=args.workers,
        desc="test",
        precision=MixedPrecision(args.amp, info.device),
        input_wait=input_wait,
    )
    if not info.is_main:
        return None
    evaluation = evaluate_val(val, predictions, report=args.report)
    metrics = headline(evaluation)
    result = {
        "row": row.name,
        **metrics,
        "samples": len(val),
        "data_root": str(data_root),
        **({"dataset_file": str(spec.path)} if spec is not None else {}),
        "seconds": round(time.perf_counter() - started, 1),
        "device": str(info.device),
        "input": {**input_wait.summary(), "workers": args.workers},
        # The evaluator's --json fields (per_class, ...): eval.compare reads this file as is.
        **evaluation,
    }
    print(input_wait.describe(args.workers))
    print(f"{row.name} on {val.describe()} of {data_root}: {format_metrics(metrics)}")
    if args.dump:
        print(f"wrote {', '.join(map(str, write_val_dump(val, predictions, args.dump)))}")
    if args.json:
        atomic_json(args.json, result)
    return result


def main(argv=None) -> int:
    """The command line; returns the exit status (2 after one ``error:`` line for bad input)."""
    return run_cli(_run, argv)


def _run(argv) -> None:
    test(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
