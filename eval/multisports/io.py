"""MultiSports inputs: the official gt pickle, frame detections `[N, 8]` and video tubes.

Every check raises `InputError("<source>: <key or row>: <problem>")`; detections and tubes of
labels outside the gt's label list are ignored, counted as `eval.ignored` says.
"""

import dataclasses
import os
from tokenize import TokenError

import numpy as np

from eval import safe_pickle
from eval.errors import InputError, first_line, is_finite, reading
from eval.ignored import note_ignored

__all__ = [
    "GroundTruth",
    "SKIPPED_LABEL_NAMES",
    "DEFAULT_GT_PATH",
    "load_gt",
    "prepare_gt",
    "load_predictions",
    "check_frame_dets",
    "check_video_dets",
]

DEFAULT_GT_PATH = os.path.join("data", "multisports", "annotations", "multisports_GT.pkl")
# Never evaluated by the official script (matched by the gt pickle's spelling).
SKIPPED_LABEL_NAMES = frozenset(
    {
        "aerobic kick jump",
        "aerobic off axis jump",
        "aerobic butterfly jump",
        "aerobic balance turn",
        "basketball save",
        "basketball jump ball",
    }
)


@dataclasses.dataclass(frozen=True)
class GroundTruth:
    """Validated gt of the evaluated split (`test_videos[0]`).

    labels: class names; videos: evaluated video names (index = video_idx of detections);
    nframes: int64 `[V]`; tubes: {label: [(video_idx, float32 tube `[T, 5]` (frame, x1, y1,
    x2, y2))]} in the pickle's order (video, then tube list order); video_tubes: per video,
    [(label, tube)] in the pickle's order (label dict order, then tube list order).
    """

    labels: list
    videos: list
    nframes: np.ndarray
    tubes: dict
    video_tubes: list

    def evaluated_labels(self):
        """Label indices that enter the means: not skipped by name and with at least one tube."""
        return [
            label
            for label, name in enumerate(self.labels)
            if name not in SKIPPED_LABEL_NAMES and self.tubes.get(label)
        ]


def load_gt(path):
    """Reads and validates a gt pickle (restricted unpickler); returns the raw dict."""
    data = safe_pickle.load(path)
    prepare_gt(data, source=os.fspath(path))
    return data


def prepare_gt(gt, *, source="gt"):
    """Validates the official gt dict and returns its `GroundTruth` view."""
    if isinstance(gt, GroundTruth):
        return gt
    if not isinstance(gt, dict):
        raise InputError(f"{source}: expected a dict, got {type(gt).__name__}")
    for key in ("labels", "test_videos", "nframes", "gttubes"):
        if key not in gt:
            raise InputError(f"{source}: missing key '{key}'")
    labels = gt["labels"]
    if not isinstance(labels, (list, tuple)) or not all(isinstance(n, str) for n in labels):
        raise InputError(f"{source}: key 'labels': expected a list of names")
    splits = gt["test_videos"]
    if (
        not isinstance(splits, (list, tuple))
        or not splits
        or not isinstance(splits[0], (list, tuple))
        or not all(isinstance(v, str) for v in splits[0])
    ):
        raise InputError(f"{source}: key 'test_videos': expected a list holding a list of names")
    videos = list(splits[0])
    if not videos:
        raise InputError(f"{source}: key 'test_videos': no test video to evaluate")
    nframes = np.zeros(len(videos), dtype=np.int64)
    tubes, video_tubes = {}, [[] for _ in videos]
    for index, video in enumerate(videos):
        count = gt["nframes"].get(video) if isinstance(gt["nframes"], dict) else None
        if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or not 1 <= count < 2**63:
            raise InputError(f"{source}: key 'nframes'['{video}']: expected a positive integer")
        nframes[index] = count
        by_label = gt["gttubes"].get(video, {}) if isinstance(gt["gttubes"], dict) else None
        if not isinstance(by_label, dict):
            raise InputError(f"{source}: key 'gttubes'['{video}']: expected a dict label -> tubes")
        for label, tube_list in by_label.items():
            where = f"{source}: key 'gttubes'['{video}'][{label!r}]"
            if not isinstance(label, (int, np.integer)) or not 0 <= label < len(labels):
                raise InputError(f"{where}: label is not an index into 'labels'")
            for number, tube in enumerate(tube_list):
                check_tube(tube, 5, f"{where}[{number}]", int(count))
                tube = np.asarray(tube, dtype=np.float32)
                tubes.setdefault(int(label), []).append((index, tube))
                video_tubes[index].append((int(label), tube))
    return GroundTruth(list(labels), videos, nframes, tubes, video_tubes)


def check_tube(tube, width, where, nframes=None):
    """A tube is a finite `[T, width]` array with contiguous increasing integer frames."""
    if not isinstance(tube, np.ndarray) or tube.ndim != 2 or tube.shape[1] != width or not len(tube):
        shape = getattr(tube, "shape", type(tube).__name__)
        raise InputError(f"{where}: expected a non-empty [T, {width}] array, got {shape}")
    if tube.dtype.kind not in "fiu":
        raise InputError(f"{where}: expected an array of numbers, got dtype {tube.dtype}")
    if not np.isfinite(tube).all():
        raise InputError(f"{where}: non-finite value")
    frames = tube[:, 0]
    if (frames != np.round(frames)).any() or (np.diff(frames) != 1).any():
        raise InputError(f"{where}: frames must be contiguous increasing integers")
    if frames[0] < 1 or (nframes is not None and frames[-1] > nframes):
        raise InputError(f"{where}: frames {int(frames[0])}..{int(frames[-1])} outside 1..{nframes}")
    if ((tube[:, 3] < tube[:, 1]) | (tube[:, 4] < tube[:, 2])).any():
        raise InputError(f"{where}: inverted box (x2 < x1 or y2 < y1)")


def load_predictions(path):
    """Reads PREDS: an `[N, 8]` array (pickle or .npy) or a dict with `frame_dets`, optional
    `video_dets` and `gt_path`. Returns (frame_dets, video_dets or None, gt_path or None)."""
    source = os.fspath(path)
    if source.endswith(".npy"):
        try:
            with reading(source):
                data = np.load(source, allow_pickle=False)
        except (ValueError, EOFError, SyntaxError, TokenError, UnicodeDecodeError, MemoryError) as error:
            # What numpy's reader raises for a truncated or damaged file (its header is a Python literal).
            raise InputError(f"{source}: not a plain .npy array ({first_line(error)})") from None
    else:
        data = safe_pickle.load(source)
    if isinstance(data, dict):
        if "frame_dets" not in data:
            raise InputError(f"{source}: dict without key 'frame_dets'")
        gt_path = data.get("gt_path")
        if gt_path is not None and not isinstance(gt_path, str):
            raise InputError(f"{source}: key 'gt_path': expected a string")
        return data["frame_dets"], data.get("video_dets"), gt_path
    return data, None, None


def check_frame_dets(gt, frame_dets, source="frame_dets", ignored=None):
    """Validates `[N, 8]` (video_idx, frame, label, score, x1, y1, x2, y2); returns float64 rows
    with known labels (the others are noted in the dict `ignored`, `eval.ignored`)."""
    array = np.asarray(frame_dets) if not isinstance(frame_dets, np.ndarray) else frame_dets
    if array.dtype == object or array.ndim != 2 or array.shape[1] != 8:
        if array.size == 0 and array.ndim <= 2:
            return np.zeros((0, 8))
        raise InputError(
            f"{source}: expected an [N, 8] numeric array, got shape {getattr(array, 'shape', '?')}"
        )
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{source}: expected an [N, 8] numeric array") from None

    def reject(bad, problem):
        rows = np.flatnonzero(bad)
        if rows.size:
            raise InputError(f"{source}: row {rows[0]}: {problem} ({_row_text(array[rows[0]])})")

    reject(~np.isfinite(array).all(axis=1), "non-finite value")
    reject(
        (array[:, :3] != np.round(array[:, :3])).any(axis=1), "video index, frame and label must be integers"
    )
    video = array[:, 0]
    reject((video < 0) | (video >= len(gt.videos)), f"unknown video index (test videos: {len(gt.videos)})")
    frame_limit = gt.nframes[video.astype(np.int64)]
    reject((array[:, 1] < 1) | (array[:, 1] > frame_limit), "frame outside 1..nframes of its video")
    reject((array[:, 6] < array[:, 4]) | (array[:, 7] < array[:, 5]), "inverted box (x2 < x1 or y2 < y1)")
    label = array[:, 2]
    unknown = (label < 0) | (label >= len(gt.labels))
    if unknown.any():
        what = f"detections with labels outside 0..{len(gt.labels) - 1}"
        first = f"row {np.flatnonzero(unknown)[0]}, label {int(label[unknown][0])}"
        note_ignored(
            {} if ignored is None else ignored,
            "detections_label_not_in_gt",
            source,
            unknown.sum(),
            what,
            first,
        )
        array = array[~unknown]
    return array


def _row_text(row):
    return ", ".join(f"{v:g}" for v in row)


def check_video_dets(gt, video_dets, source="video_dets", ignored=None):
    """Validates {label: [(video name, score, tube [T, 6])]}; returns it with int labels.

    Tubes of unknown labels are noted in the dict `ignored` (`eval.ignored`); unknown videos are
    an error.
    """
    if not isinstance(video_dets, dict):
        raise InputError(f"{source}: expected a dict label -> list of (video, score, tube)")
    index = {video: i for i, video in enumerate(gt.videos)}
    checked, unknown = {}, []
    for label, entries in video_dets.items():
        if not isinstance(label, (int, np.integer)) or not 0 <= label < len(gt.labels):
            unknown.append(label)
            continue
        where = f"{source}[{label}]"
        if not isinstance(entries, (list, tuple)):
            raise InputError(f"{where}: expected a list of (video, score, tube)")
        for number, entry in enumerate(entries):
            if not isinstance(entry, (list, tuple)) or len(entry) != 3:
                raise InputError(f"{where}[{number}]: expected (video, score, tube)")
            video, score, tube = entry
            if not isinstance(video, str) or video not in index:
                raise InputError(f"{where}[{number}]: unknown video {video!r}")
            if not isinstance(score, (float, int, np.floating, np.integer)) or not is_finite(score):
                raise InputError(f"{where}[{number}]: score must be a finite number")
            check_tube(tube, 6, f"{where}[{number}]", int(gt.nframes[index[video]]))
        checked[int(label)] = list(entries)
    if unknown:
        count = sum(
            len(video_dets[label]) if isinstance(video_dets[label], (list, tuple)) else 1 for label in unknown
        )
        what = f"tubes of labels outside 0..{len(gt.labels) - 1}"
        note_ignored(
            {} if ignored is None else ignored,
            "tubes_label_not_in_gt",
            source,
            count,
            what,
            f"label {unknown[0]!r}",
        )
    return checked
