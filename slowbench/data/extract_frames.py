"""`python -m slowbench.data.extract_frames SRC DST [--fps 30] [--short-side N] [--start S --end E]`

Turns a folder of videos into the `rawframes/<video>/img_%05d.jpg` layout (1-based, as the
reference's ffmpeg scripts write it): `SRC/<sub>/<name>.mp4` -> `DST/<sub>/<name>/img_00001.jpg`.

- Without `--fps` every frame is written in presentation order (frame i -> `img_{i + 1}`), so frame
  numbers are the video's own (MultiSports). With `--fps F` the video is resampled to a constant
  rate as ffmpeg's `fps` filter does (output frame k shows the last frame whose time, rounded to
  the nearest output tick, is <= k), as the AVA scripts' `ffmpeg -r 30` do.
- `--start S --end E` keeps the seconds [S, E) from the video's first frame (AVA: 900 1800);
  with `--fps`, `img_00001` is the frame shown at S.
- `--short-side N` resizes as the data pipeline does (mmcv's size rule, `cv2.resize` bilinear).
- One process per core, a progress bar over videos; each video is written to a temporary folder
  and renamed when complete, so a rerun skips the videos already done. A bad video is reported
  in one line and the others are still extracted (exit status 2 at the end).
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from eval.atomic import atomic_folder
from eval.fork_map import usable_cpus
from slowbench.engine.arguments import at_least, positive_float
from slowbench.errors import ArgumentParser, DataError, InputError, run_cli

from .clip_geometry import inference_geometry
from .resize_crop_flip import resize_crop_flip
from .video_reader import VideoIndex, VideoReader

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v")
JPEG_QUALITY = 95
TIE_SECONDS = 1e-9


def resampled_sources(
    seconds: np.ndarray,
    *,
    fps: float | None,
    start: float = 0.0,
    end: float = float("inf"),
    last_duration: float = 0.0,
) -> np.ndarray:
    """Source frame index (int64 [K]) of every output frame.

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


def extract_video(
    src,
    dst,
    *,
    fps: float | None = None,
    short_side: int | None = None,
    start: float = 0.0,
    end: float = float("inf"),
    quality: int = JPEG_QUALITY,
) -> int:
    """Writes the frames of video `src` as `dst/img_%05d.jpg` (1-based); returns the count.

    `dst` appears only when complete (`eval.atomic.atomic_folder`).
    """
    src, dst = Path(src), Path(dst)
    index = VideoIndex.read(src)
    seconds = index.seconds - index.seconds[0]
    sources = resampled_sources(
        seconds, fps=fps, start=start, end=end, last_duration=index.last_duration * float(index.time_base)
    )
    if sources.size == 0:
        raise DataError(
            f"{src}: no frames between {start:g} s and {end:g} s (the video lasts {seconds[-1]:.2f} s)"
        )
    geometry = None if short_side is None else inference_geometry(*index.size, short_side=short_side)
    written = 0
    with atomic_folder(dst) as partial:
        for position, frame in VideoReader(src, index).iter_frames(int(sources[0])):
            while written < len(sources) and sources[written] == position:
                image = frame if geometry is None else resize_crop_flip([frame], geometry)[0]
                Image.fromarray(image).save(partial / f"img_{written + 1:05d}.jpg", quality=quality)
                written += 1
            if written == len(sources):
                break
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
        "--fps", type=positive_float, help="resample to this constant rate (AVA: 30); default: every frame"
    )
    parser.add_argument(
        "--short-side",
        type=at_least(1),
        metavar="N",
        help="resize to this short side (default: keep the size)",
    )
    parser.add_argument("--start", type=float, default=0.0, help="first second kept (AVA: 900)")
    parser.add_argument(
        "--end", type=float, default=float("inf"), help="seconds before this are kept (AVA: 1800)"
    )
    parser.add_argument("--workers", type=at_least(1), help="processes (default: one per core)")
    parser.add_argument("--quality", type=int, default=JPEG_QUALITY, help="JPEG quality (1-100)")
    args = parser.parse_args(argv)
    if not 0 <= args.start < args.end:
        raise InputError(f"--start {args.start:g} --end {args.end:g}: need 0 <= start < end")
    if not 1 <= args.quality <= 100:
        raise InputError(f"--quality {args.quality}: expected 1..100")
    done, skipped, errors = extract_all(
        args.src,
        args.dst,
        workers=args.workers,
        fps=args.fps,
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
