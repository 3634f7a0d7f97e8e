"""Links MultiSports frame detections into tubes (mmaction2's `link_tubes`, K = 1).

Per video and label, frame by frame: the frame's boxes go through a score-decay NMS (boxes
overlapping a better one by IoU > 0.6, with +1-pixel areas, keep a score scaled by 1 - IoU;
the best 10 remain); current tubes, ordered by mean score, each take the best remaining box
with IoU >= 0.5 to their last box, or end; boxes left over start tubes. Tubes with mean score
>= 0.005 and length >= 15 frames are returned.

`compat="mmaction2"` reproduces mmaction2's bug that gives every box the score of the last row
of the whole detection array; the default uses each box's own score. Ties are broken the way
numpy 1.x sorts the small per-frame arrays: stable ascending sorts reversed for boxes, stable
descending mean score for tubes.

Speed: a frame without boxes ends every tube, so only frames with boxes are visited; the NMS
and the IoUs between consecutive frames' boxes are computed for all frames at once, leaving a
short Python loop per frame that only picks indices.
"""
import numpy as np

from eval.box_iou import paired_iou

__all__ = ["link_tubes", "NMS_OVERLAP", "TOP_K", "LINK_IOU", "MIN_TUBE_SCORE", "MIN_TUBE_LENGTH"]

NMS_OVERLAP = 0.6
TOP_K = 10
LINK_IOU = 0.5
MIN_TUBE_SCORE = 0.005
MIN_TUBE_LENGTH = 15


def link_tubes(gt, frame_dets, *, compat=None):
    """Tubes per label: {label: [(video name, tube score, float32 tube [T, 6])]} for every label.

    gt: `GroundTruth` (videos, frame counts, labels); frame_dets: validated float64 `[N, 8]`.
    A tube row is (frame, x1, y1, x2, y2, box score); the tube score is the mean box score.
    """
    tubes = {label: [] for label in range(len(gt.labels))}
    if len(frame_dets) == 0:
        return tubes
    score = frame_dets[:, 3].copy()
    if compat == "mmaction2":
        score[:] = frame_dets[-1, 3]
    video = frame_dets[:, 0].astype(np.int64)
    label = frame_dets[:, 2].astype(np.int64)
    frame = frame_dets[:, 1].astype(np.int64)
    frame_span = int(gt.nframes.max()) + 2
    stream = video * len(gt.labels) + label
    group = stream * frame_span + frame
    box_group, boxes, box_score = _nms_tubelets(group, frame_dets[:, 4:8], score)
    group_ids, group_start = np.unique(box_group, return_index=True)
    group_end = np.append(group_start[1:], box_group.size)
    successors = _successor_candidates(box_group, boxes, group_ids, group_start, group_end,
                                       frame_span)

    stream_of_group = group_ids // frame_span
    frame_of_group = group_ids % frame_span
    stream_ids, stream_first = np.unique(stream_of_group, return_index=True)
    stream_last = np.append(stream_first[1:], group_ids.size)
    for stream_id, first, last in zip(stream_ids.tolist(), stream_first.tolist(),
                                      stream_last.tolist()):
        video_index, label_index = divmod(stream_id, len(gt.labels))
        finished = _link_stream(frame_of_group[first:last].tolist(),
                                group_start[first:last].tolist(), group_end[first:last].tolist(),
                                successors, box_score, int(gt.nframes[video_index]))
        for start, members in finished:
            tube = _build_tube(start, members, boxes, box_score)
            if tube is not None:
                tubes[label_index].append((gt.videos[video_index], *tube))
    return tubes


def _nms_tubelets(group, boxes, score):
    """Score-decay NMS per group, all groups at once.

    Returns (group `[M]`, boxes `[M, 4]`, decayed score `[M]`) sorted by group, then as the
    reference re-sorts: descending decayed score, equal scores in reverse input order; at
    most TOP_K per group.
    """
    position = np.arange(group.size)
    # Input order of a group's rows = file order; candidates visited best first.
    order = np.lexsort((-position, -score, group))
    group, boxes, score, position = group[order], boxes[order], score[order], position[order]
    weight = np.ones(group.size)
    alive = np.ones(group.size, dtype=bool)
    while True:
        live = np.flatnonzero(alive)
        if live.size == 0:
            break
        live_group = group[live]
        is_leader = np.ones(live.size, dtype=bool)
        is_leader[1:] = live_group[1:] != live_group[:-1]
        alive[live[is_leader]] = False
        leader_of = live[is_leader][np.cumsum(is_leader) - 1]
        others = ~is_leader
        if not others.any():
            break
        rest, leader = live[others], leader_of[others]
        iou = paired_iou(boxes[rest], boxes[leader], plus_one=True)
        suppressed = iou > NMS_OVERLAP
        weight[rest[suppressed]] = 1 - iou[suppressed]
        alive[rest[suppressed]] = False
    decayed = score * weight
    final = np.lexsort((-position, -decayed, group))
    group, boxes, decayed = group[final], boxes[final], decayed[final]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    rank = np.arange(group.size) - np.repeat(starts, np.diff(np.r_[starts, group.size]))
    keep = rank < TOP_K
    return group[keep], boxes[keep], decayed[keep]


def _successor_candidates(box_group, boxes, group_ids, group_start, group_end, frame_span):
    """For every box, the boxes of the next frame (same stream) with IoU >= LINK_IOU to it,
    in that frame's order (= preference order). Returns a list of lists indexed by box."""
    next_is_successor = np.zeros(group_ids.size, dtype=bool)
    next_is_successor[:-1] = group_ids[1:] == group_ids[:-1] + 1
    pairs_prev, pairs_next = [], []
    prev_groups = np.flatnonzero(next_is_successor)
    if prev_groups.size:
        prev_count = group_end[prev_groups] - group_start[prev_groups]
        next_count = group_end[prev_groups + 1] - group_start[prev_groups + 1]
        pair_count = prev_count * next_count
        pair_group = np.repeat(np.arange(prev_groups.size), pair_count)
        within = np.arange(pair_count.sum()) - np.repeat(np.cumsum(pair_count) - pair_count, pair_count)
        # Pairs ordered by previous box, then next box: candidate lists come out in frame order.
        n_next = next_count[pair_group]
        pairs_prev = group_start[prev_groups][pair_group] + within // n_next
        pairs_next = group_start[prev_groups + 1][pair_group] + within % n_next
        iou = paired_iou(boxes[pairs_next], boxes[pairs_prev])
        valid = iou >= LINK_IOU
        pairs_prev, pairs_next = pairs_prev[valid].tolist(), pairs_next[valid].tolist()
    successors = [()] * box_group.size
    for prev, nxt in zip(pairs_prev, pairs_next):
        if successors[prev] == ():
            successors[prev] = [nxt]
        else:
            successors[prev].append(nxt)
    return successors


def _link_stream(frames, starts, ends, successors, box_score, nframes):
    """Greedy linking of one (video, label) stream; returns finished tubes in the reference's
    order as (start frame, [box index per frame])."""
    finished = []
    current = []  # tubes in list order: [start frame, [box indices]]
    previous = None
    for frame, start, end in zip(frames, starts, ends):
        if current and frame != previous + 1:
            # The frame after `previous` has no boxes: every tube ends there.
            finished.extend(reversed(_by_mean_score(current, box_score)))
            current = []
        if not current:
            current = [[frame, [box]] for box in range(start, end)]
        elif len(current) == 1 and end - start == 1:
            tube = current[0]
            if successors[tube[1][-1]]:
                tube[1].append(start)
            else:
                finished.append(tube)
                current = [[frame, [start]]]
        else:
            taken = set()
            kept, ended = [], []
            for tube in _by_mean_score(current, box_score):
                pick = next((b for b in successors[tube[1][-1]] if b not in taken), None)
                if pick is None:
                    ended.append(tube)
                else:
                    taken.add(pick)
                    tube[1].append(pick)
                    kept.append(tube)
            finished.extend(reversed(ended))
            current = kept + [[frame, [b]] for b in range(start, end) if b not in taken]
        previous = frame
    if previous is not None and previous < nframes:
        finished.extend(reversed(_by_mean_score(current, box_score)))
    else:
        finished.extend(current)
    return finished


def _by_mean_score(tubes, box_score):
    """Tubes sorted by descending mean box score (numpy's float64 mean), stable."""
    if len(tubes) < 2:
        return list(tubes)
    means = [np.mean(box_score[members]) for _, members in tubes]
    return [tubes[i] for i in sorted(range(len(tubes)), key=lambda i: -means[i])]


def _build_tube(start, members, boxes, box_score):
    """(score, float32 [T, 6]) for a kept tube, None for one too weak or too short."""
    scores = box_score[members]
    score = float(np.mean(scores))
    if score < MIN_TUBE_SCORE or len(members) < MIN_TUBE_LENGTH:
        return None
    tube = np.empty((len(members), 6), dtype=np.float32)
    tube[:, 0] = np.arange(start, start + len(members))
    tube[:, 1:5] = boxes[members]
    tube[:, 5] = scores
    return score, tube
