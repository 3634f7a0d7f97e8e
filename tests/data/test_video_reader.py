"""The PyAV video reader: frames by presentation index equal a plain sequential decode, clips seek
instead of decoding whole videos, and bad files are one-line `DataError`s naming the file."""

import av
import numpy as np
import pytest

from slowbench.data import DataError, video_reader
from slowbench.data.video_reader import VideoIndex, VideoReader
from slowbench.data.video_writer import encode_video

N_FRAMES = 90


def moving_texture(count=N_FRAMES, size=(96, 64)) -> list[np.ndarray]:
    """Frame i is a blocky random texture (grey with a little colour, which 4:2:0 chroma keeps)
    shifted i pixels right: every frame differs."""
    rng = np.random.default_rng(0)
    grey = rng.integers(20, 236, (size[1] // 8, size[0] // 8, 1))
    base = np.clip(grey + rng.integers(-20, 21, grey.shape[:2] + (3,)), 0, 255).astype(np.uint8)
    base = base.repeat(8, axis=0).repeat(8, axis=1)
    return [np.roll(base, i, axis=1) for i in range(count)]


def sequential_decode(path) -> list[np.ndarray]:
    """The reference: every frame decoded in order, no seeking."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


ENCODINGS = {
    "h264-bframes": ("clip.mp4", "libx264", {"g": "12", "bf": "3", "crf": "18"}),
    "h264-open-gop": ("clip.mp4", "libx264", {"g": "12", "bf": "3", "x264-params": "open-gop=1"}),
    "h264-no-bframes": ("clip.mkv", "libx264", {"g": "10", "bf": "0"}),
    "mpeg4-avi": ("clip.avi", "mpeg4", {"g": "15", "b": "4000000"}),
}


@pytest.fixture(scope="module", params=sorted(ENCODINGS))
def encoded(request, tmp_path_factory):
    name, codec, options = ENCODINGS[request.param]
    path = tmp_path_factory.mktemp(request.param) / name
    encode_video(path, moving_texture(), 25, codec=codec, options=options)
    return path, sequential_decode(path)


def test_reference_decode_is_the_encoded_video_within_codec_loss(encoded):
    _, reference = encoded
    raw = moving_texture()
    assert len(reference) == N_FRAMES
    for index in (0, 37, N_FRAMES - 1):
        errors = [np.abs(reference[index].astype(int) - frame.astype(int)).mean() for frame in raw]
        assert int(np.argmin(errors)) == index and errors[index] < 6


def test_frames_equal_the_sequential_decode(encoded):
    path, reference = encoded
    reader = VideoReader(path)
    assert len(reader) == N_FRAMES and reader.index.size == (96, 64)
    rng = np.random.default_rng(1)
    requests = [rng.integers(0, N_FRAMES, rng.integers(1, 9)) for _ in range(25)]
    requests += [[N_FRAMES - 1, 0, N_FRAMES - 1], np.arange(N_FRAMES)[::-1], [5, 5, 5]]
    for indices in requests:
        clip = reader.frames(indices)
        assert clip.shape == (len(indices), 64, 96, 3) and clip.dtype == np.uint8
        for got, index in zip(clip, indices):
            np.testing.assert_array_equal(got, reference[index])


def test_iter_frames_from_any_start(encoded):
    path, reference = encoded
    reader = VideoReader(path)
    for start in (0, 13, N_FRAMES - 1):
        indices, frames = zip(*reader.iter_frames(start))
        assert list(indices) == list(range(start, N_FRAMES))
        for got, index in zip(frames, indices):
            np.testing.assert_array_equal(got, reference[index])


class CountingContainer:
    """An input container that counts the frames its decoder produced."""

    def __init__(self, container, counter):
        self._container, self._counter = container, counter

    def __getattr__(self, name):
        return getattr(self._container, name)

    def decode(self, *args, **kwargs):
        for frame in self._container.decode(*args, **kwargs):
            self._counter.append(frame.pts)
            yield frame


def test_a_clip_decodes_from_the_nearest_keyframe_only(tmp_path, monkeypatch):
    path = tmp_path / "long_gop.mp4"
    encode_video(path, moving_texture(), 25, options={"g": "30", "bf": "2"})
    reader = VideoReader(path)
    keyframes = np.flatnonzero(reader.index.last_keyframe == np.arange(len(reader)))
    assert list(keyframes) == [0, 30, 60]
    decoded = []
    real_open = av.open
    monkeypatch.setattr(
        video_reader.av, "open", lambda *a, **k: CountingContainer(real_open(*a, **k), decoded)
    )
    reader.frames([64, 70])
    # From keyframe 60 up to frame 70 (a few more may sit in the decoder's reorder buffer).
    assert 11 <= len(decoded) <= 14 and min(decoded) >= reader.index.pts[60]
    decoded.clear()
    reader.frames([2, 75])  # two runs, each from its own keyframe
    assert len(decoded) <= 3 + 16 + 2 * 3


def test_index_lists_timestamps_in_presentation_order(encoded):
    path, _ = encoded
    index = VideoIndex.read(path)
    assert len(index) == N_FRAMES and np.all(np.diff(index.pts) > 0)
    np.testing.assert_allclose(np.diff(index.seconds), 1 / 25, atol=1e-3)
    assert index.last_keyframe[0] == 0 and np.all(np.diff(index.last_keyframe) >= 0)


def _one_line_error(call, path):
    with pytest.raises(DataError) as info:
        call()
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


def test_bad_video_files_are_one_line_errors(tmp_path):
    missing = tmp_path / "missing.mp4"
    assert "missing" in _one_line_error(lambda: VideoIndex.read(missing), missing)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    assert "not a readable video" in _one_line_error(lambda: VideoIndex.read(text), text)
    whole = tmp_path / "whole.mp4"
    encode_video(whole, moving_texture(), 25)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    _one_line_error(lambda: VideoReader(truncated).frames([0]), truncated)


def test_indices_outside_the_video_are_an_error(tmp_path):
    path = tmp_path / "short.mp4"
    encode_video(path, moving_texture(10), 25)
    message = _one_line_error(lambda: VideoReader(path).frames([3, 10]), path)
    assert "10 frames" in message


def test_a_seek_that_lands_before_the_keyframe_asked_for_still_progresses(tmp_path, monkeypatch):
    """Damaged files can flag a packet as a keyframe that the container's seek index lacks: a seek
    to it lands on an earlier keyframe. The reader decodes forward from there (found by fuzzing:
    it used to seek to the same place forever)."""
    path = tmp_path / "gop8.mp4"
    encode_video(path, moving_texture(40), 25, options={"g": "8", "bf": "0"})
    reference = sequential_decode(path)
    index = VideoIndex.read(path)
    assert list(np.flatnonzero(index.last_keyframe == np.arange(len(index)))) == [0, 8, 16, 24, 32]
    index.last_keyframe[13:16] = 13  # frame 13 claimed a keyframe; a seek to it lands on frame 8
    runs = []
    decode_run = VideoReader._decode_run

    def counted(self, *args):
        runs.append(len(runs))
        assert len(runs) < 10, "the reader keeps seeking without decoding a wanted frame"
        return decode_run(self, *args)

    monkeypatch.setattr(VideoReader, "_decode_run", counted)
    frames = VideoReader(path, index).frames([0, 1, 13])
    for got, wanted in zip(frames, [0, 1, 13]):
        np.testing.assert_array_equal(got, reference[wanted])


def test_a_stream_whose_codec_ffmpeg_cannot_decode_is_an_error(tmp_path, monkeypatch):
    path = tmp_path / "clip.mp4"
    encode_video(path, moving_texture(10), 25)
    real_open = av.open

    class UnknownCodec:  # what PyAV gives for a codec id FFmpeg has no decoder for
        def __init__(self, container):
            self.container = container
            self.streams = type("Streams", (), {"video": [type("Stream", (), {"codec_context": None})()]})()

        def close(self):
            self.container.close()

    monkeypatch.setattr(video_reader.av, "open", lambda *a, **k: UnknownCodec(real_open(*a, **k)))
    assert "codec cannot be decoded" in _one_line_error(lambda: VideoIndex.read(path), path)
