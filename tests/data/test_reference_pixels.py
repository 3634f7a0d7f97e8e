"""The faithful path gives mmaction2's pixels and boxes exactly (equality, no tolerance).

The expected values are computed here with OpenCV and numpy directly, as mmaction2 1.2.0 /
mmcv 2.x do: `imfrombytes` = `cv2.imdecode(bytes, IMREAD_COLOR)` + in-place `cvtColor(BGR2RGB)`;
`Resize` / `RandomRescale` = `cv2.resize(img, (new_w, new_h), interpolation=INTER_LINEAR)` with
mmcv's `int(x * scale + 0.5)` sizes (given here as numbers); `RandomCrop` = `img[y1:y2, x1:x2]`;
`Flip` = `cv2.flip(img, 1, img)`; boxes as `RawFrameDecode`, `Resize._box_resize`,
`RandomCrop._box_crop` and `Flip._box_flip` compute them.
"""

import io
import pickle

import cv2
import numpy as np
import pytest
import torch
from data_helpers import AVA_ROW
from PIL import Image

from slowbench.data import PipelineConfig, build_dataset, dataset_files
from slowbench.data.clip_geometry import ClipGeometry, inference_geometry
from slowbench.data.frame_decode import decode_clip
from slowbench.data.resize_crop_flip import resize_crop_flip


def _texture(width, height, seed):
    """Smooth random colours plus fine noise: every pixel differs, as in real frames."""
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 256, (max(height // 8, 2), max(width // 8, 2), 3), dtype=np.uint8)
    smooth = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    return np.clip(smooth + rng.integers(-12, 13, smooth.shape), 0, 255).astype(np.uint8)


def _write_jpeg(path, width, height, seed, mode="RGB"):
    image = Image.fromarray(_texture(width, height, seed))
    buffer = io.BytesIO()
    (image.convert(mode) if mode != "RGB" else image).save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return path


def _mmaction2_frame(path, resized, crop, flipped):
    """One frame through RawFrameDecode -> Resize -> RandomCrop -> Flip, OpenCV calls as mmcv."""
    img = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
    img = cv2.resize(img, resized, interpolation=cv2.INTER_LINEAR)
    if crop is not None:
        x, y, w, h = crop
        img = img[y : y + h, x : x + w]
    if flipped:
        img = np.ascontiguousarray(img)
        cv2.flip(img, 1, img)
    return img


def _mmaction2_clip(paths, resized, crop=None, flipped=False):
    return np.stack([_mmaction2_frame(path, resized, crop, flipped) for path in paths])


@pytest.mark.parametrize(
    "size, resized",
    [
        ((1280, 720), (455, 256)),  # AVA 720p, downscale ~2.8x
        ((400, 300), (341, 256)),
        ((320, 240), (341, 256)),  # upscale
        ((455, 256), (455, 256)),  # identity
        ((97, 61), (407, 256)),  # odd sizes, 4.2x upscale
        ((1281, 719), (456, 256)),  # sizes not divisible by anything useful
        ((241, 399), (256, 424)),  # portrait
    ],
)
def test_test_pipeline_pixels_equal_mmaction2(tmp_path, size, resized):
    paths = [_write_jpeg(tmp_path / f"img_{n:05d}.jpg", *size, seed=n) for n in (1, 2)]
    sampled = [paths[0], paths[1], paths[1], paths[0]]  # repeats are decoded once
    clip, original, geometry = decode_clip(sampled, lambda w, h: inference_geometry(w, h, short_side=256))
    assert original == size[::-1] and geometry.resized == resized
    expected = _mmaction2_clip(sampled, resized)
    assert clip.shape == expected.shape and clip.dtype == np.uint8
    np.testing.assert_array_equal(clip, expected)


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grey_and_cmyk_jpegs_decode_as_opencv_does(tmp_path, mode):
    path = _write_jpeg(tmp_path / "img_00001.jpg", 320, 180, seed=5, mode=mode)
    clip, _, _ = decode_clip([path], lambda w, h: inference_geometry(w, h, short_side=256))
    np.testing.assert_array_equal(clip, _mmaction2_clip([path], (455, 256)))
    if mode == "L":
        assert (clip[..., 0] == clip[..., 2]).all()
    else:  # Pillow converts CMYK differently, so this case separates the decoders
        pillow = np.asarray(Image.open(path).convert("RGB").resize((455, 256), Image.BILINEAR))
        assert not np.array_equal(pillow, clip[0])


def test_exif_rotated_jpegs_are_turned_upright_as_opencv_does(tmp_path):
    """IMREAD_COLOR applies the EXIF orientation, so the clip's size is the rotated one."""
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees clockwise
    path = tmp_path / "img_00001.jpg"
    Image.fromarray(_texture(320, 180, seed=7)).save(path, "JPEG", quality=90, exif=exif.tobytes())
    clip, original, geometry = decode_clip([path], lambda w, h: inference_geometry(w, h, short_side=256))
    assert original == (320, 180) and geometry.resized == (256, 455)
    np.testing.assert_array_equal(clip, _mmaction2_clip([path], (256, 455)))


@pytest.mark.parametrize(
    "short, resized, crop, flipped",
    [
        (300, (533, 300), (101, 17, 256, 256), False),
        (300, (533, 300), (101, 17, 256, 256), True),
        (256, (455, 256), (198, 0, 256, 256), True),  # short side = crop: y offset 0
        (320, (569, 320), (0, 63, 256, 256), False),
    ],
)
def test_train_rescale_crop_flip_pixels_equal_mmaction2(tmp_path, short, resized, crop, flipped):
    paths = [_write_jpeg(tmp_path / f"img_{n:05d}.jpg", 1280, 720, seed=n) for n in (1, 2, 3)]
    geometry = ClipGeometry(
        original=(1280, 720), resized=resized, crop=crop, flipped=flipped, random_crop=True
    )
    clip, _, used = decode_clip(paths + paths[:1], lambda w, h: geometry)
    assert used is geometry
    np.testing.assert_array_equal(clip, _mmaction2_clip(paths + paths[:1], resized, crop, flipped))


def test_resize_crop_flip_takes_decoded_rgb_frames():
    """The entry point of other decoders (video readers): RGB arrays in, the reference clip out."""
    frames = [_texture(641, 359, seed) for seed in range(3)]
    geometry = ClipGeometry(
        original=(641, 359), resized=(457, 256), crop=(200, 0, 256, 256), flipped=True, random_crop=True
    )
    clip = resize_crop_flip(frames, geometry)
    expected = [
        cv2.flip(cv2.resize(f, (457, 256), interpolation=cv2.INTER_LINEAR)[:, 200:456], 1) for f in frames
    ]
    np.testing.assert_array_equal(clip, np.stack(expected))
    with pytest.raises(ValueError, match=r"frame 1 is uint8 \(360, 641, 3\)"):
        resize_crop_flip([frames[0], _texture(641, 360, 0)], geometry)


def _mmaction2_boxes(normalised, original, resized, crop, flipped):
    """RawFrameDecode, Resize._box_resize, RandomCrop._box_crop and Flip._box_flip, as written."""
    w, h = original
    box = (normalised * np.array([w, h, w, h])).astype(np.float32)
    scale_factor = np.array([resized[0] / w, resized[1] / h], dtype=np.float32)
    box = box * np.concatenate([scale_factor, scale_factor])
    if crop is not None:
        x1, y1, x2, y2 = np.array([crop[0], crop[1], crop[0] + crop[2], crop[1] + crop[3]])
        cropped = box.copy()
        cropped[..., 0::2] = np.clip(box[..., 0::2] - x1, 0, x2 - x1 - 1)
        cropped[..., 1::2] = np.clip(box[..., 1::2] - y1, 0, y2 - y1 - 1)
        box = cropped
    if flipped:
        width = crop[2] if crop is not None else resized[0]
        mirrored = box.copy()
        mirrored[..., 0::4] = width - box[..., 2::4]
        mirrored[..., 2::4] = width - box[..., 0::4]
        box = mirrored
    return box


@pytest.mark.parametrize("random_crop, flipped", [(False, False), (True, False), (True, True)])
def test_boxes_equal_mmaction2_bit_for_bit(random_crop, flipped):
    rng = np.random.default_rng(0)
    corners = np.sort(rng.random((2000, 2, 2)), axis=1)  # float64, as the pickles and CSVs hold
    normalised = np.concatenate([corners[:, 0], corners[:, 1]], axis=1)
    normalised[:3] = [[0, 0, 1, 1], [0.5, 0.25, 1, 0.75], [0.1, 0.1, 0.2, 0.2]]
    original, resized = (1280, 720), (533, 300)
    crop = (101, 17, 256, 256) if random_crop else None
    geometry = ClipGeometry(
        original=original,
        resized=resized,
        crop=crop or (0, 0, *resized),
        flipped=flipped,
        random_crop=random_crop,
    )
    ours = geometry.map_boxes(normalised)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, _mmaction2_boxes(normalised, original, resized, crop, flipped))
    # Rounding the normalised boxes to float32 first (the old way) is not the same thing.
    twice = _mmaction2_boxes(
        normalised.astype(np.float32).astype(np.float64), original, resized, crop, flipped
    )
    assert not np.array_equal(ours, twice)


@pytest.mark.parametrize("test_mode, seed, flipped", [(True, 0, False), (False, 0, True), (False, 4, False)])
def test_dataset_samples_equal_mmaction2(tmp_path, test_mode, seed, flipped):
    """End to end: the clip tensor and boxes of DetectionDataset for the draws it made."""
    files = dataset_files(AVA_ROW, tmp_path, "train")
    files.annotations.parent.mkdir(parents=True)
    files.annotations.write_text("video,0902,0.213,0.1,0.6177,0.93,12,0\n")
    proposals = np.array([[0.2, 0.11, 0.61, 0.9, 0.97], [0.5, 0.3, 1.0, 1.0, 0.93]])
    files.proposals.write_bytes(pickle.dumps({"video,0902": proposals}))
    (files.frames / "video").mkdir(parents=True)
    for number in range(40, 80):
        _write_jpeg(files.frames / "video" / f"img_{number:05d}.jpg", 203, 151, seed=number)
    pipeline = PipelineConfig(
        clip_len=4, frame_interval=8, train_scale=(160, 200), crop_size=160, test_short_side=170
    )
    torch.manual_seed(seed)
    sample = build_dataset(AVA_ROW, tmp_path, "train", pipeline, test_mode=test_mode)[0]
    meta = sample["meta"]
    assert meta["flipped"] is flipped  # both kinds of draw are covered
    resized = tuple(round(s * n) for s, n in zip(meta["scale_factor"], (203, 151)))
    crop = None if test_mode else meta["crop"]
    paths = [files.frames / "video" / f"img_{number:05d}.jpg" for number in meta["frame_inds"]]
    expected = _mmaction2_clip(paths, resized, crop, meta["flipped"]).transpose(3, 0, 1, 2)
    assert torch.equal(sample["clip"], torch.from_numpy(np.ascontiguousarray(expected)))
    boxes = _mmaction2_boxes(
        np.array([[0.213, 0.1, 0.6177, 0.93]]), (203, 151), resized, crop, meta["flipped"]
    )
    np.testing.assert_array_equal(sample["gt_boxes"].numpy(), boxes)
    np.testing.assert_array_equal(
        sample["proposals"].numpy(),
        _mmaction2_boxes(proposals[:, :4], (203, 151), resized, crop, meta["flipped"]),
    )
