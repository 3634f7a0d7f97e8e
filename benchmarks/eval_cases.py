"""Seeded, realistic large evaluation cases and simple per-detection baselines.

Case sizes are those the reference evaluators were timed at: AVA 300 videos x 30 keyframes
(~60k gt rows, ~140k predictions, 30 excluded keys); MultiSports 50 videos of 2,800-3,200
frames (~470 gt tubes, ~147k gt boxes, ~290k frame detections).

The baselines are deliberately plain: one Python loop step per detection over dict-of-frame
ground truth, the way the reference evaluators work. They serve as the "before" of the
benchmarks and as an independent cross-check of the vectorised evaluators in tests.
"""

import numpy as np
import pandas as pd

__all__ = [
    "AVA_CLASS_IDS",
    "ava_case",
    "multisports_case",
    "naive_ava_map",
    "naive_frame_ap",
    "naive_link_tubes",
]

# The 60 evaluated ids of the AVA ActivityNet label maps.
AVA_CLASS_IDS = (
    1,
    *range(3, 16),
    17,
    20,
    22,
    24,
    *range(26, 31),
    34,
    36,
    37,
    38,
    41,
    43,
    *range(45, 50),
    51,
    52,
    54,
    *range(56, 71),
    72,
    73,
    74,
    *range(76, 81),
)


def _jitter(boxes, rng, scale):
    """Boxes `[N, 4]` (x1, y1, x2, y2) moved by noise proportional to their size."""
    size = np.concatenate([boxes[:, 2:] - boxes[:, :2]] * 2, axis=1)
    return boxes + rng.normal(0, scale, boxes.shape) * size


def ava_case(
    *, seed=0, videos=300, timestamps=30, persons=2.85, extra_actions=1.5, false_boxes=1.0, scored_per_box=3
):
    """A synthetic AVA val set and detector output.

    Returns (gt DataFrame, pred DataFrame, label map {id: name}, excluded {(video, ts)}).
    Every person has a pose class and Poisson-many other classes from a long-tailed
    distribution. The detector sees every person (jittered) plus `false_boxes` spurious boxes
    per frame and scores each box for its true classes and `scored_per_box` random ones
    (overlapping score distributions), written with 4 decimals like mmaction2, so ties
    occur as in practice.
    """
    rng = np.random.default_rng(seed)
    ids = np.array(AVA_CLASS_IDS)
    popularity = 1.0 / np.arange(1, ids.size + 1) ** 1.1
    popularity /= popularity.sum()
    names = np.array([f"v{v:04d}{rng.integers(1 << 24):06x}"[:11] for v in range(videos)])
    frame_video = np.repeat(np.arange(videos), timestamps)
    frame_time = np.tile(np.arange(902, 902 + timestamps), videos)
    per_frame = np.maximum(1, rng.poisson(persons, frame_video.size))
    person_frame = np.repeat(np.arange(frame_video.size), per_frame)
    person_id = np.arange(person_frame.size) - np.repeat(np.cumsum(per_frame) - per_frame, per_frame)
    centre = rng.uniform(0.15, 0.85, (person_frame.size, 2))
    half = rng.uniform(0.08, 0.25, (person_frame.size, 2))
    person_box = np.clip(np.concatenate([centre - half, centre + half], 1), 0, 1).round(3)
    # Labels: one pose (ids <= 14) and Poisson-many others, deduplicated per person.
    pose_p = popularity[:13] / popularity[:13].sum()
    extra = rng.poisson(extra_actions, person_frame.size)
    label_person = np.concatenate(
        [np.arange(person_frame.size), np.repeat(np.arange(person_frame.size), extra)]
    )
    label_id = np.concatenate(
        [rng.choice(ids[:13], person_frame.size, p=pose_p), rng.choice(ids, extra.sum(), p=popularity)]
    )
    pairs = np.unique(np.column_stack([label_person, label_id]), axis=0)
    gt_person, gt_label = pairs[:, 0], pairs[:, 1]
    gt = pd.DataFrame(
        {
            "video": names[frame_video[person_frame[gt_person]]],
            "timestamp": frame_time[person_frame[gt_person]],
            **{c: person_box[gt_person, i] for i, c in enumerate(["x1", "y1", "x2", "y2"])},
            "action": gt_label,
            "person": person_id[gt_person].astype(np.float64),
        }
    )
    # Detector boxes: every person jittered, plus spurious boxes.
    n_false = rng.poisson(false_boxes, frame_video.size)
    false_frame = np.repeat(np.arange(frame_video.size), n_false)
    corner = rng.uniform(0, 0.7, (false_frame.size, 2))
    box_frame = np.concatenate([person_frame, false_frame])
    box = np.concatenate(
        [
            _jitter(person_box, rng, 0.15),
            np.concatenate([corner, corner + rng.uniform(0.1, 0.3, corner.shape)], 1),
        ]
    )
    box = np.sort(np.clip(box, 0, 1).reshape(-1, 2, 2), axis=1).reshape(-1, 4).round(4)
    random_box = np.repeat(np.arange(box_frame.size), scored_per_box)
    det_box = np.concatenate([gt_person, random_box])
    det_label = np.concatenate([gt_label, rng.choice(ids, random_box.size, p=popularity)])
    det_true = np.concatenate([np.ones(gt_person.size, bool), np.zeros(random_box.size, bool)])
    keep = np.unique(np.column_stack([det_box, det_label]), axis=0, return_index=True)[1]
    det_box, det_label, det_true = det_box[keep], det_label[keep], det_true[keep]
    score = np.where(det_true, rng.beta(2.5, 2, det_box.size), rng.beta(1, 3, det_box.size)).round(4)
    pred = pd.DataFrame(
        {
            "video": names[frame_video[box_frame[det_box]]],
            "timestamp": frame_time[box_frame[det_box]],
            **{c: box[det_box, i] for i, c in enumerate(["x1", "y1", "x2", "y2"])},
            "action": det_label,
            "score": score,
        }
    )
    pred = pred.sort_values(["video", "timestamp"], kind="stable").reset_index(drop=True)
    keys = np.unique(frame_video * 10000 + frame_time)
    chosen = rng.choice(keys, 30, replace=False)
    excluded = {(str(names[k // 10000]), int(k % 10000)) for k in chosen}
    label_map = {int(i): f"action {i}" for i in ids}
    return gt, pred, label_map, excluded


def multisports_case(
    *,
    seed=0,
    videos=50,
    min_frames=2800,
    max_frames=3200,
    tubes_per_video=9.4,
    distractors=0.85,
    flips_per_100_frames=0.7,
):
    """A synthetic MultiSports gt dict (official layout) and `[N, 8]` frame detections.

    Each video belongs to one sport (a block of the 66 labels); gt tubes are smooth person
    tracks of 100-600 frames. The detector outputs, on every frame, a jittered box for every
    gt person and for `distractors` untracked people on average, labelled with the true
    label except in short runs (5-40 frames, `flips_per_100_frames`) of another label of
    the sport, where its score is lower.
    """
    rng = np.random.default_rng(seed)
    sports = [range(0, 21), range(21, 33), range(33, 48), range(48, 66)]
    labels = [f"label {i}" for i in range(66)]
    for index, name in (
        (15, "aerobic kick jump"),
        (16, "aerobic off axis jump"),
        (17, "aerobic butterfly jump"),
        (20, "aerobic balance turn"),
        (64, "basketball save"),
        (65, "basketball jump ball"),
    ):
        labels[index] = name
    names = [f"sport{v % 4}/v_{v:04d}_c{rng.integers(100):03d}" for v in range(videos)]
    gt = {
        "labels": labels,
        "train_videos": [[]],
        "test_videos": [names],
        "nframes": {},
        "resolution": {},
        "gttubes": {},
    }
    dets = []
    for v, name in enumerate(names):
        n_frames = int(rng.integers(min_frames, max_frames + 1))
        gt["nframes"][name] = n_frames
        gt["resolution"][name] = (720, 1280)
        sport = sports[v % 4]
        tubes = {}
        tracks = []
        for _ in range(max(1, rng.poisson(tubes_per_video))):
            label = int(rng.choice(sport))
            length = int(rng.integers(100, 520))
            start = int(rng.integers(1, n_frames - length + 1))
            boxes = _track(rng, length)
            tube = np.concatenate([np.arange(start, start + length)[:, None], boxes], 1)
            tubes.setdefault(label, []).append(tube.astype(np.float32))
            tracks.append((label, start, boxes))
        gt["gttubes"][name] = tubes
        frames_total = n_frames * distractors
        while frames_total > 0:
            length = int(rng.integers(50, 400))
            start = int(rng.integers(1, max(2, n_frames - length + 1)))
            length = min(length, n_frames - start + 1)
            tracks.append((int(rng.choice(sport)), start, _track(rng, length)))
            frames_total -= length
        for label, start, boxes in tracks:
            n = len(boxes)
            flip = np.zeros(n, dtype=bool)
            det_labels = np.full(n, label)
            for begin in rng.integers(0, n, rng.poisson(n * flips_per_100_frames / 100)):
                run = slice(begin, begin + int(rng.integers(5, 41)))
                flip[run] = True
                det_labels[run] = rng.choice(sport)
            score = np.where(flip, rng.beta(2, 3, n), rng.beta(5, 2, n))
            det_boxes = _jitter(boxes, rng, 0.05)
            det_boxes[:, 2:] = np.maximum(det_boxes[:, 2:], det_boxes[:, :2] + 1)
            frames = np.arange(start, start + n)
            dets.append(np.column_stack([np.full(n, v), frames, det_labels, score, det_boxes]))
    return gt, np.concatenate(dets)


def _track(rng, length):
    """A smooth person box track `[length, 4]` in 1280x720 pixels."""
    centre = rng.uniform([200, 200], [1080, 520]) + np.cumsum(rng.normal(0, 2, (length, 2)), 0)
    size = rng.uniform([60, 150], [160, 350]) * (1 + 0.1 * np.sin(np.arange(length) / 30))[:, None]
    boxes = np.concatenate([centre - size / 2, centre + size / 2], 1)
    return np.clip(boxes, 0, [1279, 719, 1279, 719])


def _voc_ap(tp, n_gt):
    """VOC all-point AP of ranked TP flags, written out step by step."""
    precision, recall, hits = [], [], 0
    for k, flag in enumerate(tp, start=1):
        hits += flag
        precision.append(hits / k)
        recall.append(hits / n_gt)
    recall = [0.0] + recall + [1.0]
    precision = [0.0] + precision + [0.0]
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    return sum(
        (recall[i] - recall[i - 1]) * precision[i]
        for i in range(1, len(recall))
        if recall[i] != recall[i - 1]
    )


def _iou(a, b, plus_one=0.0):
    """IoU of two boxes (x1, y1, x2, y2) in the arithmetic's dtype of the inputs."""
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]) + plus_one)
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]) + plus_one)
    inter = w * h
    area_a = (a[2] - a[0] + plus_one) * (a[3] - a[1] + plus_one)
    area_b = (b[2] - b[0] + plus_one) * (b[3] - b[1] + plus_one)
    return inter / (area_a + area_b - inter)


def _greedy(dets, gts, thr):
    """TP flags of detections (best first) against gt boxes, one Python step per detection."""
    matched, flags = set(), []
    for box in dets:
        ious = [_iou(g, box) for g in gts]
        best = int(np.argmax(ious)) if ious else -1
        hit = best >= 0 and ious[best] >= thr and best not in matched
        if hit:
            matched.add(best)
        flags.append(hit)
    return flags


def naive_ava_map(gt, pred, label_map, excluded=()):
    """mmaction2-protocol AVA mAP (float32 boxes and scores) with per-detection loops."""
    gt = gt[gt["action"].isin(list(label_map))]
    pred = pred[pred["action"].isin(list(label_map))]
    gt_frames, num_gt = {}, {}
    for row in gt.itertuples(index=False):
        key = (row.video, int(row.timestamp))
        person = 1.0 if np.isnan(getattr(row, "person", np.nan)) else row.person
        gt_frames.setdefault(key, []).append((person, row.action, _box32(row)))
        num_gt[row.action] = num_gt.get(row.action, 0) + 1
    det_frames = {}
    for row in pred.itertuples(index=False):
        det_frames.setdefault((row.video, int(row.timestamp)), []).append(
            (row.score, row.action, _box32(row))
        )
    excluded = set(excluded)
    scores, flags = {}, {}
    for key, truths in gt_frames.items():
        if key in excluded or key not in det_frames:
            continue
        truths = sorted(truths, key=lambda t: -t[0])
        found = sorted(det_frames[key], key=lambda d: -d[0])
        for label in sorted({d[1] for d in found}):
            boxes = [d[2] for d in found if d[1] == label]
            scores.setdefault(label, []).extend(np.float32(d[0]) for d in found if d[1] == label)
            flags.setdefault(label, []).extend(_greedy(boxes, [t[2] for t in truths if t[1] == label], 0.5))
    aps = {}
    for label in scores:
        order = np.argsort(np.array(scores[label]), kind="stable")[::-1]
        if num_gt.get(label, 0):
            aps[label] = _voc_ap([flags[label][i] for i in order], num_gt[label])
    return float(np.mean(list(aps.values()))), aps


def _box32(row):
    return np.array([row.x1, row.y1, row.x2, row.y2], dtype=np.float64).astype(np.float32)


def naive_frame_ap(gt, frame_dets, thr, skipped=()):
    """MultiSports frame-AP per label with a Python step per detection. Returns {label: ap}."""
    aps = {}
    for label, name in enumerate(gt["labels"]):
        if name in skipped:
            continue
        boxes = {}
        for v, video in enumerate(gt["test_videos"][0]):
            for tube in gt["gttubes"].get(video, {}).get(label, []):
                for row in tube:
                    boxes.setdefault((v, int(row[0])), []).append(row[1:5].astype(np.float64))
        n_gt = sum(len(b) for b in boxes.values())
        if n_gt == 0:
            continue
        dets = frame_dets[frame_dets[:, 2] == label]
        matched, flags = {}, []
        for j in np.argsort(-dets[:, 3], kind="stable"):
            key = (int(dets[j, 0]), int(dets[j, 1]))
            hit = False
            if key in boxes:
                ious = [_iou(g, dets[j, 4:8]) for g in boxes[key]]
                best = int(np.argmax(ious))
                if ious[best] >= thr and best not in matched.setdefault(key, set()):
                    matched[key].add(best)
                    hit = True
            flags.append(hit)
        aps[label] = _voc_ap(flags, n_gt)
    return aps


def naive_link_tubes(gt, frame_dets, *, bug=False):
    """Frame-by-frame tube linking (K = 1) over every frame of every video and label with
    detections; returns {label: [(video, score, tube [T, 6])]} like `eval.multisports.tube_linking`."""
    videos, labels = gt["test_videos"][0], gt["labels"]
    out = {label: [] for label in range(len(labels))}
    rows = {}
    for det in frame_dets:
        score = frame_dets[-1, 3] if bug else det[3]
        rows.setdefault((int(det[0]), int(det[2])), {}).setdefault(int(det[1]), []).append([*det[4:8], score])
    for v, video in enumerate(videos):
        for label in range(len(labels)):
            per_frame = rows.get((v, label))
            if per_frame is None:
                continue
            finished, current = [], []
            for frame in range(1, gt["nframes"][video] + 1):
                boxes = _score_decay_nms(np.array(per_frame.get(frame, np.zeros((0, 5)))))
                if current:
                    means = [np.mean([b[4] for b in tube[1]]) for tube in current]
                    current = [current[i] for i in np.argsort(-np.array(means), kind="stable")]
                taken, kept, ended = set(), [], []
                for tube in current:
                    best = None
                    for i, box in enumerate(boxes):
                        if i not in taken and _iou(box, tube[1][-1]) >= 0.5:
                            best = i
                            break
                    if best is None:
                        ended.append(tube)
                    else:
                        taken.add(best)
                        tube[1].append(boxes[best])
                        kept.append(tube)
                finished.extend(ended[::-1])
                current = kept + [(frame, [b]) for i, b in enumerate(boxes) if i not in taken]
            for start, members in finished + current:
                score = np.mean([b[4] for b in members])
                if score >= 0.005 and len(members) >= 15:
                    tube = np.column_stack(
                        [np.arange(start, start + len(members)), np.array(members)]
                    ).astype(np.float32)
                    out[label].append((video, float(score), tube))
    return out


def _score_decay_nms(boxes, overlap=0.6, top_k=10):
    """Score-decay NMS with +1-pixel IoU; returns rows sorted by decayed score, best first."""
    if len(boxes) == 0:
        return boxes
    order = list(np.argsort(boxes[:, 4], kind="stable")[::-1])
    weight = np.ones(len(boxes))
    while order:
        best, rest = order[0], order[1:]
        order = []
        for i in rest:
            iou = _iou(boxes[i], boxes[best], plus_one=1.0)
            if iou > overlap:
                weight[i] = 1 - iou
            else:
                order.append(i)
    boxes = boxes.copy()
    boxes[:, 4] *= weight
    return boxes[np.argsort(boxes[:, 4], kind="stable")[::-1]][:top_k]


def naive_ava_main(argv):
    """`python -m benchmarks.eval_cases GT PRED LABEL_MAP [EXCLUDED]`: the AVA mAP of
    `naive_ava_map` as a whole process (eval's readers, then the per-detection loop): the
    same-run baseline of the command-line benchmarks."""
    from eval import ava

    gt, pred, label_map = ava.read_csv_gt(argv[0]), ava.read_csv_pred(argv[1]), ava.read_label_map(argv[2])
    excluded = ava.read_exclusions(argv[3]) if len(argv) > 3 else ()
    print(f"naive frame-mAP {100 * naive_ava_map(gt, pred, label_map, excluded)[0]:.4f}")


if __name__ == "__main__":
    import sys

    naive_ava_main(sys.argv[1:])
