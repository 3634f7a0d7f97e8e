"""`python -m slowbench.data.extract_frames SRC DST [--fps 30] [--short-side N] [--start S --end E]`

Turns a folder of videos into the `rawframes/<video>/img_%05d.jpg` layout (1-based, as the
reference's ffmpeg scripts write it): `SRC/<sub>/<name>.mp4` -> `DST/<sub>/<name>/img_00001.jpg`.
The files are what the reference's `ffmpeg -i V -r 30 -q:v 1 img_%05d.jpg` writes.

- Without `--fps` every frame is written in presentation order (frame i -> `img_{i + 1}`), so frame
  numbers are the video's own (MultiSports). With `--fps F` the frames are those of
  `ffmpeg -i V -r F` (`ffmpeg_rate`: ffmpeg's video sync for a constant output rate); with
  `--fps-rule filter` those of ffmpeg's `fps` filter (`-vf fps=F`) instead.
- `--start S --end E` keeps what `ffmpeg -ss S -t (E - S) -i V` keeps (AVA's `cut_videos.sh`:
  900 1801): seconds from the file's start time; with `--fps-rule filter` or without `--fps`,
  seconds [S, E) from the first frame (`img_00001` is then the frame shown at S).
- JPEGs: FFmpeg's mjpeg encoder at ffmpeg's `-q:v Q` (`--quality`, 1-31, default the reference's 1),
  from the planes the ffmpeg command encodes (`jpeg_writer`).
- `--short-side N` resizes as the data pipeline does (mmcv's size rule, `cv2.resize` bilinear).
- One process per core, a progress bar over videos; each video is written to a temporary folder
  and renamed when complete, so a rerun skips the videos already done. A bad video is reported
  in one line and the others are still extracted (exit status 2 at the end).
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from tqdm import tqdm

from eval.atomic import atomic_folder
from eval.fork_map import usable_cpus
from slowbench.engine.arguments import at_least, frame_rate, int_between
from slowbench.errors import ArgumentParser, DataError, InputError, run_cli

from .clip_geometry import inference_geometry
from .ffmpeg_rate import rate_sources
from .jpeg_writer import QUALITY_RANGE, JpegWriter
from .resize_crop_flip import resize_crop_flip
from .video_reader import VideoIndex, VideoReader

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v")
FPS_RULES = ("r", "filter")  # ffmpeg's -r output option (the reference's), its fps filter
TIE_SECONDS = 1e-9


def resampled_sources(
    seconds: np.ndarray,
    *,
    fps: float | None,
    start: float = 0.0,
    end: float = float("inf"),
    last_duration: float = 0.0,
) -> np.ndarray:
    """Source frame index (int64 [K]) of every output frame, by ffmpeg's `fps` filter rule
    (`--fps-rule filter`; `ffmpeg_rate` has the `-r` rule).

    seconds: float64 [N] presentation times, increasing, counted from the first frame;
    last_duration: how long the last frame is shown (s). fps None: the frames with start <= time
    < end. fps F (ffmpeg's `fps` filter, round=near): output k is shown at start + k / F and takes
    the last frame whose time is < start + (k + 0.5) / F (else the first frame); there are
    round((stop - start) F) outputs, stop = min(end, seconds[-1] + last_duration).
    """
    # Times within TIE_SECONDS of a bound count as on it (float noise must not break a tie).
    if fps is None:
        return np.flatnonzero((seconds >= start - TIE_SECONDS) & (seconds < end - TIE_SECONDS))
    stop = min(end, seconds[-1] + last_duration)
    count = max(0, int(np.floor((stop - start) * fps + 0.5 + TIE_SECONDS)))
    half_ticks = start + (np.arange(count) + 0.5) / fps
    return np.maximum(np.searchsorted(seconds, half_ticks - TIE_SECONDS, side="left") - 1, 0)


def output_sources(
    index: VideoIndex,
    *,
    fps: float | Fraction | None,
    fps_rule: str = "r",
    start: float | None = None,
    end: float = float("inf"),
) -> np.ndarray:
    """Source frame (int64 [K]) of every output file: `ffmpeg [-ss start] [-t end - start] -i V
    -r fps` (`fps_rule` "r"; fps read as ffmpeg reads its text: 29.97 is 2997/100), else
    `resampled_sources` (the fps filter, or every frame when fps is None)."""
    if fps is not None and fps_rule == "r":
        duration = None if end == float("inf") else end - (start or 0.0)
        return rate_sources(index, Fraction(str(fps)), start=start, duration=duration)
    return resampled_sources(
        index.seconds - index.seconds[0],
        fps=None if fps is None else float(fps),
        start=start or 0.0,
        end=end,
        last_duration=index.last_duration * float(index.time_base),
    )


def extract_video(
    src,
    dst,
    *,
    fps: float | Fraction | None = None,
    fps_rule: str = "r",
    short_side: int | None = None,
    start: float | None = None,
    end: float = float("inf"),
    quality: int = QUALITY_RANGE[0],
) -> int:
    """Writes the frames of video `src` as `dst/img_%05d.jpg` (1-based; see `output_sources`, and
    `JpegWriter` for `quality`); returns the count.

    `dst` appears only when complete (`eval.atomic.atomic_folder`).
    """
    src, dst = Path(src), Path(dst)
    index = VideoIndex.read(src)
    sources = output_sources(index, fps=fps, fps_rule=fps_rule, start=start, end=end)
    if sources.size == 0:
        seconds = index.seconds[-1] - index.seconds[0]
        raise DataError(
            f"{src}: no frames between {start or 0:g} s and {end:g} s (the video lasts {seconds:.2f} s)"
        )
    geometry = None if short_side is None else inference_geometry(*index.size, short_side=short_side)
    writer = JpegWriter(quality)
    written = 0
    with atomic_folder(dst) as partial:
        for frame, copies in VideoReader(src, index).iter_picked(sources):
            if geometry is not None:
                image = resize_crop_flip([frame.to_ndarray(format="rgb24")], geometry)[0]
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            jpeg = writer.encode(frame)  # repeats of a frame are the same file
            for number in range(written + 1, written + copies + 1):
                (partial / f"img_{number:05d}.jpg").write_bytes(jpeg)
            written += copies
    return written


def find_videos(src: Path) -> list[Path]:
    """The video files under folder `src` (recursively, sorted), or `src` itself if a file."""
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise InputError(f"{src}: no such folder of videos")
    return sorted(
        path
        for path in src.rglob("*")
        if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file() and not path.name.startswith(".")
    )


def _job(src: Path, dst: Path, options: dict) -> tuple[Path, int | str]:
    try:
        return src, extract_video(src, dst, **options)
    except InputError as error:
        return src, str(error)


def extract_all(
    src, dst, *, workers: int | None = None, progress: bool = True, **options
) -> tuple[int, int, list[str]]:
    """Extracts every video under `src` into `dst/<relative path without suffix>/`.

    Returns (videos extracted, videos skipped because their folder exists, one error line per
    failed video). `options` go to `extract_video`.
    """
    src, dst = Path(src), Path(dst)
    videos = find_videos(src)
    if not videos:
        raise InputError(f"{src}: no video files ({', '.join(VIDEO_SUFFIXES)})")
    root = src if src.is_dir() else src.parent
    targets = {video: dst / video.relative_to(root).with_suffix("") for video in videos}
    todo = [video for video, target in targets.items() if not target.is_dir()]
    workers = max(1, min(workers or usable_cpus(), len(todo) or 1))
    done, errors = 0, []
    with tqdm(total=len(todo), desc="extract", unit="video", disable=not progress) as bar:
        if workers == 1:
            results = (_job(video, targets[video], options) for video in todo)
        else:
            # fork: spawn would re-run a caller's unguarded script; children only decode and encode.
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            results = (
                future.result()
                for future in as_completed(
                    [pool.submit(_job, video, targets[video], options) for video in todo]
                )
            )
        try:
            for _, outcome in results:
                if isinstance(outcome, str):
                    errors.append(outcome)
                else:
                    done += 1
                bar.update(1)
        finally:
            if workers > 1:
                pool.shutdown(cancel_futures=True)
    return done, len(videos) - len(todo), errors


def _run(argv) -> None:
    parser = ArgumentParser(
        prog="python -m slowbench.data.extract_frames", description=__doc__.splitlines()[0].strip("`")
    )
    parser.add_argument("src", help="folder of videos (searched recursively) or one video")
    parser.add_argument("dst", help="output folder (e.g. data/ava/rawframes)")
    parser.add_argument(
        "--fps",
        type=frame_rate,
        help="a constant output rate, as ffmpeg's -r (AVA: 30); default: every frame",
    )
    parser.add_argument(
        "--fps-rule",
        choices=FPS_RULES,
        default="r",
        help="r: the frames of ffmpeg's -r output option (the reference's recipes); "
        "filter: those of ffmpeg's fps filter (-vf fps=F)",
    )
    parser.add_argument(
        "--short-side",
        type=at_least(1),
        metavar="N",
        help="resize to this short side (default: keep the size)",
    )
    parser.add_argument("--start", type=float, help="ffmpeg's -ss: first second kept (AVA: 900)")
    parser.add_argument(
        "--end", type=float, default=float("inf"), help="seconds before this are kept (AVA: 1801)"
    )
    parser.add_argument("--workers", type=at_least(1), help="processes (default: one per core)")
    parser.add_argument(
        "--quality",
        type=int_between(*QUALITY_RANGE),
        default=QUALITY_RANGE[0],
        help="JPEG quality as ffmpeg's -q:v: 1 (best, the reference's) to 31",
    )
    args = parser.parse_args(argv)
    if not 0 <= (args.start or 0.0) < args.end:
        raise InputError(f"--start {args.start or 0:g} --end {args.end:g}: need 0 <= start < end")
    done, skipped, errors = extract_all(
        args.src,
        args.dst,
        workers=args.workers,
        fps=args.fps,
        fps_rule=args.fps_rule,
        short_side=args.short_side,
        start=args.start,
        end=args.end,
        quality=args.quality,
    )
    print(f"extracted {done} videos into {args.dst}" + (f"; {skipped} already there" if skipped else ""))
    if errors:
        for line in errors[:-1]:
            print(f"error: {line}", file=sys.stderr)
        raise InputError(f"{errors[-1]} ({len(errors)} videos failed; rerun to retry them)")


def main(argv=None) -> int:
    """The command line; returns the exit status (2 after `error:` lines for bad input)."""
    return run_cli(_run, argv)


if __name__ == "__main__":
    sys.exit(main())
