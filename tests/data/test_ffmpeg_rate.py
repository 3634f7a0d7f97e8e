"""`--fps F` picks the frames of the reference's `ffmpeg [-ss S -t D] -i V -r F -q:v 1 img_%05d.jpg`:
checked against the ffmpeg binary file by file (which source frame each file shows, and how many
files) on constant-rate videos at the frame rates of AVA and Kinetics, a variable-rate video,
videos whose first frame is not at 0, and -ss/-t windows as `cut_videos.sh` makes them."""

from fractions import Fraction

import numpy as np
import pytest
from ffmpeg_videos import (
    constant_rate_stamps,
    ffmpeg_jpegs,
    jpeg_numbers,
    needs_ffmpeg,
    write_numbered_video,
)

from slowbench.data.extract_frames import extract_video
from slowbench.data.ffmpeg_rate import video_sync

SOURCE_RATES = ["12", "15", "24000/1001", "24", "25", "28", "30000/1001", "30", "50", "60"]


def _same_files_as_ffmpeg(tmp_path, video, rate, *, start=None, end=float("inf"), rule_args=()):
    """(ffmpeg's source frame per file, slowbench's) for `--fps rate [--start --end]`."""
    before = [] if start is None else ["-ss", start]
    if end != float("inf"):
        before += ["-t", end - (start or 0)]
    expected = jpeg_numbers(ffmpeg_jpegs(video, tmp_path / "ffmpeg", before=before, after=("-r", rate)))
    count = extract_video(video, tmp_path / "ours", fps=Fraction(rate), start=start, end=end)
    got = jpeg_numbers(sorted((tmp_path / "ours").glob("img_*.jpg")))
    assert count == len(got)
    return expected, got


@needs_ffmpeg
@pytest.mark.parametrize("audio", [False, True], ids=["video-only", "with-audio"])
@pytest.mark.parametrize("source_rate", SOURCE_RATES)
def test_constant_rate_videos_to_30_fps(tmp_path, source_rate, audio):
    # A video-only file and a movie with a soundtrack are synchronised differently by ffmpeg
    # (its "vscfr" and "cfr" modes); both must match.
    video = tmp_path / "video.mp4"
    write_numbered_video(video, *constant_rate_stamps(Fraction(source_rate), 3), audio=audio)
    expected, got = _same_files_as_ffmpeg(tmp_path, video, "30")
    assert got == expected


@needs_ffmpeg
@pytest.mark.parametrize("rate", ["25", "30000/1001", "29.97", "10"])
@pytest.mark.parametrize("source_rate", ["24000/1001", "30", "60"])
def test_other_output_rates(tmp_path, source_rate, rate):
    video = tmp_path / "video.mp4"
    write_numbered_video(video, *constant_rate_stamps(Fraction(source_rate), 3), audio=True)
    expected, got = _same_files_as_ffmpeg(tmp_path, video, rate)
    assert got == expected


@needs_ffmpeg
@pytest.mark.parametrize("audio", [False, True], ids=["video-only", "with-audio"])
@pytest.mark.parametrize("rate", ["30", "10", "60"])
def test_variable_rate_video(tmp_path, rate, audio):
    stamps = np.concatenate([[0], np.cumsum(np.random.default_rng(1).integers(10, 90, 80))])
    video = tmp_path / "vfr.mp4"
    write_numbered_video(video, stamps, Fraction(1, 1000), b_frames=0, audio=audio)
    expected, got = _same_files_as_ffmpeg(tmp_path, video, rate)
    assert len(set(np.diff(expected))) > 1  # frames were both repeated and dropped
    assert got == expected


@needs_ffmpeg
@pytest.mark.parametrize("audio", [False, True], ids=["video-only", "with-audio"])
def test_first_frame_not_at_zero(tmp_path, audio):
    # Video from 1.48 s: alone, ffmpeg starts the output at it; with a soundtrack from 0 s, it
    # repeats the first frame back to 0 s (44 files).
    video = tmp_path / "late.mp4"
    write_numbered_video(video, *constant_rate_stamps(Fraction(25), 3, first=37), audio=audio)
    expected, got = _same_files_as_ffmpeg(tmp_path, video, "30")
    assert expected.count(0) == (1 if not audio else 45)
    assert got == expected


@needs_ffmpeg
@pytest.mark.parametrize("audio", [False, True], ids=["video-only", "with-audio"])
@pytest.mark.parametrize("source_rate", ["24000/1001", "25", "30"])
def test_windows_as_cut_videos_makes_them(tmp_path, source_rate, audio):
    video = tmp_path / "movie.mp4"
    write_numbered_video(video, *constant_rate_stamps(Fraction(source_rate), 5), audio=audio)
    for start, end in [(1.3, 3.3), (2, 7), (0.5, float("inf"))]:
        folder = tmp_path / f"{start}-{end}"
        folder.mkdir()
        expected, got = _same_files_as_ffmpeg(folder, video, "30", start=start, end=end)
        assert got == expected


@needs_ffmpeg
def test_the_ava_window_900_to_1801(tmp_path):
    # AVA's cut: `ffmpeg -ss 900 -t 901 -i movie -r 30`. A movie whose soundtrack starts at 0 s and
    # whose pictures are only stored from 897 s to 903 s (the rest is not needed to check the
    # window's timing), at AVA's commonest rate.
    rate = Fraction(24000, 1001)
    first = int(897 * rate)
    video = tmp_path / "movie.mp4"
    write_numbered_video(video, *constant_rate_stamps(rate, 6, first=first), audio=True)
    expected, got = _same_files_as_ffmpeg(tmp_path, video, "30", start=900, end=1801)
    assert got == expected and 80 < len(got) < 100


@needs_ffmpeg
def test_fps_rule_filter_is_ffmpegs_fps_filter(tmp_path):
    video = tmp_path / "video.mp4"
    write_numbered_video(video, *constant_rate_stamps(Fraction(25), 3), audio=True)
    expected = jpeg_numbers(ffmpeg_jpegs(video, tmp_path / "ffmpeg", after=("-vf", "fps=30")))
    extract_video(video, tmp_path / "ours", fps=30, fps_rule="filter")
    assert jpeg_numbers(sorted((tmp_path / "ours").glob("*.jpg"))) == expected
    # ... which is not what `-r 30` picks (the "every 15th file").
    by_r = jpeg_numbers(ffmpeg_jpegs(video, tmp_path / "r30"))
    assert len(by_r) == len(expected) and by_r != expected


def test_video_sync_rules():
    # 24 fps to 30: each frame lasts 1.25 ticks, rounded to 1; every 4th frame is written twice.
    ticks = [k * 1.25 + 2**-17 for k in range(8)]
    assert video_sync(ticks, [1.0] * 8, start_at_first_frame=True) == [0, 1, 2, 2, 3, 4, 5, 6, 6, 7]
    # A frame 3 ticks late is written round(3 + 1) times, the first round(3 - 0.6) of them
    # repeating the previous frame; the end repeats nothing without recent gaps.
    assert video_sync([0.0, 1.0, 5.0], [1.0] * 3, start_at_first_frame=True) == [0, 1, 1, 1, 2, 2]
    # A late first frame: repeated back to tick 0 (cfr), or the output starts with it (vscfr).
    assert video_sync([2.0, 3.0], [1.0, 1.0], start_at_first_frame=False) == [0, 0, 0, 1]
    assert video_sync([2.0, 3.0], [1.0, 1.0], start_at_first_frame=True) == [0, 1]
