"""Extracted JPEGs decode to the same pixels as the reference command's
(`ffmpeg -i V -r 30 -q:v Q img_%05d.jpg`, the ffmpeg binary), file by file, for 4:2:0, 4:4:4 and
full-range videos and several qualities; the range conversion equals ffmpeg's on every value."""

from fractions import Fraction

import cv2
import numpy as np
import pytest
from ffmpeg_videos import constant_rate_stamps, ffmpeg_jpegs, needs_ffmpeg, run_ffmpeg, write_numbered_video

from slowbench.data.extract_frames import extract_video, main
from slowbench.data.jpeg_writer import CHROMA_TO_FULL, LUMA_TO_FULL, JpegWriter


def _pixel_differences(ours: list, theirs: list) -> np.ndarray:
    """Max |difference| of each pair of files, decoded by OpenCV (the data pipeline's decoder)."""
    assert len(ours) == len(theirs)
    return np.array(
        [
            np.abs(cv2.imread(str(a)).astype(np.int16) - cv2.imread(str(b)).astype(np.int16)).max()
            for a, b in zip(ours, theirs)
        ]
    )


@needs_ffmpeg
def test_range_tables_equal_ffmpegs_conversion_of_every_value(tmp_path):
    # One yuv420p frame, 512 x 2: luma and both chroma planes hold every value 0..255.
    values = np.arange(256, dtype=np.uint8)
    luma, chroma = np.tile(np.repeat(values, 2), (2, 1)), values[None]
    (tmp_path / "in.yuv").write_bytes(luma.tobytes() + chroma.tobytes() + chroma[:, ::-1].tobytes())
    run_ffmpeg(
        *("-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "512x2", "-i", tmp_path / "in.yuv"),
        *("-pix_fmt", "yuvj420p", "-f", "rawvideo", tmp_path / "out.yuv"),
    )
    out = np.frombuffer((tmp_path / "out.yuv").read_bytes(), np.uint8)
    np.testing.assert_array_equal(out[:512:2], LUMA_TO_FULL)
    np.testing.assert_array_equal(out[1024:1280], CHROMA_TO_FULL)
    np.testing.assert_array_equal(out[1280:], CHROMA_TO_FULL[::-1])
    assert LUMA_TO_FULL[16] == 0 and LUMA_TO_FULL[235] == 255 and CHROMA_TO_FULL[128] == 128


@needs_ffmpeg
@pytest.mark.parametrize(
    "pix_fmt, quality",
    [("yuv420p", 1), ("yuv420p", 5), ("yuv420p", 31), ("yuv444p", 1), ("yuvj420p", 1)],
)
def test_every_file_decodes_to_the_commands_pixels(tmp_path, pix_fmt, quality):
    video = tmp_path / "video.mp4"
    write_numbered_video(video, *constant_rate_stamps(Fraction(25), 2), pix_fmt=pix_fmt)
    theirs = ffmpeg_jpegs(video, tmp_path / "ffmpeg", quality=quality)
    extract_video(video, tmp_path / "ours", fps=30, quality=quality)
    ours = sorted((tmp_path / "ours").glob("img_*.jpg"))
    assert [p.name for p in ours] == [p.name for p in theirs]
    assert _pixel_differences(ours, theirs).max() == 0


@needs_ffmpeg
def test_quality_changes_the_files(tmp_path):
    video = tmp_path / "video.mp4"
    write_numbered_video(video, *constant_rate_stamps(Fraction(25), 0.4))
    sizes = {}
    for quality in (1, 2, 10):
        extract_video(video, tmp_path / f"q{quality}", quality=quality)
        sizes[quality] = [p.read_bytes() for p in sorted((tmp_path / f"q{quality}").iterdir())]
    assert sizes[1] == sizes[2]  # -q:v 1 is clipped to the encoder's qmin 2, as in ffmpeg
    assert sum(map(len, sizes[10])) < 0.6 * sum(map(len, sizes[2]))


def test_writer_takes_rgb_frames_through_the_scale_filter(tmp_path):
    import av

    image = np.zeros((32, 48, 3), np.uint8)
    image[:, :24] = (200, 30, 60)
    jpeg = JpegWriter(2).encode(av.VideoFrame.from_ndarray(image, format="rgb24"))
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert np.abs(decoded.astype(int) - image).max() <= 6


def test_quality_outside_ffmpegs_range_is_a_one_line_error(tmp_path, capsys):
    assert main([str(tmp_path), str(tmp_path / "out"), "--quality", "95"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and "--quality" in line and "from 1 to 31, got '95'" in line
    with pytest.raises(ValueError, match="quality 0"):
        JpegWriter(0)
