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

import contextlib
import gc

import numpy as np

from eval.box_iou import paired_iou
from eval.fork_map import fork_map
from eval.int_sort import descending_rank, order_by

__all__ = ["link_tubes", "NMS_OVERLAP", "TOP_K", "LINK_IOU", "MIN_TUBE_SCORE", "MIN_TUBE_LENGTH"]

NMS_OVERLAP = 0.6
TOP_K = 10
LINK_IOU = 0.5
MIN_TUBE_SCORE = 0.005
MIN_TUBE_LENGTH = 15


def link_tubes(gt, frame_dets, *, compat=None, workers=1):
    """Tubes per label: {label: [(video name, tube score, float32 tube [T, 6])]} for every label.

    gt: `GroundTruth` (videos, frame counts, labels); frame_dets: validated float64 `[N, 8]`.
    A tube row is (frame, x1, y1, x2, y2, box score); the tube score is the mean box score.
    workers > 1: videos are split into that many runs of about equal detection counts, linked
    side by side in forked processes (`eval.fork_map`; only for a process without threads of
    its own); the tubes are the same.
    """
    tubes = {label: [] for label in range(len(gt.labels))}
    if len(frame_dets) == 0:
        return tubes
    score = frame_dets[:, 3].copy()
    if compat == "mmaction2":
        score[:] = frame_dets[-1, 3]
    video = frame_dets[:, 0].astype(np.int64)
    parts = fork_map(
        lambda rows: _link_rows(gt, frame_dets[rows], score[rows], video[rows]),
        _video_runs(video, workers),
    )
    for part in parts:  # runs of videos in ascending order: each label's tubes stay in video order
        for label, found in part.items():
            tubes[label].extend(found)
    return tubes


def _video_runs(video, count):
    """Row selections (all rows, or row indices `[n_i]`) of at most `count` runs of consecutive
    video indices with about equal numbers of rows (rows keep their file order)."""
    if count <= 1:
        return [slice(None)]
    rows_per_video = np.bincount(video)
    bounds = np.searchsorted(np.cumsum(rows_per_video), np.arange(1, count) * video.size / count, "right")
    edges = np.unique(np.concatenate([[0], bounds, [rows_per_video.size]]))
    run_of_row = np.searchsorted(edges, video, "right") - 1
    return [
        rows for rows in (np.flatnonzero(run_of_row == run) for run in range(edges.size - 1)) if rows.size
    ]


def _link_rows(gt, frame_dets, score, video):
    """`link_tubes` of the given rows (whole videos), scores already chosen: {label: tubes}."""
    tubes = {}
    label = frame_dets[:, 2].astype(np.int64)
    frame = frame_dets[:, 1].astype(np.int64)
    frame_span = int(gt.nframes.max()) + 2
    stream = video * len(gt.labels) + label
    group = stream * frame_span + frame
    box_group, boxes, box_score = _nms_tubelets(group, frame_dets[:, 4:8], score)
    group_ids, group_start = np.unique(box_group, return_index=True)
    group_end = np.append(group_start[1:], box_group.size)
    first_candidate, candidates = _successor_candidates(box_group, boxes, group_ids, group_start, group_end)

    count = group_end - group_start
    stream_of_group = group_ids // frame_span
    frame_of_group = group_ids % frame_span
    # A "simple" group has one box and follows, in the next frame, a group with one box:
    # exactly one tube is open there and it either takes the box or ends.
    simple = np.zeros(group_ids.size, dtype=bool)
    simple[1:] = (count[1:] == 1) & (count[:-1] == 1) & (group_ids[1:] == group_ids[:-1] + 1)
    # run_end[i]: first non-simple group after i (runs of simple groups are skipped at once).
    boundary = np.flatnonzero(~simple)
    next_boundary = np.searchsorted(boundary, np.arange(group_ids.size), "right")
    run_end = np.append(boundary, group_ids.size)[next_boundary]
    has_successor = np.append(np.diff(first_candidate) > 0, False)
    frame_of_box = np.repeat(frame_of_group, count)
    score_prefix = np.concatenate([[0.0], np.cumsum(box_score)])
    score_changes = np.concatenate([[0], np.cumsum(box_score[1:] != box_score[:-1])])
    state = _Stream(
        frame_of_group.tolist(),
        group_start.tolist(),
        group_end.tolist(),
        simple.tolist(),
        run_end.tolist(),
        ~has_successor,
        frame_of_box.tolist(),
        first_candidate.tolist(),
        candidates,
        box_score,
        score_prefix.tolist(),
        score_changes.tolist(),
    )
    stream_ids, stream_first = np.unique(stream_of_group, return_index=True)
    stream_last = np.append(stream_first[1:], group_ids.size)
    with _no_cyclic_gc():
        for stream_id, first, last in zip(stream_ids.tolist(), stream_first.tolist(), stream_last.tolist()):
            video_index, label_index = divmod(stream_id, len(gt.labels))
            for start, members in state.link(first, last, int(gt.nframes[video_index])):
                tube = _build_tube(start, members, boxes, box_score)
                if tube is not None:
                    tubes.setdefault(label_index, []).append((gt.videos[video_index], *tube))
    return tubes


@contextlib.contextmanager
def _no_cyclic_gc():
    """Pauses the cyclic collector: the loop allocates ~10^5 small acyclic lists, and repeated
    full collections over them cost more than the linking itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _nms_tubelets(group, boxes, score):
    """Score-decay NMS per group, all groups at once.

    Returns (group `[M]`, boxes `[M, 4]`, decayed score `[M]`) sorted by group, then as the
    reference re-sorts: descending decayed score, equal scores in reverse input order; at
    most TOP_K per group.
    """
    position = np.arange(group.size)
    reverse_position = position[::-1].copy()
    # Input order of a group's rows = file order; candidates visited best first.
    order = order_by(group, descending_rank(score), reverse_position, last_is_unique=True)
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
    final = order_by(group, descending_rank(decayed), group.size - 1 - position, last_is_unique=True)
    group, boxes, decayed = group[final], boxes[final], decayed[final]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    rank = np.arange(group.size) - np.repeat(starts, np.diff(np.r_[starts, group.size]))
    keep = rank < TOP_K
    return group[keep], boxes[keep], decayed[keep]


def _successor_candidates(box_group, boxes, group_ids, group_start, group_end):
    """For every box, the boxes of the next frame (same stream) with IoU >= LINK_IOU to it,
    in that frame's order (= preference order), as CSR: box b's candidates are
    `candidates[first[b]:first[b + 1]]`. Returns (first int64 `[M + 1]`, candidates list)."""
    next_is_successor = np.zeros(group_ids.size, dtype=bool)
    next_is_successor[:-1] = group_ids[1:] == group_ids[:-1] + 1
    prev_groups = np.flatnonzero(next_is_successor)
    prev_count = group_end[prev_groups] - group_start[prev_groups]
    next_count = group_end[prev_groups + 1] - group_start[prev_groups + 1]
    pair_count = prev_count * next_count
    pair_group = np.repeat(np.arange(prev_groups.size), pair_count)
    within = np.arange(pair_count.sum()) - np.repeat(np.cumsum(pair_count) - pair_count, pair_count)
    # Pairs ordered by previous box, then next box: candidate lists come out in frame order.
    n_next = next_count[pair_group]
    pairs_prev = group_start[prev_groups][pair_group] + within // n_next
    pairs_next = group_start[prev_groups + 1][pair_group] + within % n_next
    valid = paired_iou(boxes[pairs_next], boxes[pairs_prev]) >= LINK_IOU
    pairs_prev, pairs_next = pairs_prev[valid], pairs_next[valid]
    first = np.searchsorted(pairs_prev, np.arange(box_group.size + 1))
    return first, pairs_next.tolist()


class _Stream:
    """Per-group arrays (as Python lists, for a fast loop) and the greedy linking loop.

    A tube is [start frame, [box indices], running score sum, the common score of all its
    boxes or None]. Tubes whose boxes share one score (all of them under the mmaction2 bug)
    get numpy's exact mean from a (score, length) cache instead of a pass over their boxes.
    """

    # Means closer than this are re-ranked with numpy's exact mean (the reference's value).
    NEAR_TIE = 1e-8

    def __init__(
        self,
        frames,
        starts,
        ends,
        simple,
        run_end,
        breaks,
        frame_of_box,
        first_candidate,
        candidates,
        box_score,
        score_prefix,
        score_changes,
    ):
        self.frames, self.starts, self.ends = frames, starts, ends
        self.simple, self.run_end, self.breaks = simple, run_end, breaks
        self.frame_of_box = frame_of_box
        self.first_candidate, self.candidates = first_candidate, candidates
        self.box_score, self.prefix = box_score, score_prefix
        self.scores, self.changes = box_score.tolist(), score_changes
        self.constant_means = {}

    def link(self, first, last, nframes):
        """Links groups first..last-1 (one video and label); returns the finished tubes in the
        reference's order as (start frame, [box index per frame])."""
        finished, current = [], []
        previous = None
        i = first
        while i < last:
            if self.simple[i]:
                i = self._run(i, current, finished)
                previous = self.frames[i - 1]
                continue
            frame, start, end = self.frames[i], self.starts[i], self.ends[i]
            if current and frame != previous + 1:
                # The frame after `previous` has no boxes: every tube ends there.
                finished.extend(reversed(self._by_mean_score(current)))
                current = []
            if not current:
                current = [self._new(b) for b in range(start, end)]
            else:
                taken, kept, ended = set(), [], []
                for tube in self._by_mean_score(current):
                    last_box = tube[1][-1]
                    options = self.candidates[
                        self.first_candidate[last_box] : self.first_candidate[last_box + 1]
                    ]
                    pick = next((b for b in options if b not in taken), None)
                    if pick is None:
                        ended.append(tube)
                    else:
                        taken.add(pick)
                        self._extend(tube, pick, pick + 1)
                        kept.append(tube)
                finished.extend(reversed(ended))
                current = kept + [self._new(b) for b in range(start, end) if b not in taken]
            previous = frame
            i += 1
        if previous is not None and previous < nframes:
            finished.extend(reversed(self._by_mean_score(current)))
        else:
            finished.extend(current)
        return [(tube[0], tube[1]) for tube in finished]

    def _run(self, i, current, finished):
        """Consumes the run of simple groups starting at i; returns the index after it."""
        end_group = self.run_end[i]
        first_box, end_box = self.starts[i], self.ends[end_group - 1]
        # Boxes of a run are consecutive; box b continues the tube iff box b - 1 links to it.
        cuts = np.flatnonzero(self.breaks[first_box - 1 : end_box - 1]) + first_box
        tube = current[0]
        begin = first_box
        for cut in cuts.tolist():
            self._extend(tube, begin, cut)
            finished.append(tube)
            tube = self._new(cut)
            begin = cut + 1
        self._extend(tube, begin, end_box)
        current[0] = tube
        return end_group

    def _new(self, box):
        return [self.frame_of_box[box], [box], self.scores[box], self.scores[box]]

    def _extend(self, tube, begin, end):
        """Appends boxes begin..end-1 (one per frame) to a tube."""
        if end > begin:
            tube[1].extend(range(begin, end))
            tube[2] += self.prefix[end] - self.prefix[begin]
            if tube[3] != self.scores[begin] or self.changes[end - 1] != self.changes[begin]:
                tube[3] = None

    def _exact_mean(self, tube):
        """numpy's mean of the tube's box scores (the reference's value, last bits included)."""
        if tube[3] is None:
            return np.mean(self.box_score[tube[1]])
        key = (tube[3], len(tube[1]))
        if key not in self.constant_means:
            self.constant_means[key] = np.mean(np.full(key[1], key[0]))
        return self.constant_means[key]

    def _by_mean_score(self, tubes):
        """Tubes sorted by descending mean box score, stable; exact numpy means on near-ties."""
        if len(tubes) < 2:
            return list(tubes)
        means = [tube[2] / len(tube[1]) for tube in tubes]
        order = sorted(range(len(tubes)), key=lambda k: -means[k])
        ranked = [means[k] for k in order]
        if any(a - b <= self.NEAR_TIE for a, b in zip(ranked, ranked[1:])):
            means = [self._exact_mean(tube) for tube in tubes]
            order = sorted(range(len(tubes)), key=lambda k: -means[k])
        return [tubes[k] for k in order]


def _build_tube(start, members, boxes, box_score):
    """(score, float32 [T, 6]) for a kept tube, None for one too weak or too short."""
    if len(members) < MIN_TUBE_LENGTH:
        return None
    scores = box_score[members]
    score = float(np.mean(scores))
    if score < MIN_TUBE_SCORE:
        return None
    tube = np.empty((len(members), 6), dtype=np.float32)
    tube[:, 0] = np.arange(start, start + len(members))
    tube[:, 1:5] = boxes[members]
    tube[:, 5] = scores
    return score, tube
