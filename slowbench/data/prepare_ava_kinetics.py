"""Prepare AVA-Kinetics: ``python -m slowbench.data.prepare_ava_kinetics --release ava_kinetics_v1_0
--videos kinetics700/ --ava-root data/ava [--out data/ava_kinetics]``.

Writes the layout the AVA-Kinetics rows read (``build_dataset`` and ``slowbench.test --part``):

- ``videos/<youtube_id>_<start>_<end>.mp4``: every annotated Kinetics video cut to its keyframes'
  window at 30 fps (see ``kinetics_clips``), read as videos (no frame extraction);
- ``rawframes/<ava video>``: links to the AVA frame folders;
- ``annotations/``: the AVA annotations; ``ava_train_v2.2.csv`` and the train proposals merged with
  the Kinetics train part (Kinetics rows first, as the reference merges them), in the reference's
  converted form ``<clip>,<whole seconds>,x1,y1,x2,y2,label,-1``; the Kinetics part of the val
  split as ``kinetics_val.csv`` (same form, the seconds as released, ``<clip>,<seconds>`` for a
  keyframe without actions), ``kinetics_val_gt.csv`` (the release's lines, what the official
  evaluator reads) and ``kinetics_dense_proposals_val.pkl``;
- ``prepare_report.json``: what was kept and skipped (missing, short or unreadable videos).

Missing videos are common (gone from YouTube): their keyframes are skipped and counted. One
process per core cuts the clips, with a progress bar; a rerun keeps the clips already cut.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from eval.atomic import atomic_bytes, atomic_json, atomic_pickle
from eval.fork_map import usable_cpus

from ..engine.arguments import at_least
from ..errors import ArgumentParser, run_cli
from .annotations import read_proposals
from .dataset_files import KINETICS_VIDEOS, ava_files, kinetics_val_files
from .errors import DataError
from .kinetics_clips import ShortVideo, cut_clip, find_kinetics_videos, plan_clips, read_release_csv

SPLITS = ("train", "val")
REPORT_NAME = "prepare_report.json"


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(
        prog="python -m slowbench.data.prepare_ava_kinetics", description=__doc__.splitlines()[0]
    )
    p.add_argument(
        "--release",
        required=True,
        type=Path,
        help="the annotation release folder (kinetics_{train,val}_v1.0.csv)",
    )
    p.add_argument(
        "--videos",
        required=True,
        type=Path,
        action="append",
        help="folder of Kinetics-700 videos <youtube_id>_<start:06d>_<end:06d>.mp4, "
        "searched recursively (repeatable)",
    )
    p.add_argument("--ava-root", required=True, type=Path, help="a prepared AVA v2.2 root")
    p.add_argument("--out", type=Path, default=Path("data/ava_kinetics"))
    p.add_argument(
        "--proposals-train",
        type=Path,
        metavar="PKL",
        help="Kinetics train person proposals: {'<youtube_id>,<seconds:04d>': [N, 5]}",
    )
    p.add_argument("--proposals-val", type=Path, metavar="PKL", help="the same for val")
    p.add_argument(
        "--workers",
        type=at_least(1),
        default=usable_cpus(),
        help="processes cutting clips (default: one per core)",
    )
    return p.parse_args(argv)


def prepare(args) -> dict:
    """Writes the layout under ``args.out``; returns the report (also ``prepare_report.json``)."""
    _check_inputs(args)
    out = args.out
    rows = {split: read_release_csv(args.release / f"kinetics_{split}_v1.0.csv") for split in SPLITS}
    videos = {}
    for folder in args.videos:
        for youtube_id, found in find_kinetics_videos(folder).items():
            videos.setdefault(youtube_id, []).extend(found)
    _copy_ava_annotations(args.ava_root / "annotations", out / "annotations")
    plans, report = {}, {}
    for split in SPLITS:
        keyframes = {}
        for row in rows[split]:
            keyframes.setdefault(row.youtube_id, set()).add(row.seconds)
        plans[split], missing, outside = plan_clips(keyframes, videos)
        report[split] = {
            "keyframes": sum(len(s) for s in keyframes.values()),
            "videos": len(keyframes),
            "missing_videos": sorted(missing),
            "outside_every_window": [f"{v},{s}" for v, s in outside],
        }
    failed = _cut_every_clip(
        {plan.name: plan for split in SPLITS for plan in plans[split].values()},
        out / KINETICS_VIDEOS,
        args.workers,
    )
    for split in SPLITS:
        kept = {key: plan for key, plan in plans[split].items() if plan.name not in failed}
        report[split].update(_write_split(args, split, rows[split], kept))
        report[split]["short_videos"] = sorted(
            {plan.source.path.name for plan in plans[split].values() if failed.get(plan.name) == "short"}
        )
        report[split]["unreadable_videos"] = sorted(
            {
                plan.source.path.name
                for plan in plans[split].values()
                if failed.get(plan.name) not in (None, "short")
            }
        )
    _link_ava_frames(args.ava_root, out)
    atomic_json(out / REPORT_NAME, report)
    return report


def _check_inputs(args) -> None:
    for split in SPLITS:
        path = args.release / f"kinetics_{split}_v1.0.csv"
        if not path.is_file():
            raise DataError(f"--release {args.release}: missing {path.name}")
    for folder in args.videos:
        if not folder.is_dir():
            raise DataError(f"--videos {folder}: not a folder")
    for split in SPLITS:
        files = ava_files(args.ava_root, split, "2.2")
        for path in (files.annotations, files.proposals, files.label_map):
            if not path.is_file():
                raise DataError(f"--ava-root {args.ava_root}: missing {path.relative_to(args.ava_root)}")
    if not (args.ava_root / "rawframes").is_dir():
        raise DataError(f"--ava-root {args.ava_root}: missing rawframes/")
    for path in (args.proposals_train, args.proposals_val):
        if path is not None and not path.is_file():
            raise DataError(f"{path}: proposals file not found")


def _cut_every_clip(plans: dict, folder: Path, workers: int) -> dict:
    """Cuts the clips not yet there -> {clip name: "short" or the error} for those that failed."""
    todo = {name: plan for name, plan in plans.items() if not (folder / f"{name}.mp4").is_file()}
    failed = {}
    with tqdm(
        total=len(plans), initial=len(plans) - len(todo), desc="cutting Kinetics clips", unit="clip"
    ) as bar:
        with ProcessPoolExecutor(max(1, min(workers, len(todo)))) as pool:
            futures = {
                pool.submit(_cut_one, plan, folder / f"{name}.mp4"): name for name, plan in todo.items()
            }
            for future in as_completed(futures):
                problem = future.result()
                if problem is not None:
                    failed[futures[future]] = problem
                bar.update(1)
    return failed


def _cut_one(plan, out: Path):
    """None when cut; "short" or a one-line reason when the source cannot give the clip."""
    try:
        cut_clip(plan, out)
    except ShortVideo:
        return "short"
    except DataError as error:
        return str(error)
    return None


def _write_split(args, split: str, rows: list, plans: dict) -> dict:
    """Annotation files of one split from the rows whose keyframe got a clip; returns counts."""
    out = args.out / "annotations"
    out.mkdir(parents=True, exist_ok=True)
    converted, official = [], []
    for row in rows:
        plan = plans.get((row.youtube_id, row.seconds))
        if plan is None or (split == "train" and row.is_empty):
            continue  # the reference trains on boxes only
        seconds = int(row.seconds) if split == "train" else row.fields[1]
        box = (
            ""
            if row.is_empty
            else "," + ",".join(f"{float(v):.3f}" for v in row.fields[2:6]) + f",{int(row.fields[6])},-1"
        )
        converted.append(f"{plan.name},{seconds}{box}\n")
        official.append(",".join(row.fields) + "\n")
    proposals_arg = args.proposals_train if split == "train" else args.proposals_val
    proposals = read_proposals(proposals_arg) if proposals_arg is not None else {}
    ava = ava_files(args.ava_root, split, "2.2")
    if split == "train":
        target = ava_files(args.out, split, "2.2")
        atomic_bytes(target.annotations, "".join(converted).encode() + ava.annotations.read_bytes())
        proposals.update(read_proposals(ava.proposals))
        atomic_pickle(target.proposals, proposals)
    else:
        target = kinetics_val_files(args.out)
        atomic_bytes(target.annotations, "".join(converted).encode())
        atomic_bytes(target.gt_csv, "".join(official).encode())
        atomic_pickle(target.proposals, proposals)
    return {
        "kept_rows": len(converted),
        "kept_keyframes": len(set(plans)),
        "clips": len({plan.name for plan in plans.values()}),
        "proposals": "given" if proposals_arg is not None else "none (whole frame)",
    }


def _copy_ava_annotations(source: Path, target: Path) -> None:
    """Copies AVA's annotation files that are not merged (unchanged files are not copied again)."""
    merged = {
        ava_files(source.parent, "train", "2.2").annotations.name,
        ava_files(source.parent, "train", "2.2").proposals.name,
    }
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        destination = target / path.name
        if path.name in merged or not path.is_file():
            continue
        stat = path.stat()
        if (
            destination.is_file()
            and destination.stat().st_size == stat.st_size
            and destination.stat().st_mtime == stat.st_mtime
        ):
            continue
        shutil.copy2(path, destination)


def _link_ava_frames(ava_root: Path, out: Path) -> None:
    """`out/rawframes/<video>` -> the AVA frame folder (a link, as the reference's softlink step)."""
    frames = out / "rawframes"
    frames.mkdir(parents=True, exist_ok=True)
    for folder in (ava_root / "rawframes").iterdir():
        link = frames / folder.name
        if not link.exists() and not link.is_symlink():
            link.symlink_to(folder.resolve(), target_is_directory=True)


def summary(report: dict) -> list[str]:
    """One line per split, then one warning line per kind of skip (naming the first case)."""
    lines = []
    for split in SPLITS:
        part = report[split]
        lines.append(
            f"{split}: {part['kept_keyframes']} of {part['keyframes']} keyframes kept in "
            f"{part['clips']} clips ({part['kept_rows']} rows; proposals: {part['proposals']})"
        )
        for kind, what in (
            ("missing_videos", "videos missing"),
            ("short_videos", "videos shorter than their annotated window"),
            ("unreadable_videos", "videos unreadable"),
            ("outside_every_window", "keyframes outside every video's window"),
        ):
            if part[kind]:
                lines.append(
                    f"warning: {split}: {len(part[kind])} {what} (first: {part[kind][0]}); "
                    f"their keyframes are skipped"
                )
    return lines


def main(argv=None) -> int:
    """The command line; returns the exit status (2 after one ``error:`` line for bad input)."""
    return run_cli(_run, argv)


def _run(argv) -> None:
    args = parse_args(argv)
    report = prepare(args)
    for line in summary(report):
        print(line, file=sys.stderr if line.startswith("warning:") else sys.stdout)
    print(f"wrote {args.out} (details: {args.out / REPORT_NAME})")


if __name__ == "__main__":
    sys.exit(main())
