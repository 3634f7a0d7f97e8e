"""`python -m slowbench.demo`: output frames follow the step sizes, boxes are drawn where they are
given, `--json` holds the detector's own scores, dataset proposals and ground truth plug in, and
bad input is one line with exit status 2."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from eval import safe_pickle
from slowbench.checkpoint import save_checkpoint
from slowbench.data.annotations import select_proposals
from slowbench.data.clip_geometry import inference_geometry
from slowbench.data.resize_crop_flip import resize_crop_flip
from slowbench.data.synthetic import generate
from slowbench.data.video_reader import VideoReader
from slowbench.data.video_writer import encode_video
from slowbench.demo.__main__ import main
from slowbench.demo.render import GROUND_TRUTH_COLOUR, PREDICTION_COLOUR
from slowbench.model_zoo import get_row
from slowbench.models import build_detector

ROW = "ava21-k400-r50-4x16"  # clip 4 x 16: keyframes need 32 frames before and 16 after
OVERRIDES = {"depth": 18, "base_channels": 4, "num_classes": 8}
SHORT_SIDE = 32
GREY = 90


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pth"
    save_checkpoint(
        path,
        build_detector(get_row(ROW), **OVERRIDES),
        meta={
            "row": ROW,
            "model_overrides": OVERRIDES,
            "pipeline": {"clip_len": 4, "frame_interval": 16, "test_short_side": SHORT_SIDE},
        },
    )
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """80 frames of 64x48 at 25 fps: flat grey with a small bright square that drifts right."""
    frames = []
    for index in range(80):
        frame = np.full((48, 64, 3), GREY, np.uint8)
        frame[20:28, 30 + index // 10 : 38 + index // 10] = 220
        frames.append(frame)
    path = tmp_path_factory.mktemp("video") / "people.mp4"
    encode_video(path, frames, 25)
    return path


@pytest.fixture(scope="module")
def boxes_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("boxes") / "boxes.csv"
    rows = [f"{frame},10,8,40,40,0.95\n" for frame in range(0, 80, 8)]
    path.write_text("frame,x1,y1,x2,y2,score\n" + "".join(rows))
    return path


def _demo(checkpoint, video, out, *extra):
    return main(
        [
            "--row",
            ROW,
            "--ckpt",
            str(checkpoint),
            "--video",
            str(video),
            "--out",
            str(out),
            "--device",
            "cpu",
            *extra,
        ]
    )


def test_output_frames_follow_the_step_sizes(checkpoint, video, boxes_csv, tmp_path):
    # Keyframes 32, 40, 48, 56 (63 is the last frame whose clip ends inside the 80 frames).
    assert _demo(checkpoint, video, tmp_path / "a.mp4", "--boxes", str(boxes_csv)) == 0
    reader = VideoReader(tmp_path / "a.mp4")
    assert len(reader) == 4 * 2 and reader.index.size == (64, 48)
    assert (
        _demo(
            checkpoint,
            video,
            tmp_path / "b.gif",
            "--boxes",
            str(boxes_csv),
            "--predict-stepsize",
            "16",
            "--output-stepsize",
            "2",
            "--out-short-side",
            "96",
        )
        == 0
    )
    with Image.open(tmp_path / "b.gif") as gif:
        # Pillow merges identical consecutive frames into one longer frame: count by duration
        # (GIF stores centiseconds, so each stored frame may be up to 10 ms off).
        durations = []
        for index in range(gif.n_frames):
            gif.seek(index)
            durations.append(gif.info["duration"])
        assert abs(sum(durations) - 2 * 8 * 1000 / 6) <= 10 * len(durations)
        assert gif.size == (128, 96)


def test_box_is_drawn_where_the_input_box_is(checkpoint, video, boxes_csv, tmp_path):
    out = tmp_path / "boxes.gif"
    # No label passes a threshold of 1: only the box outline is drawn.
    assert _demo(checkpoint, video, out, "--boxes", str(boxes_csv), "--action-thr", "1") == 0
    with Image.open(out) as gif:
        frame = np.asarray(gif.convert("RGB"), dtype=int)
    for y, x in [(8, 25), (40, 25), (24, 10), (24, 40)]:  # the four edges of (10, 8, 40, 40)
        assert np.abs(frame[y, x] - PREDICTION_COLOUR).max() <= 8, (y, x, frame[y, x])
    for y, x in [(14, 16), (4, 25), (44, 50), (24, 45)]:  # inside and outside the box
        assert np.abs(frame[y, x] - GREY).max() <= 8, (y, x, frame[y, x])


def test_json_holds_the_detectors_scores_for_the_same_clip(checkpoint, video, boxes_csv, tmp_path):
    dets = tmp_path / "dets.json"
    assert (
        _demo(
            checkpoint,
            video,
            tmp_path / "c.mp4",
            "--boxes",
            str(boxes_csv),
            "--json",
            str(dets),
            "--action-thr",
            "0",
            "--topk",
            "2",
        )
        == 0
    )
    result = json.loads(dets.read_text())
    assert result["keyframes"] == [32, 40, 48, 56] and len(result["detections"]) == 4
    detector = build_detector(get_row(ROW), **OVERRIDES)
    detector.load_state_dict(torch.load(checkpoint, weights_only=True)["state_dict"])
    detector.eval()
    reader = VideoReader(video)
    for detection in result["detections"]:
        keyframe = detection["frame"]
        frames = reader.frames(keyframe + 16 * (np.arange(4) - 2))
        geometry = inference_geometry(64, 48, short_side=SHORT_SIDE)
        clip = torch.from_numpy(resize_crop_flip(frames, geometry).transpose(3, 0, 1, 2).copy())
        scale = np.array(geometry.resized * 2) / np.array([64, 48, 64, 48])
        box = torch.tensor([[10, 8, 40, 40]] * scale, dtype=torch.float32)
        with torch.no_grad():
            expected = detector.predict(clip[None].float(), [box])[0][0].numpy()
        np.testing.assert_allclose(detection["scores"], expected, rtol=1e-6, atol=1e-7)
        assert detection["box"] == [10, 8, 40, 40] and detection["box_score"] == pytest.approx(0.95)
        best = 1 + np.argsort(-expected[1:], kind="stable")[:2]
        assert [label["id"] for label in detection["labels"]] == list(best)


def test_dataset_proposals_and_ground_truth(checkpoint, tmp_path):
    root = generate(
        tmp_path / "ava",
        kind="ava",
        seed=0,
        videos=1,
        val_videos=1,
        seconds=6,
        width=64,
        height=48,
        persons=(1, 1),
        fmt="mp4",
        progress=False,
    )
    video = root / "videos" / "synth000001.mp4"
    dets = tmp_path / "dets.json"
    assert (
        _demo(
            checkpoint,
            video,
            tmp_path / "d.gif",
            "--data-root",
            str(root),
            "--gt",
            "--predict-stepsize",
            "30",
            "--output-stepsize",
            "10",
            "--json",
            str(dets),
            "--box-thr",
            "0",  # a missed person scores < 0.9 (the split's own filter then keeps its best box)
        )
        == 0
    )
    result = json.loads(dets.read_text())
    proposals_file = root / "annotations" / "ava_dense_proposals_val.FAIR.recall_93.9.pkl"
    assert result["boxes_from"] == str(proposals_file)
    # 180 frames: keyframes every 30 from 32. Proposals exist for seconds 902-904 (frames 60, 90,
    # 120); a keyframe takes those within 15 frames, so 32 and 152 get none.
    assert result["keyframes"] == [32, 62, 92, 122, 152]
    assert [d["frame"] for d in result["detections"]] == [62, 92, 122]
    proposals = safe_pickle.load(proposals_file)
    for detection, second in zip(result["detections"], (902, 903, 904)):
        boxes, _ = select_proposals(proposals[f"synth000001,{second:04d}"])
        np.testing.assert_allclose([detection["box_normalised"]], boxes)
    annotated = {
        int(line.split(",")[1])
        for line in (root / "annotations" / "ava_val_v2.1.csv").read_text().splitlines()
    }
    with Image.open(tmp_path / "d.gif") as gif:  # 3 output frames a keyframe
        for order, second in enumerate((901, 902, 903, 904, 905)):
            gif.seek(3 * order)
            frame = np.asarray(gif.convert("RGB"), dtype=int)
            green = (np.abs(frame - GROUND_TRUTH_COLOUR).max(axis=2) <= 8).sum()
            assert (green > 20) == (second in annotated), (second, green)


def test_box_threshold_and_label_map_as_the_reference_demo(checkpoint, video, tmp_path, capsys):
    # Two people at each time: scores 0.95 and 0.9; the reference keeps det scores > 0.9 only.
    boxes = tmp_path / "two.csv"
    rows = [f"{frame},10,8,40,40,0.95\n{frame},30,20,60,46,0.9\n" for frame in range(0, 80, 8)]
    boxes.write_text("frame,x1,y1,x2,y2,score\n" + "".join(rows))
    label_map = tmp_path / "label_map.txt"
    label_map.write_text("2: stand\n5: talk to (e.g., self, a person, a group)\n")
    common = ["--boxes", str(boxes), "--action-thr", "0", "--topk", "3", "--label-map", str(label_map)]
    found, summary = {}, {}
    for threshold in ("0.9", "0.5"):
        dets = tmp_path / f"dets{threshold}.json"
        extra = ["--json", str(dets), "--box-thr", threshold]
        assert _demo(checkpoint, video, tmp_path / f"o{threshold}.mp4", *common, *extra) == 0
        found[threshold] = json.loads(dets.read_text())["detections"]
        summary[threshold] = capsys.readouterr().out
        assert "labels drawn from 2 of 8 score columns" in summary[threshold]
    assert "; 10 at or below --box-thr 0.9 dropped)" in summary["0.9"]  # one of each time's two
    assert "; 0 at or below --box-thr 0.5 dropped)" in summary["0.5"]
    assert [d["box_score"] for d in found["0.9"]] == pytest.approx([0.95] * 4)
    assert len(found["0.5"]) == 8
    for detection in found["0.5"]:
        # Every column is scored; only the two named classes are labels, best first.
        assert len(detection["scores"]) == 8
        ids = [label["id"] for label in detection["labels"]]
        assert sorted(ids) == [2, 5] and detection["scores"][ids[0]] >= detection["scores"][ids[1]]
        assert {label["name"] for label in detection["labels"]} == {
            "stand",
            "talk to (e.g., self, a person, a group)",
        }


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing video", "video file is missing"),
        ("not a video", "not a readable video"),
        ("truncated video", "people_cut.mp4"),
        ("short video", "shorter than one clip"),
        ("malformed csv", "boxes.csv:2: could not convert"),
        ("box outside", "boxes.csv:2: box"),
        ("steps", "--output-stepsize 3 must divide --predict-stepsize 8"),
        ("extension", "the extension must be one of .mp4, .gif"),
        ("box threshold", "--box-thr: expected a number from 0 to 1, got '1.5'"),
    ],
)
def test_bad_input_is_one_line(checkpoint, video, boxes_csv, tmp_path, capsys, case, expected):
    args, source = ["--boxes", str(boxes_csv)], video
    if case == "missing video":
        source = tmp_path / "nothing.mp4"
    elif case == "not a video":
        source = tmp_path / "text.mp4"
        source.write_text("hello\n" * 100)
    elif case == "truncated video":
        source = tmp_path / "people_cut.mp4"
        source.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    elif case == "short video":
        source = tmp_path / "short.mp4"
        encode_video(source, [np.zeros((48, 64, 3), np.uint8)] * 40, 25)
    elif case in ("malformed csv", "box outside"):
        bad = tmp_path / "boxes.csv"
        bad.write_text("0,1,2,3,4\n1,1,2,x,4\n" if case == "malformed csv" else "0,1,1,2,2\n8,10,8,70,40\n")
        args = ["--boxes", str(bad)]
    elif case == "steps":
        args += ["--output-stepsize", "3"]
    elif case == "box threshold":
        args += ["--box-thr", "1.5"]
    out = tmp_path / ("out.avi" if case == "extension" else "out.mp4")
    assert _demo(checkpoint, source, out, *args) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], errors
    assert not out.exists()


def test_onnx_model_gives_the_checkpoints_scores(checkpoint, video, boxes_csv, tmp_path):
    """`--onnx`: the exported model, run by onnxruntime, scores the same clips as `--ckpt`."""
    pytest.importorskip("onnxruntime")
    from slowbench import export as export_cli

    onnx_file = tmp_path / "det.onnx"
    assert (
        export_cli.main(
            ["--row", ROW, "--ckpt", str(checkpoint), "--out", str(onnx_file), "--clip-shape", "1x3x4x32x42"]
        )
        == 0
    )
    results = {}
    for source in (["--ckpt", str(checkpoint)], ["--onnx", str(onnx_file)]):
        dets = tmp_path / f"{source[0][2:]}.json"
        assert (
            main(
                [
                    "--row",
                    ROW,
                    *source,
                    "--video",
                    str(video),
                    "--out",
                    str(tmp_path / "o.gif"),
                    "--device",
                    "cpu",
                    "--boxes",
                    str(boxes_csv),
                    "--json",
                    str(dets),
                    "--action-thr",
                    "0",
                ]
            )
            == 0
        )
        results[source[0]] = json.loads(dets.read_text())["detections"]
    assert len(results["--onnx"]) == len(results["--ckpt"]) == 4
    for got, want in zip(results["--onnx"], results["--ckpt"]):
        assert got["frame"] == want["frame"] and got["box"] == want["box"]
        np.testing.assert_allclose(got["scores"], want["scores"], rtol=0, atol=1e-5)
