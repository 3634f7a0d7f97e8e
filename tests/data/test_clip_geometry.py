"""Rescale/crop/flip geometry: reference rounding, box maps, and boxes staying on the pixels."""

import numpy as np
import pytest
import torch
from PIL import Image

from slowbench.data.clip_geometry import ClipGeometry, inference_geometry, rescale_size, train_geometry
from slowbench.data.frame_decode import decode_clip


@pytest.mark.parametrize(
    "size, short, expected",
    [
        ((1280, 720), 256, (455, 256)),  # 455.1 -> 455
        ((320, 240), 256, (341, 256)),  # 341.33 -> 341
        ((340, 256), 320, (425, 320)),  # 425.0
        ((100, 301), 256, (256, 771)),  # 770.56 -> 771 (int(x + 0.5))
        ((128, 96), 96, (128, 96)),
    ],
)
def test_rescale_size_rounds_like_mmcv(size, short, expected):
    assert rescale_size(*size, short) == expected


def test_map_boxes_scale_crop_clip_flip():
    geometry = ClipGeometry(
        original=(200, 100), resized=(400, 200), crop=(50, 20, 160, 160), flipped=False, random_crop=True
    )
    boxes = np.array([[10, 10, 50, 60], [150, 90, 199, 99]]) / [200, 100, 200, 100]
    # x2: scale 2 -> minus offset (50, 20) -> clip to [0, 159]
    np.testing.assert_allclose(geometry.map_boxes(boxes), [[0, 0, 50, 100], [159, 159, 159, 159]])
    flipped = ClipGeometry(
        original=(200, 100), resized=(400, 200), crop=(50, 20, 160, 160), flipped=True, random_crop=True
    )
    np.testing.assert_allclose(flipped.map_boxes(boxes), [[110, 0, 160, 100], [1, 159, 1, 159]])
    resize_only = inference_geometry(200, 100, short_side=50)
    np.testing.assert_allclose(resize_only.map_boxes(boxes), [[5, 5, 25, 30], [75, 45, 99.5, 49.5]])
    assert resize_only.crop == (0, 0, 100, 50) and not resize_only.flipped


def test_a_random_crop_clips_boxes_even_when_it_keeps_the_whole_frame():
    """RandomCrop always clips to [0, size - 1]; the test-time Resize never clips."""
    whole = np.array([[0.0, 0.0, 1.0, 1.0]])
    train = ClipGeometry(
        original=(128, 128), resized=(256, 256), crop=(0, 0, 256, 256), flipped=False, random_crop=True
    )
    np.testing.assert_array_equal(train.map_boxes(whole), [[0, 0, 255, 255]])
    test = inference_geometry(128, 128, short_side=256)
    np.testing.assert_array_equal(test.map_boxes(whole), [[0, 0, 256, 256]])


def test_train_geometry_draws_the_reference_ranges():
    torch.manual_seed(0)
    draws = [train_geometry(320, 240, scale_range=(256, 320), crop_size=256, flip=True) for _ in range(600)]
    shorts = {g.resized[1] for g in draws}
    assert min(shorts) == 256 and max(shorts) == 320  # inclusive upper bound
    for g in draws:
        x, y, w, h = g.crop
        assert (w, h) == (256, 256)
        assert 0 <= x < g.resized[0] - 256 or (x == 0 and g.resized[0] == 256)
        assert 0 <= y < g.resized[1] - 256 or (y == 0 and g.resized[1] == 256)
    assert 0.4 < np.mean([g.flipped for g in draws]) < 0.6
    assert not any(
        train_geometry(320, 240, scale_range=(256, 256), crop_size=256, flip=False).flipped for _ in range(20)
    )


def test_boxes_follow_the_pixels_through_resize_crop_flip(tmp_path):
    width, height = 160, 120
    box = np.array([[40, 30, 90, 100]]) / [width, height, width, height]
    image = np.zeros((height, width, 3), np.uint8)
    image[30:100, 40:90] = 255
    path = tmp_path / "frame.png"  # lossless, so the edges are exact
    Image.fromarray(image).save(path)
    torch.manual_seed(1)
    checked = 0
    for _ in range(12):
        geometry = train_geometry(width, height, scale_range=(120, 150), crop_size=112, flip=True)
        clip, _, _ = decode_clip([path], lambda w, h, geometry=geometry: geometry)
        ys, xs = np.nonzero(clip[0, ..., 0] > 127)
        if len(xs) == 0:
            continue
        checked += 1
        mapped = geometry.map_boxes(box)[0]
        np.testing.assert_allclose([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], mapped, atol=1.6)
    assert checked >= 8
