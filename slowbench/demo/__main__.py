"""``python -m slowbench.demo --row ROW --ckpt CKPT|--onnx FILE --video IN.mp4 --out OUT.mp4|OUT.gif [options]``

Runs a trained detector on a video and draws its detections (boxes, label names, scores; the
ground truth too with ``--gt``) on the frames. Person boxes come from ``--boxes`` (a CSV, see
``slowbench.demo.boxes``) or, for a video of a dataset split, from that split's proposal file.
"""

import argparse
import pathlib
import sys

import numpy as np
import torch

from eval.atomic import atomic_json
from eval.ava.io import read_label_map
from slowbench.data import default_data_root
from slowbench.data.dataset_files import dataset_files
from slowbench.data.synthetic import INFO_FILE, read_info
from slowbench.data.video_reader import VideoReader
from slowbench.engine.arguments import at_least, positive_float, unit_float
from slowbench.engine.checkpoint_data import checkpoint_columns, checkpoint_dataset
from slowbench.engine.run_setup import row_for_model
from slowbench.engine.trained_detector import load_trained_detector
from slowbench.errors import ArgumentParser, InputError, run_cli
from slowbench.model_zoo import get_row

from . import DemoSettings, output_size, plan_keyframes, run_demo
from .boxes import above_threshold, dataset_boxes, read_boxes_csv, split_boxes
from .render import OUTPUT_SUFFIXES, write_output


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m slowbench.demo", description=__doc__.splitlines()[0])
    p.add_argument("--row", required=True, help="model-zoo row name or reference config name")
    p.add_argument("--ckpt", help="checkpoint (slowbench.train output or official)")
    p.add_argument(
        "--onnx",
        metavar="FILE",
        help="instead of --ckpt: run this slowbench.export ONNX file through onnxruntime",
    )
    p.add_argument("--video", required=True, help="input video (mp4, mkv, webm, avi, ...)")
    p.add_argument("--out", required=True, help="output .mp4 or .gif")
    p.add_argument(
        "--boxes",
        help="person boxes CSV: frame_or_seconds,x1,y1,x2,y2[,score] "
        "(default: the dataset split's proposals for this video)",
    )
    p.add_argument("--gt", action="store_true", help="also draw the split's ground truth")
    p.add_argument(
        "--data-root",
        help="dataset root for proposals / ground truth (default: the checkpoint's, else data/<dataset>)",
    )
    p.add_argument(
        "--dataset",
        metavar="DATASET.toml",
        help="instead of --data-root: a dataset file for proposals, ground truth and label names "
        "(default: the one the checkpoint was trained on)",
    )
    p.add_argument(
        "--video-id",
        help="the video's name in the split (default: AVA <stem>, MultiSports <folder>/<stem>.mp4)",
    )
    p.add_argument(
        "--label-map",
        help="label names: pbtxt or 'id: name' lines (default: the dataset's); only these are drawn",
    )
    p.add_argument("--action-thr", type=float, default=0.5, help="show labels scoring above this")
    p.add_argument("--topk", type=at_least(1), default=3, help="at most this many labels a box")
    p.add_argument(
        "--box-thr",
        type=unit_float,
        default=0.9,
        help="person boxes scoring at most this are dropped (mmaction2's det_score_thr; default 0.9)",
    )
    p.add_argument("--predict-stepsize", type=at_least(1), default=8, help="a keyframe every N frames")
    p.add_argument(
        "--output-stepsize",
        type=at_least(1),
        default=4,
        help="an output frame every N frames (must divide --predict-stepsize)",
    )
    p.add_argument("--output-fps", type=positive_float, default=6.0)
    p.add_argument(
        "--short-side",
        type=at_least(16),
        help="network input short side (default: the checkpoint's test size, else 256)",
    )
    p.add_argument(
        "--out-short-side",
        type=at_least(16),
        help="resize the output frames to this short side (default: the video's size)",
    )
    p.add_argument("--device", default="auto", help="cpu, cuda or cuda:N (default: cuda if present)")
    p.add_argument("--json", help="write every detection (box, every score, labels) here")
    args = p.parse_args(argv)
    if (args.ckpt is None) == (args.onnx is None):
        p.error("give exactly one of --ckpt and --onnx")
    if args.predict_stepsize % args.output_stepsize:
        p.error(
            f"--output-stepsize {args.output_stepsize} must divide --predict-stepsize {args.predict_stepsize}"
        )
    if pathlib.Path(args.out).suffix.lower() not in OUTPUT_SUFFIXES:
        p.error(f"--out {args.out}: the extension must be one of {', '.join(OUTPUT_SUFFIXES)}")
    return args


def _data_root(row, args, meta: dict) -> pathlib.Path:
    """--data-root, else the checkpoint's training data root when it still exists, else the
    row's default root."""
    if args.data_root is not None:
        return pathlib.Path(args.data_root)
    if meta.get("data_root") and pathlib.Path(meta["data_root"]).is_dir():
        return pathlib.Path(meta["data_root"])
    return default_data_root(row)


def _video_id(row, video: pathlib.Path, given: str | None, spec) -> str:
    """--video-id, else the file's stem (MultiSports: `<sport>/<stem>.mp4`)."""
    if given is not None:
        return given
    if spec is None and row.dataset == "multisports":
        return f"{video.parent.name}/{video.stem}.mp4"
    return video.stem


def _split_source(row, args, meta, video_id, fps, num_classes, *, ground_truth, spec=None):
    """The boxes of the video in the val or train split: a dataset file's, or the data root's."""
    what = "ground truth" if ground_truth else "proposals"
    if spec is not None:
        for split in ("val", "train"):
            boxes = (
                dataset_boxes(spec, split, video_id, ground_truth=ground_truth)
                if split in spec.splits
                else None
            )
            if boxes is not None:
                return boxes
        raise InputError(
            f"{args.video}: video {video_id!r} is in no split of {spec.path} (give --video-id or --boxes)"
        )
    root = _data_root(row, args, meta)
    searched = []
    for split in ("val", "train"):
        files = dataset_files(row, root, split)
        source = files.annotations if ground_truth else files.proposals
        if not source.is_file():
            continue
        searched.append(str(source))
        boxes = split_boxes(
            files,
            video_id,
            dataset=row.dataset,
            fps=fps,
            num_classes=num_classes,
            ground_truth=ground_truth,
            columns=checkpoint_columns(meta),
        )
        if boxes is not None:
            return boxes
    if not searched:
        raise InputError(
            f"{args.video}: no --boxes, and no {row.dataset} {what} files at {root} "
            f"(give --boxes CSV or --data-root; no person detector is bundled)"
        )
    raise InputError(
        f"{args.video}: video {video_id!r} has no {what} in {' or '.join(searched)} "
        f"(give --video-id or --boxes)"
    )


def _head_columns(meta, spec):
    """The head's label ids (`LabelColumns`), or None where column = label id."""
    return spec.columns if spec is not None else checkpoint_columns(meta)


def _label_names(row, args, meta, spec) -> dict:
    """Head column -> label name (--label-map's names of the columns' label ids, else the data's)."""
    columns = _head_columns(meta, spec)
    if args.label_map:
        names = read_label_map(args.label_map)
    elif spec is not None:
        names = spec.labels
    else:
        names = _official_names(row, args, meta)
    if columns is None:
        return names
    return {column: names[label] for column, label in enumerate(columns.label_ids()) if label in names}


def _column_ids(columns) -> dict:
    """Column -> label id of the head (empty where column = label id)."""
    if columns is None:
        return {}
    return {column: int(label) for column, label in enumerate(columns.label_ids()) if label >= 0}


def _official_names(row, args, meta) -> dict:
    root = _data_root(row, args, meta)
    if (root / INFO_FILE).is_file():  # synthetic data: its action names (AVA ids start at 1)
        first = _first_label_column(row, None)
        return {first + i: name for i, name in enumerate(read_info(root)["classes"])}
    label_map = dataset_files(row, root, "val").label_map
    return read_label_map(label_map) if label_map is not None and label_map.is_file() else {}


def _first_label_column(row, spec) -> int:
    """0 for tube datasets (MultiSports), 1 for keyframe datasets (AVA's column 0 is background)."""
    if spec is not None:
        return spec.columns.first
    return 0 if row.dataset == "multisports" else 1


def drawn_columns(first: int, num_classes: int, names: dict) -> np.ndarray:
    """The score columns whose labels may be drawn: actions (from column `first`; AVA's column 0
    is background) named in the label map, as the reference demo draws only its label map's
    classes (AVA: 60 of 80); every action when no names are known."""
    actions = np.arange(first, num_classes)
    named = actions[np.isin(actions, list(names))]
    return named if len(named) else actions


def demo(args) -> int:
    row = get_row(args.row)
    if args.onnx:
        from slowbench.deploy.onnx_detector import load_onnx_detector  # onnxruntime: optional

        detector, meta = load_onnx_detector(row, args.onnx)  # runs on the CPU whatever --device
    else:
        detector, meta = load_trained_detector(row, args.ckpt)
    device = torch.device(
        args.device if args.device != "auto" else "cuda" if torch.cuda.is_available() else "cpu"
    )
    detector.to(device).eval()
    video = pathlib.Path(args.video)
    reader = VideoReader(video)
    fps = 1 / float(np.median(np.diff(reader.index.seconds))) if len(reader) > 1 else 1.0
    num_classes = row_for_model(row, meta.get("model_overrides") or {}).num_classes
    spec = checkpoint_dataset(
        args.dataset, args.data_root, meta, width=num_classes, source=args.ckpt or args.onnx
    )
    video_id = _video_id(row, video, args.video_id, spec)
    sources = dict(fps=fps, num_classes=num_classes, spec=spec)
    if args.boxes:
        boxes = read_boxes_csv(args.boxes, fps=fps, size=reader.index.size)
    else:
        boxes = _split_source(row, args, meta, video_id, ground_truth=False, **sources)
    boxes, dropped = above_threshold(boxes, args.box_thr)
    truth = _split_source(row, args, meta, video_id, ground_truth=True, **sources) if args.gt else None
    plan = plan_keyframes(
        len(reader),
        clip_len=row.clip_len,
        frame_interval=row.frame_interval,
        predict_stepsize=args.predict_stepsize,
        output_stepsize=args.output_stepsize,
        source=str(video),
    )
    pipeline = meta.get("pipeline") or {}
    names = _label_names(row, args, meta, spec)
    settings = DemoSettings(
        short_side=args.short_side or pipeline.get("test_short_side", 256),
        action_thr=args.action_thr,
        topk=args.topk,
        label_columns=drawn_columns(_first_label_column(row, spec), num_classes, names),
        names=names,
        label_ids=_column_ids(_head_columns(meta, spec)),
        max_gap=max(args.predict_stepsize, boxes.spacing) / 2,
        out_size=output_size(*reader.index.size, args.out_short_side),
        device=device,
    )
    detections: list = []
    frames = run_demo(detector, reader, plan, boxes, truth, settings, detections)
    count = write_output(pathlib.Path(args.out), frames, args.output_fps)
    if args.json:
        atomic_json(
            args.json,
            {
                "video": str(video),
                "video_id": video_id,
                "row": row.name,
                "fps": fps,
                "frames": len(reader),
                "keyframes": plan.keyframes.tolist(),
                "boxes_from": boxes.source,
                "detections": detections,
            },
        )
    print(
        f"wrote {args.out}: {count} frames, {len(plan.keyframes)} keyframes, "
        f"{len(detections)} scored boxes (boxes from {boxes.source}; {dropped} at or below "
        f"--box-thr {args.box_thr:g} dropped); labels drawn from {len(settings.label_columns)} "
        f"of {num_classes} score columns (those the label map names)"
    )
    return 0


def main(argv=None) -> int:
    """The command line; returns the exit status (2 after one ``error:`` line for bad input)."""
    return run_cli(lambda a: demo(parse_args(a)), argv)


if __name__ == "__main__":
    sys.exit(main())
