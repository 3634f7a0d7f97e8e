"""Frame decoding: the fast path's accuracy, decode-once, frame clamping, bad frames.

The faithful path's pixels are checked for equality in test_reference_pixels.py.
"""

import numpy as np
import pytest
from data_helpers import write_numbered_frames
from PIL import Image

from slowbench.data import DataError, frame_decode
from slowbench.data.clip_geometry import ClipGeometry, inference_geometry
from slowbench.data.frame_decode import FrameFolders, decode_clip


def _textured_jpeg(path, size=(640, 360)):
    rng = np.random.default_rng(0)
    low = rng.integers(0, 255, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
    Image.fromarray(low).resize(size, Image.BICUBIC).save(path, quality=92)


def test_fast_decode_is_close_to_the_faithful_pixels(tmp_path):
    path = tmp_path / "img_00001.jpg"
    _textured_jpeg(path)
    rule = lambda w, h: inference_geometry(w, h, short_side=90)  # noqa: E731
    fast, original, _ = decode_clip([path], rule, fast=True)
    faithful, _, _ = decode_clip([path], rule)
    assert original == (360, 640) and fast.shape == faithful.shape == (1, 90, 160, 3)
    difference = np.abs(fast.astype(int) - faithful.astype(int))
    assert difference.mean() < 3.0 and np.percentile(difference, 99) < 16


@pytest.mark.parametrize("flipped", [False, True])
def test_crop_while_resizing_equals_resize_then_crop(tmp_path, flipped):
    path = tmp_path / "img_00001.jpg"
    _textured_jpeg(path)
    geometry = ClipGeometry(
        original=(640, 360), resized=(519, 292), crop=(37, 21, 256, 256), flipped=flipped, random_crop=True
    )
    clip, _, used = decode_clip([path], lambda w, h: geometry, fast=True)  # no DCT scaling here
    assert used is geometry and clip.shape == (1, 256, 256, 3)
    full = np.asarray(Image.open(path).convert("RGB").resize((519, 292), Image.BILINEAR))
    expected = full[21:277, 37:293]
    expected = expected[:, ::-1] if flipped else expected
    assert np.abs(clip[0].astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("fast", [False, True])
def test_repeated_paths_are_decoded_once(tmp_path, monkeypatch, fast):
    write_numbered_frames(tmp_path, 3)
    opened = []
    name = "_open_rgb_fast" if fast else "_read_bgr"
    real = getattr(frame_decode, name)
    monkeypatch.setattr(frame_decode, name, lambda path, *rest: opened.append(path) or real(path, *rest))
    paths = [tmp_path / "img_00001.jpg"] * 3 + [tmp_path / "img_00002.jpg"]
    clip, _, geometry = decode_clip(paths, fast=fast)
    assert geometry is None
    assert len(opened) == 2 and clip.shape == (4, 48, 64, 3)
    np.testing.assert_allclose(clip.reshape(4, -1).mean(axis=1), [2, 2, 2, 4], atol=1.5)


def test_frame_folders_count_and_clamp(tmp_path):
    write_numbered_frames(tmp_path / "vid", 5)
    (tmp_path / "vid" / "notes.txt").write_text("not a frame")
    folders = FrameFolders(tmp_path)
    assert folders.count("vid") == 5
    names = [p.name for p in folders.paths("vid", np.array([-3, 1, 5, 9]))]
    assert names == ["img_00001.jpg", "img_00001.jpg", "img_00005.jpg", "img_00005.jpg"]
    shifted = FrameFolders(tmp_path, number_offset=1, suffix_to_strip=".mp4")
    assert [p.name for p in shifted.paths("vid.mp4", np.array([0, 4]))] == ["img_00001.jpg", "img_00005.jpg"]


@pytest.mark.parametrize("fast", [False, True])
def test_bad_frames_raise_one_line_errors_naming_the_file(tmp_path, fast):
    write_numbered_frames(tmp_path / "vid", 3)
    (tmp_path / "empty").mkdir()
    folders = FrameFolders(tmp_path)
    with pytest.raises(DataError, match=r"empty: no img_\*\.jpg frames$"):
        folders.count("empty")
    with pytest.raises(DataError, match="cannot list frames"):
        folders.count("absent")
    missing = tmp_path / "vid" / "img_00009.jpg"
    with pytest.raises(DataError, match=f"^{missing}: frame file is missing$"):
        decode_clip([tmp_path / "vid" / "img_00001.jpg", missing], fast=fast)
    truncated = tmp_path / "vid" / "img_00002.jpg"
    _textured_jpeg(truncated)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    garbage = tmp_path / "vid" / "img_00003.jpg"
    garbage.write_bytes(b"this is not a jpeg")
    for path in (truncated, garbage):
        with pytest.raises(DataError) as error:
            decode_clip(
                [tmp_path / "vid" / "img_00001.jpg", path],
                lambda w, h: inference_geometry(w, h, short_side=24),
                fast=fast,
            )
        assert str(error.value).startswith(f"{path}: unreadable frame")
        assert "\n" not in str(error.value)
