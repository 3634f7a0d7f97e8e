"""`python -m slowbench.data.synthetic --out DIR [--kind ava|multisports|ava-kinetics|custom|tubes] [--format frames|mp4] [--seed 0] ..."""

from __future__ import annotations

import sys

from slowbench.errors import ArgumentParser, run_cli

from . import FORMATS, KINDS, generate, read_info


def main(argv=None) -> int:
    """The command line; returns the exit status (2 after one `error:` line for bad input)."""
    return run_cli(_run, argv)


def parser() -> ArgumentParser:
    """The command line's options."""
    parser = ArgumentParser(
        prog="python -m slowbench.data.synthetic",
        description="Write a small seeded synthetic action-detection dataset in the AVA or "
        "MultiSports layout (readable by slowbench.data.build_dataset), or as a user's own data "
        "with its dataset file (custom, tubes).",
    )
    parser.add_argument("--out", required=True, help="dataset root to create (must be new or empty)")
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default="ava",
        help="ava, multisports, ava-kinetics: the official layouts; custom (keyframes), tubes "
        "(UCF101-24's layout): a user's own data with its dataset.toml",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="frames",
        help="frames: rawframes/<video>/img_%%05d.jpg; mp4: H.264 videos "
        "(MultiSports: trainval/<sport>/<video>.mp4, read directly; AVA: "
        "videos/<video>.mp4, to extract with slowbench.data.extract_frames; custom: "
        "videos/<video>.mp4 instead of frames/<video>/frame_%%06d.jpg)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--videos", type=int, default=24, help="train videos")
    parser.add_argument("--val-videos", type=int, default=8)
    parser.add_argument(
        "--seconds", type=int, default=10, help="length of each video (30 fps; custom and tubes: 25 fps)"
    )
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--height", type=int, default=96)
    parser.add_argument("--persons", type=int, nargs=2, default=(2, 4), metavar=("MIN", "MAX"))
    parser.add_argument("--fps", type=int, help="custom and tubes: the frame rate (default 25)")
    return parser


def _run(argv) -> None:
    args = parser().parse_args(argv)
    root = generate(
        args.out,
        args.kind,
        args.seed,
        videos=args.videos,
        val_videos=args.val_videos,
        seconds=args.seconds,
        width=args.width,
        height=args.height,
        persons=tuple(args.persons),
        fmt=args.format,
        fps=args.fps,
    )
    info = read_info(root)
    print(
        f"synthetic {args.kind} dataset in {root}: classes {info['classes']}, "
        f"GT boxes {info['gt_boxes']}, chance-level val frame-mAP "
        f"{info['chance_frame_mAP']:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
