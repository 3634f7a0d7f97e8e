"""The two pickles the official MultiSports toolkit (`evaluate_multisports.py`) reads.

- `frame_detections.pkl`: a float64 `[N, 8]` ndarray, rows (video index into
  `test_videos[0]` from 0, frame number from 1, label index from 0, score, x1, y1, x2, y2 in
  gt pixels). The toolkit's README calls it a list of `(8,)` arrays, but its `frameAP` indexes
  it as a 2-D array (`dets[:, 2]`), which only an ndarray supports; iterating the ndarray gives
  exactly those `(8,)` rows.
- `video_detections.pkl`: {label index: [(video name as in `test_videos`, tube score (float),
  float32 tube `[T, 6]` rows (frame from 1, x1, y1, x2, y2, box score))]} with a key for every
  label (the toolkit looks up each evaluated label).

Then `evaluate_multisports.py frameAP|videoAP|videoAP_all|videoAP_error GT.pkl FILE` runs on
them unchanged.
"""

import os

import numpy as np

from eval.atomic import atomic_pickle
from eval.report.tables import make_output_dir

__all__ = ["FRAME_FILE", "VIDEO_FILE", "write_official_files"]

FRAME_FILE = "frame_detections.pkl"
VIDEO_FILE = "video_detections.pkl"


def write_official_files(directory, gt, frame_dets, tubes, *, option="--save-official"):
    """Writes both pickles into `directory` (created if needed); returns their paths.

    gt: `GroundTruth`; frame_dets: validated float64 `[N, 8]`; tubes: {label: [(video name,
    score, tube [T, 6])]} (linked or given); option: the argument named when the directory
    cannot be made.
    """
    make_output_dir(directory, option)
    frames = np.ascontiguousarray(frame_dets, dtype=np.float64).reshape(-1, 8)
    video = {
        label: [
            (str(name), float(score), np.asarray(tube, dtype=np.float32))
            for name, score, tube in tubes.get(label, ())
        ]
        for label in range(len(gt.labels))
    }
    paths = []
    for name, data in ((FRAME_FILE, frames), (VIDEO_FILE, video)):
        path = os.path.join(directory, name)
        atomic_pickle(path, data)
        paths.append(path)
    return paths
