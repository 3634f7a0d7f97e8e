"""Seeded random damage to the files the data pipeline and the demo read: each is read or refused
with one `InputError` line (`DataError` derives from it), never another exception or a hang (found this way: a
video whose key flags disagree with its seek index made the reader seek forever; proposals of
text or NaN)."""

import pickle
import random
import signal
import warnings
from contextlib import contextmanager

import cv2
import numpy as np
import pytest
from damage import damaged_bytes, damaged_structure, damaged_text

from eval.errors import InputError
from slowbench.data import DataError, read_annotations, read_proposals
from slowbench.data.clip_geometry import inference_geometry
from slowbench.data.frame_decode import decode_clip
from slowbench.data.kinetics_clips import read_release_csv
from slowbench.data.video_reader import VideoIndex, VideoReader
from slowbench.data.video_writer import encode_video
from slowbench.demo.boxes import read_boxes_csv

ROUNDS = 300


@contextmanager
def time_limit(seconds):
    """Fails the test when the block runs longer (a reader caught in a loop)."""

    def stop(signum, frame):
        raise AssertionError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    "read, text",
    [
        (
            lambda path: read_annotations(path, 3),
            "vidA,0902,0.1,0.1,0.5,0.9,1,0\nvidA,0902,0.1,0.1,0.5,0.9,2,0\nvidC,6.5\n",
        ),
        (
            read_release_csv,
            "abcdefghijk,10,0.1,0.1,0.5,0.9,12\nabcdefghijk,11\nzzzzzzzzzzz,6.5,0.2,0.2,0.6,0.6,3\n",
        ),
        (
            lambda path: read_boxes_csv(path, fps=30.0, size=(320, 240)),
            "frame\n0,10,10,50,60,0.9\n30,0.1,0.1,0.5,0.5\n# a comment\n60,5,5,20,20\n",
        ),
    ],
    ids=["annotations", "kinetics-release", "demo-boxes"],
)
def test_damaged_csv_files(tmp_path, read, text):
    rng = random.Random(0)
    path = tmp_path / "damaged.csv"
    for _ in range(ROUNDS):
        path.write_text(damaged_text(text, rng), encoding="utf-8")
        try:
            read(path)
        except InputError as error:
            assert "\n" not in str(error)


def test_damaged_proposal_pickles(tmp_path):
    rng = random.Random(0)
    good = {"v,0902": np.array([[0.1, 0.1, 0.5, 0.9, 0.95]]), "v,0903": np.array([[0.2, 0.2, 0.6, 0.6]])}
    path = tmp_path / "proposals.pkl"
    for _ in range(ROUNDS):
        if rng.random() < 0.5:
            path.write_bytes(damaged_bytes(pickle.dumps(good), rng))
        else:
            path.write_bytes(pickle.dumps(damaged_structure(good, rng)))
        try:
            read_proposals(path)
        except InputError as error:  # DataError derives from it
            assert str(error).startswith(str(path)) and "\n" not in str(error)


def test_damaged_frames(tmp_path):
    rng = random.Random(0)
    image = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    encoded = {suffix: cv2.imencode(suffix, image)[1].tobytes() for suffix in (".jpg", ".png")}
    good, damaged = tmp_path / "img_00001.jpg", tmp_path / "img_00002.jpg"
    good.write_bytes(encoded[".jpg"])
    for _ in range(ROUNDS):
        damaged.write_bytes(damaged_bytes(encoded[rng.choice([".jpg", ".jpg", ".png"])], rng))
        paths = [good, damaged] if rng.random() < 0.5 else [damaged, good]
        rule = (lambda w, h: inference_geometry(w, h, short_side=32)) if rng.random() < 0.7 else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                decode_clip(paths, rule, fast=rng.random() < 0.5)
        except DataError as error:
            assert "\n" not in str(error)


def test_damaged_videos(tmp_path):
    rng = random.Random(0)
    frames = [
        np.roll(np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8), i, 1)
        for i in range(40)
    ]
    source = tmp_path / "source.mp4"
    encode_video(source, frames, 30, options={"g": "8", "bf": "2"})
    good, path = source.read_bytes(), tmp_path / "damaged.mp4"
    for _ in range(100):
        path.write_bytes(damaged_bytes(good, rng))
        try:
            with time_limit(20):
                reader = VideoReader(path, VideoIndex.read(path))
                count = len(reader)
                reader.frames(sorted(rng.sample(range(count), min(count, 5))))
                for _ in reader.iter_frames(rng.randrange(count)):
                    pass
        except DataError as error:
            assert "\n" not in str(error)
