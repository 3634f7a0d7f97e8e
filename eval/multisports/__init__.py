"""MultiSports frame-mAP and video-mAP, equal to the official toolkit (and to mmaction2's tube
linking with `compat="mmaction2"`).

Modules: `evaluation` (the metrics), `io` (the gt pickle, frame detections, tubes), `frame_ap`,
`tube_linking`, `video_ap`, `error_analysis` (the official `videoAP_error`), `official_files`
(the toolkit's pickles), `report` (the `--report` page), `__main__` (`python -m
eval.multisports`). The same gt pickle layout serves UCF101-24 and JHMDB-21.

    from eval.multisports import evaluate, load_gt
    result = evaluate(load_gt("multisports_GT.pkl"), frame_dets)   # frame_dets [N, 8]
"""

from eval.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "evaluation": "evaluate prepare evaluate_prepared Prepared VIDEO_THRESHOLD_SETS COMPAT_MODES",
        "io": "load_gt prepare_gt load_predictions GroundTruth SKIPPED_LABEL_NAMES DEFAULT_GT_PATH",
        "tube_linking": "link_tubes",
        "__main__": "main",
    },
)
