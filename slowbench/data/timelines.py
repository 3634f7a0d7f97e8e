"""Per-dataset rules that map an annotated timestamp to frames, shot bounds and proposal keys.

Plain classes (no lambdas) so a dataset pickles into spawned DataLoader workers.
"""

from __future__ import annotations

from .annotations import Keyframe, image_key
from .errors import DataError
from .frame_decode import FrameFolders

AVA_FPS = 30
AVA_TIMESTAMPS = (900, 1800)  # the reference code defaults (its docstring's 902/1798 is wrong)


class AvaTimeline:
    """AVA: 30 fps from second 900, shot (0, 27000), proposal key `video,TTTT`.

    start_index 1 for AVADataset (centre img_{30 (t - 900) + 2}), 0 for AVA-Kinetics.
    """

    fps = AVA_FPS

    def __init__(self, start_index: int = 1):
        self.start_index = start_index

    def timestamp_start(self, video: str) -> int:
        return AVA_TIMESTAMPS[0]

    def shot(self, video: str) -> tuple[int, int]:
        return 0, (AVA_TIMESTAMPS[1] - AVA_TIMESTAMPS[0]) * AVA_FPS

    def proposal_key(self, video: str, timestamp: int) -> str:
        return image_key(video, timestamp)

    def extra_meta(self, keyframe: Keyframe) -> dict:
        return {}


def kinetics_timestamps(video: str) -> tuple[int, int]:
    """(start, end) seconds of an AVA-Kinetics video: AVA ids (11 chars) span 900-1800, Kinetics
    clips `<youtube_id>_<start:06d>_<end:06d>` carry theirs in the name."""
    if len(video) == 11:
        return AVA_TIMESTAMPS
    try:
        _, start, end = video.rsplit("_", 2)
        return int(start), int(end)
    except ValueError:
        raise DataError(
            f"AVA-Kinetics video {video!r} is neither an 11-character AVA id nor <youtube_id>_<start>_<end>"
        ) from None


class KineticsTimeline(AvaTimeline):
    """AVA-Kinetics: start_index 0, per-video second range, Kinetics proposals keyed by YouTube id.

    Consciously fixed quirk: the reference gives every sample the shot of the CSV's last line;
    here each video gets its own (0, 30 (end - start)).
    """

    def __init__(self):
        super().__init__(start_index=0)

    def timestamp_start(self, video: str) -> int:
        return kinetics_timestamps(video)[0]

    def shot(self, video: str) -> tuple[int, int]:
        start, end = kinetics_timestamps(video)
        return 0, (end - start) * AVA_FPS

    def proposal_key(self, video: str, timestamp: int | float) -> str:
        """AVA: `video,TTTT`; a Kinetics clip: `<youtube_id>,<whole seconds:04d>` (the keys the
        reference's proposal script writes)."""
        if len(video) == 11:
            return image_key(video, timestamp)
        return image_key(video.rsplit("_", 2)[0], int(timestamp))


class SecondsTimeline:
    """A dataset file's keyframes: second t is 0-based frame round((t - timestamp_start) * fps)
    (the nearest frame, ties to even, as AVA-Kinetics' fractional seconds), shot (0, frame count),
    proposal key `video,TTTT` (`image_key`). `frames` is the split's clip source (its `count`)."""

    start_index = 0

    def __init__(self, frames, *, fps: float, timestamp_start: float):
        self.frames = frames
        self.fps = fps
        self.start = timestamp_start

    def timestamp_start(self, video: str) -> float:
        return self.start

    def shot(self, video: str) -> tuple[int, int]:
        return 0, self.frames.count(video)

    def proposal_key(self, video: str, timestamp: int | float) -> str:
        return image_key(video, timestamp)

    def extra_meta(self, keyframe: Keyframe) -> dict:
        return {}


def _strip_mp4(video: str) -> str:
    return video[:-4] if video.endswith(".mp4") else video


class MultiSportsTimeline:
    """MultiSports: timestamps are 1-based frame numbers, fps 1, start_index 0, shot (0, nframes).

    The clip centre is the 0-based index `frame - 1`. `gt` (the GT pickle, optional) gives the
    frame count (else the frame folder is counted), resolution and the video's index in the
    split's video list, which the evaluator's detection rows use.
    """

    fps = 1
    start_index = 0

    def __init__(self, frames: FrameFolders, gt: dict | None, split: str):
        self.frames = frames
        self.gt = gt
        order = (gt or {}).get("train_videos" if split == "train" else "test_videos", [[]])[0]
        self.video_index = {name: index for index, name in enumerate(order)}

    def timestamp_start(self, video: str) -> int:
        return 1

    def shot(self, video: str) -> tuple[int, int]:
        name = _strip_mp4(video)
        if self.gt is not None and name in self.gt["nframes"]:
            return 0, int(self.gt["nframes"][name])
        return 0, self.frames.count(video)

    def proposal_key(self, video: str, timestamp: int) -> str:
        return image_key(video, timestamp)

    def extra_meta(self, keyframe: Keyframe) -> dict:
        name = _strip_mp4(keyframe.video)
        resolution = None if self.gt is None else self.gt["resolution"].get(name)
        return {
            "video_index": self.video_index.get(name, -1),
            "frame": keyframe.timestamp,
            "resolution": None if resolution is None else tuple(int(v) for v in resolution),
        }
