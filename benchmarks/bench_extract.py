"""Frame extraction speed per core: `slowbench.data.extract_frames` against the reference's command.

    python -m pytest benchmarks/bench_extract.py --benchmark-only

One 1280x720 H.264 video (25 fps with B-frames, a pan over matplotlib's sample photograph, 4 s)
extracted to 30 fps JPEGs at -q:v 1 both ways, in turns: slowbench's `extract_video` in this
process (its CPU seconds: PyAV decodes and encodes on one thread) and the reference's
`ffmpeg -i V -r 30 -q:v 1 img_%05d.jpg` as users run it (the child's CPU seconds, all its threads,
from `getrusage`). Frames/s per core = files written / CPU seconds, best of the rounds. Both must
write the same files (count and decoded pixels). Goal: slowbench at least half ffmpeg's frames/s
per core. Skipped without the ffmpeg binary.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import time
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest
from PIL import Image

from slowbench.data.extract_frames import extract_video
from slowbench.data.video_writer import encode_video

FFMPEG = shutil.which("ffmpeg")
SIZE = (1280, 720)
SOURCE_FPS, SECONDS, OUTPUT_FPS = 25, 4, 30
ROUNDS = 3

pytestmark = pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg binary is not installed")


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    width, height = SIZE
    with Image.open(Path(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")) as photo:
        tall = photo.convert("RGB").resize((width, width * photo.height // photo.width), Image.LANCZOS)
    pan = (
        np.asarray(tall.crop((0, top, width, top + height)))
        for top in (5 * number % (tall.height - height) for number in range(SOURCE_FPS * SECONDS))
    )
    path = tmp_path_factory.mktemp("bench_extract") / "movie.mp4"
    encode_video(path, pan, SOURCE_FPS, options={"crf": "20", "preset": "fast", "bf": "2"})
    return path


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ffmpeg(video: Path, folder: Path) -> float:
    """CPU seconds of the reference command writing into a fresh `folder`."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    before = _children_cpu_seconds()
    command = [FFMPEG, "-nostdin", "-v", "error", "-i", str(video), "-r", str(OUTPUT_FPS), "-q:v", "1"]
    subprocess.run([*command, str(folder / "img_%05d.jpg")], check=True)
    return _children_cpu_seconds() - before


def _slowbench(video: Path, folder: Path) -> float:
    """CPU seconds of `extract_video` (this process) writing into a fresh `folder`."""
    shutil.rmtree(folder, ignore_errors=True)
    start = time.process_time()
    extract_video(video, folder, fps=OUTPUT_FPS)
    return time.process_time() - start


def _same_files(ours: Path, theirs: Path) -> int:
    names = sorted(path.name for path in ours.iterdir())
    assert names == sorted(path.name for path in theirs.iterdir())
    for name in names:
        assert np.array_equal(cv2.imread(str(ours / name)), cv2.imread(str(theirs / name))), name
    return len(names)


def test_extraction_frames_per_second_per_core(benchmark, video, tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "ffmpeg"
    seconds = {"slowbench": [], "ffmpeg": []}
    for round_number in range(ROUNDS):  # in turns, the order alternating
        order = [("slowbench", _slowbench), ("ffmpeg", _ffmpeg)][:: 1 if round_number % 2 else -1]
        for name, run in order:
            seconds[name].append(run(video, ours if name == "slowbench" else theirs))
    files = _same_files(ours, theirs)
    benchmark.pedantic(_slowbench, args=(video, ours), rounds=1, iterations=1)
    ours_fps, ffmpeg_fps = files / min(seconds["slowbench"]), files / min(seconds["ffmpeg"])
    ffmpeg_version = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.split()[2]
    benchmark.extra_info.update(
        {
            "video": f"{SIZE[0]}x{SIZE[1]} H.264, {SOURCE_FPS} fps, {SECONDS} s",
            "files": files,
            "ffmpeg": ffmpeg_version,
            "slowbench_frames_per_cpu_s": round(ours_fps, 1),
            "ffmpeg_frames_per_cpu_s": round(ffmpeg_fps, 1),
            "slowbench_vs_ffmpeg": round(ours_fps / ffmpeg_fps, 3),
        }
    )
    print(
        f"\nextraction of {files} files at 720p, frames per CPU second: slowbench {ours_fps:.1f}, "
        f"ffmpeg {ffmpeg_version} {ffmpeg_fps:.1f} (x{ours_fps / ffmpeg_fps:.2f})"
    )
    assert ours_fps >= 0.5 * ffmpeg_fps
