"""`slowbench.data.extract_frames`: 1-based JPEG folders from videos, the `--fps-rule filter`
resampling, the AVA window, resizing, resumable atomic output and one-line errors (the `-r` rule
and the JPEG pixels against the ffmpeg binary: test_ffmpeg_rate.py, test_jpeg_writer.py)."""

from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from slowbench.data import build_dataset, find_dataset
from slowbench.data.extract_frames import extract_all, extract_video, main, resampled_sources
from slowbench.data.synthetic import generate
from slowbench.data.video_reader import VideoReader
from slowbench.data.video_writer import encode_video
from slowbench.model_zoo import get_row


def _jpeg(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def _numbered_frames(count, size=(64, 48)):
    """Frame i: flat grey level 4 i (a resampled frame is told by its level)."""
    return [np.full((size[1], size[0], 3), 4 * i, np.uint8) for i in range(count)]


def _write_vfr(path, milliseconds):
    """Lossless H.264 whose frame i (grey 4 i) is shown at milliseconds[i]."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1000, options={"qp": "0", "bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv444p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for stamp, image in zip(milliseconds, _numbered_frames(len(milliseconds), (32, 32))):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = int(stamp), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _ffmpeg_fps_filter(path, fps) -> list[int]:
    """The reference: FFmpeg's own `fps` filter (through PyAV); the source frame of each output."""
    levels = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        graph = av.filter.Graph()
        source, fps_filter, sink = (
            graph.add_buffer(template=stream),
            graph.add("fps", f"fps={fps}"),
            graph.add("buffersink"),
        )
        source.link_to(fps_filter)
        fps_filter.link_to(sink)
        graph.configure()
        for frame in [*container.decode(stream), None]:
            graph.push(frame)
            while True:
                try:
                    out = graph.vpull()
                except (av.BlockingIOError, av.EOFError):
                    break
                levels.append(int(round(out.to_ndarray(format="rgb24")[0, 0, 0] / 4)))
    return levels


@pytest.mark.parametrize("fps", [30, 10, 7.5])
def test_resampling_equals_ffmpegs_fps_filter_on_a_variable_rate_video(tmp_path, fps):
    rng = np.random.default_rng(0)
    stamps = np.concatenate([[0], np.cumsum(rng.integers(10, 70, 59))])
    path = tmp_path / "vfr.mp4"
    _write_vfr(path, stamps)
    expected = _ffmpeg_fps_filter(path, fps)
    assert expected != list(range(len(expected)))  # frames were dropped or repeated
    count = extract_video(path, tmp_path / "out", fps=fps, fps_rule="filter")
    got = [int(round(_jpeg(tmp_path / "out" / f"img_{k + 1:05d}.jpg").mean() / 4)) for k in range(count)]
    assert got == expected


def test_resampled_sources_of_a_constant_rate_video():
    seconds = np.arange(90) / 30
    np.testing.assert_array_equal(resampled_sources(seconds, fps=None), np.arange(90))
    np.testing.assert_array_equal(resampled_sources(seconds, fps=30, last_duration=1 / 30), np.arange(90))
    # Output k (at k / 10 s) rounds frame j to tick round(j / 3): frames 3k - 1, 3k, 3k + 1 fall
    # on tick k and the last of them is shown, as ffmpeg does.
    np.testing.assert_array_equal(
        resampled_sources(seconds, fps=10, last_duration=1 / 30), np.arange(1, 90, 3)
    )
    np.testing.assert_array_equal(resampled_sources(seconds, fps=None, start=1, end=2), np.arange(30, 60))
    np.testing.assert_array_equal(
        resampled_sources(seconds, fps=15, start=1, end=2, last_duration=1 / 30), np.arange(30, 60, 2)
    )


def test_every_frame_one_based_and_resized(tmp_path):
    grey = np.kron(np.random.default_rng(0).integers(0, 255, (6, 8, 1)), np.ones((8, 8, 3)))
    frames = [np.roll(grey.astype(np.uint8), 3 * i, axis=1) for i in range(20)]
    path = tmp_path / "clip.mp4"
    encode_video(path, frames, 25)
    decoded = VideoReader(path).frames(np.arange(20))
    assert extract_video(path, tmp_path / "full") == 20
    assert sorted(p.name for p in (tmp_path / "full").iterdir())[:2] == ["img_00001.jpg", "img_00002.jpg"]
    for index in (0, 1, 19):
        extracted = _jpeg(tmp_path / "full" / f"img_{index + 1:05d}.jpg")
        errors = [np.abs(extracted - frame).mean() for frame in decoded]
        assert int(np.argmin(errors)) == index and errors[index] < 3
    assert extract_video(path, tmp_path / "small", short_side=32) == 20
    assert Image.open(tmp_path / "small" / "img_00001.jpg").size == (43, 32)  # mmcv's rounding


def test_ava_window_and_rate(tmp_path):
    path = tmp_path / "movie.mp4"
    encode_video(path, _numbered_frames(60), 10)  # 6 s at 10 fps
    count = extract_video(path, tmp_path / "out", fps=20, start=2, end=4)
    assert count == 40
    levels = [int(round(_jpeg(tmp_path / "out" / f"img_{k:05d}.jpg").mean() / 4)) for k in (1, 2, 3, 40)]
    assert levels == [20, 20, 21, 39]  # img_00001 is the frame shown at 2.0 s


def test_ava_user_flow_movies_to_a_trainable_dataset(tmp_path):
    root = generate(
        tmp_path / "ava",
        kind="ava",
        seed=1,
        videos=2,
        val_videos=1,
        seconds=5,
        width=64,
        height=48,
        persons=(1, 1),
        fmt="mp4",
        progress=False,
    )
    row = get_row("ava21-k400-r50-4x16")
    assert not find_dataset(row, root)  # movies only, frames not yet extracted
    done, skipped, errors = extract_all(
        root / "videos", root / "rawframes", workers=2, fps=30, progress=False
    )
    assert (done, skipped, errors) == (3, 0, [])
    assert find_dataset(row, root)
    assert len(list((root / "rawframes" / "synth000000").glob("img_*.jpg"))) == 150
    sample = build_dataset(row, root, "val")[0]
    assert sample["clip"].shape[:2] == (3, 4)
    # A rerun skips the finished videos.
    assert extract_all(root / "videos", root / "rawframes", progress=False) == (0, 3, [])


def test_output_is_atomic_and_an_interrupted_video_is_redone(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    encode_video(videos / "a.mp4", _numbered_frames(10), 10)
    stale = tmp_path / "out" / ".a.partial"
    stale.mkdir(parents=True)
    (stale / "img_00001.jpg").write_bytes(b"half written")
    assert extract_all(videos, tmp_path / "out", progress=False) == (1, 0, [])
    assert not stale.exists() and len(list((tmp_path / "out" / "a").iterdir())) == 10


def test_bad_inputs_are_one_line_errors(tmp_path, capsys):
    assert main([str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip().endswith("missing: no such folder of videos")
    videos = tmp_path / "videos"
    videos.mkdir()
    encode_video(videos / "good.mp4", _numbered_frames(10), 10)
    (videos / "broken.mp4").write_bytes(b"\x00" * 1000)
    assert main([str(videos), str(tmp_path / "out"), "--workers", "1"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and str(videos / "broken.mp4") in err[0] and "1 videos failed" in err[0]
    assert (tmp_path / "out" / "good").is_dir() and not (tmp_path / "out" / "broken").exists()
    assert main([str(videos), str(tmp_path / "o2"), "--start", "5", "--end", "2"]) == 2
    assert "need 0 <= start < end" in capsys.readouterr().err
    assert main([str(videos / "good.mp4"), str(tmp_path / "o3"), "--start", "30"]) == 2
    assert "no frames between 30 s" in capsys.readouterr().err
    assert main([str(videos), str(tmp_path / "o4"), "--fps", "0"]) == 2
    assert "--fps" in capsys.readouterr().err
    assert main([str(videos), str(tmp_path / "o5"), "--fps", "30", "--fps-rule", "round"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "--fps-rule" in line and "invalid choice: 'round'" in line
