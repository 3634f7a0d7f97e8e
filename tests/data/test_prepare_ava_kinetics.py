"""python -m slowbench.data.prepare_ava_kinetics on the synthetic AVA-Kinetics release: the layout,
the clip timing, reruns and every bad input."""

import contextlib
import io
import os
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from ffmpeg_videos import (
    constant_rate_stamps,
    decoded_frames,
    needs_ffmpeg,
    run_ffmpeg,
    video_numbers,
    write_numbered_video,
)

from eval.safe_pickle import load as safe_load
from slowbench.data import prepare_ava_kinetics as prepare
from slowbench.data.kinetics_clips import ClipPlan, ShortVideo, SourceVideo, cut_clip, source_frames
from slowbench.data.synthetic import AVA_DIR, generate
from slowbench.data.synthetic.kinetics_release import VIDEOS_DIR, annotation_path, proposals_path
from slowbench.data.synthetic.scene import make_scene
from slowbench.data.synthetic.writers import write_video
from slowbench.data.video_reader import VideoIndex, VideoReader


def prepare_args(release_root: Path, out: Path, *extra) -> list:
    return [
        "--release",
        str(release_root / "ava_kinetics_v1_0"),
        "--videos",
        str(release_root / VIDEOS_DIR),
        "--ava-root",
        str(release_root / AVA_DIR),
        "--out",
        str(out),
        "--proposals-train",
        str(proposals_path(release_root, "train")),
        "--proposals-val",
        str(proposals_path(release_root, "val")),
        "--workers",
        "2",
        *extra,
    ]


def run(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = prepare.main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A small synthetic release: 4 + 3 AVA videos of 5 s, 4 + 3 Kinetics videos of 6 s."""
    return generate(
        tmp_path_factory.mktemp("ak") / "release",
        "ava-kinetics",
        videos=4,
        val_videos=3,
        seconds=5,
        width=64,
        height=48,
        persons=(1, 2),
        progress=False,
    )


@pytest.fixture(scope="module")
def prepared(release, tmp_path_factory):
    out = tmp_path_factory.mktemp("ak_out") / "ava_kinetics"
    status, stdout, stderr = run(prepare_args(release, out))
    assert status == 0, stderr
    return out, stdout, stderr


def test_layout_csvs_proposals_and_links(release, prepared):
    out, stdout, _ = prepared
    anno = out / "annotations"
    release_train = annotation_path(release, "train").read_text().splitlines()
    train = (anno / "ava_train_v2.2.csv").read_text().splitlines()
    ava_train = (release / AVA_DIR / "annotations" / "ava_train_v2.2.csv").read_text().splitlines()
    # Kinetics rows first, in the converted form (clip name, whole seconds, -1), then AVA's as is.
    assert train[len(release_train) :] == ava_train
    for converted, original in zip(train, release_train):
        yt, seconds, *box, label = original.split(",")
        clip, start, end = converted.split(",")[0].rsplit("_", 2)
        assert clip == yt and int(start) < float(seconds) < int(end)
        assert converted.split(",")[1:] == [str(int(float(seconds))), *box, label, "-1"]
    # Val: the release's lines are the gt; the converted rows keep the seconds as released.
    release_val = annotation_path(release, "val").read_text().splitlines()
    assert (anno / "kinetics_val_gt.csv").read_text().splitlines() == release_val
    val = (anno / "kinetics_val.csv").read_text().splitlines()
    assert [len(line.split(",")) for line in val] == [
        2 if len(line.split(",")) == 2 else 8 for line in release_val
    ]
    assert [line.split(",")[1] for line in val] == [line.split(",")[1] for line in release_val]
    # Proposals: Kinetics train updated with AVA train; val as given.
    merged = safe_load(anno / "ava_dense_proposals_train.FAIR.recall_93.9.pkl")
    ava_props = safe_load(
        release / AVA_DIR / "annotations" / "ava_dense_proposals_train.FAIR.recall_93.9.pkl"
    )
    kinetics = safe_load(proposals_path(release, "train"))
    assert merged.keys() == ava_props.keys() | kinetics.keys()
    assert (
        safe_load(anno / "kinetics_dense_proposals_val.pkl").keys()
        == safe_load(proposals_path(release, "val")).keys()
    )
    assert (anno / "ava_val_v2.2.csv").read_bytes() == (
        release / AVA_DIR / "annotations" / "ava_val_v2.2.csv"
    ).read_bytes()
    ava_videos = sorted(p.name for p in (release / AVA_DIR / "rawframes").iterdir())
    assert sorted(p.name for p in (out / "rawframes").iterdir()) == ava_videos
    assert all((out / "rawframes" / v).is_symlink() for v in ava_videos)
    assert len(list((out / "videos").glob("*.mp4"))) == 7
    assert "train: 4 of 4 keyframes kept in 4 clips" in stdout
    assert "val: 3 of 3 keyframes kept in 3 clips" in stdout


def test_clip_frames_are_the_source_frames_on_screen_at_30_fps(release, prepared):
    out, _, _ = prepared
    clip = sorted((out / "videos").glob("*.mp4"))[0]
    youtube_id, start, end = clip.stem.rsplit("_", 2)
    source = next((release / VIDEOS_DIR).glob(f"{youtube_id}_*.mp4"))
    source_start = int(source.stem.rsplit("_", 2)[1])
    cut, original = VideoReader(clip), VideoReader(source)
    assert len(cut) == 30 * (int(end) - int(start))
    first = 30 * (int(start) - source_start)  # the source is 30 fps: frames map one to one
    for k in (0, 17, len(cut) - 1):
        frame = cut.frames([k])[0].astype(np.int16)
        errors = {
            d: np.abs(frame - original.frames([first + k + d])[0]).mean()
            for d in (-1, 0, 1)
            if 0 <= first + k + d < len(original)
        }
        # Re-encoding is lossy (and the synthetic frames carry fresh sensor noise each frame): the
        # right frame is the closest (measured 4-6 grey levels, neighbours 7-13).
        assert all(errors[0] < 0.8 * error for d, error in errors.items() if d != 0)


@needs_ffmpeg
@pytest.mark.parametrize("audio", [False, True], ids=["video-only", "with-audio"])
@pytest.mark.parametrize("rate", ["25", "30000/1001", "60"])
def test_clip_frames_are_those_of_the_reference_cut(tmp_path, rate, audio):
    # cut_kinetics.py: ffmpeg -ss S -t D -accurate_seek -i V -r 30 -avoid_negative_ts 1 OUT.mp4.
    source = SourceVideo(tmp_path / "kin_x_000010_000020.mp4", "kin_x", 10, 20)
    write_numbered_video(source.path, *constant_rate_stamps(Fraction(rate), 6), audio=audio)
    plan = ClipPlan(source, 12, 15, [13])
    reference = tmp_path / "reference.mp4"
    run_ffmpeg(
        *("-ss", 2, "-t", 3, "-accurate_seek", "-i", source.path),
        *("-r", 30, "-avoid_negative_ts", 1, "-threads", 1, reference),
    )
    cut_clip(plan, tmp_path / "ours.mp4")
    expected = video_numbers(reference)
    assert video_numbers(tmp_path / "ours.mp4") == expected and 88 <= len(expected) <= 92
    # The same x264 settings on one thread give the same pixels (Debian's x264 core 164, PyAV
    # 16's core 165) in most runs, but PyAV's x264 now and then encodes the first GOP differently
    # (mean up to 1.5 levels over the clip, under load): a coarse bound, which a wrong colour
    # conversion, range or frame would still break.
    difference = [
        np.abs(ours.astype(np.int16) - theirs).mean()
        for ours, theirs in zip(decoded_frames(tmp_path / "ours.mp4"), decoded_frames(reference), strict=True)
    ]
    assert np.mean(difference) < 3.0


def test_a_source_shorter_than_its_window_is_reported(tmp_path):
    source = SourceVideo(tmp_path / "kin_x_000010_000020.mp4", "kin_x", 10, 20)
    write_numbered_video(source.path, *constant_rate_stamps(Fraction(25), 2.4))
    index = VideoIndex.read(source.path)
    with pytest.raises(ShortVideo, match="2.40 s long, shorter than its annotated window"):
        source_frames(index, ClipPlan(source, 12, 14, [13]))  # keyframe 3 s in
    # The clip (from 2 s in) ends with the source, after 0.4 s: 12 frames at 30 fps.
    assert len(source_frames(index, ClipPlan(source, 12, 14, [12.3]))) == 12


def test_rerun_keeps_finished_clips_and_redoes_missing_ones(release, tmp_path):
    out = tmp_path / "ak"
    assert run(prepare_args(release, out))[0] == 0
    clips = sorted((out / "videos").glob("*.mp4"))
    stamps = {p: p.stat().st_mtime_ns for p in clips}
    clips[0].unlink()
    status, stdout, _ = run(prepare_args(release, out))
    assert status == 0
    assert all(p.stat().st_mtime_ns == stamps[p] for p in clips[1:])
    assert clips[0].is_file()


def test_missing_short_and_unreadable_videos_are_counted_skipped_and_reported(release, tmp_path):
    copy = tmp_path / "release"
    shutil.copytree(release, copy, symlinks=True)
    train_csv = annotation_path(copy, "train")
    # An annotation whose video is gone, and a video shorter than its window (a 6 s name, 1 s of
    # frames, keyframe 4 s in).
    train_csv.write_text(
        train_csv.read_text()
        + "gone_video1,15,0.1,0.1,0.5,0.5,1\n"
        + "kin_short01,104,0.1,0.1,0.5,0.5,1\n"
        + "kin_broken1,53,0.1,0.1,0.5,0.5,1\n"
    )
    (copy / VIDEOS_DIR / "kin_broken1_000050_000056.mp4").write_bytes(b"not a video")
    one_second = make_scene(
        np.random.default_rng(0), width=64, height=48, n_frames=30, persons=(1, 1), multilabel=True
    )
    write_video(one_second, copy / VIDEOS_DIR / "kin_short01_000100_000106.mp4")
    status, stdout, stderr = run(prepare_args(copy, tmp_path / "out"))
    assert status == 0, stderr
    assert "warning: train: 1 videos missing (first: gone_video1); their keyframes are skipped" in stderr
    assert (
        "warning: train: 1 videos shorter than their annotated window (first: "
        "kin_short01_000100_000106.mp4)" in stderr
    )
    assert "warning: train: 1 videos unreadable (first: kin_broken1_000050_000056.mp4)" in stderr
    assert "train: 4 of 7 keyframes kept in 4 clips" in stdout
    report = (tmp_path / "out" / "prepare_report.json").read_text()
    assert "gone_video1" in report and "kin_short01_000100_000106.mp4" in report
    train = (tmp_path / "out" / "annotations" / "ava_train_v2.2.csv").read_text()
    assert not any(name in train for name in ("gone_video1", "kin_short01", "kin_broken1"))


@pytest.mark.parametrize(
    "line, message",
    [
        ("kin_x,1.5,0.1", "expected 2 or 7 or 8 columns, got 3"),
        ("kin_x,abc,0.1,0.1,0.5,0.5,1", "timestamp 'abc' is not a finite number"),
        ("kin_x,3,0.1,0.1,1.5,0.5,1", "box outside [0, 1]"),
    ],
)
def test_malformed_release_row_is_one_line_naming_file_and_line(release, tmp_path, line, message):
    copy = tmp_path / "release"
    shutil.copytree(release / "ava_kinetics_v1_0", copy / "ava_kinetics_v1_0")
    os.symlink(release / VIDEOS_DIR, copy / VIDEOS_DIR)
    os.symlink(release / AVA_DIR, copy / AVA_DIR)
    val_csv = annotation_path(copy, "val")
    val_csv.write_text(val_csv.read_text() + line + "\n")
    status, _, stderr = run(prepare_args(copy, tmp_path / "out"))
    number = len(val_csv.read_text().splitlines())
    (error,) = stderr.splitlines()
    assert status == 2
    assert error.startswith(f"error: {val_csv}:{number}: ") and message in error


def test_missing_inputs_are_one_line_errors(release, tmp_path):
    args = prepare_args(release, tmp_path / "out")
    args[args.index("--ava-root") + 1] = str(tmp_path / "nowhere")
    status, _, stderr = run(args)
    assert status == 2 and len(stderr.splitlines()) == 1
    assert stderr.startswith("error: --ava-root ") and "missing annotations/ava_train_v2.2.csv" in stderr
