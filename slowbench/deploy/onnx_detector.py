"""An exported ONNX detector run by onnxruntime (CPU) behind `Detector.predict`'s interface."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import torch
from torch import Tensor

from slowbench.checkpoint import checked_meta
from slowbench.deploy.onnx_export import META_KEY
from slowbench.deploy.optional import import_optional
from slowbench.errors import InputError, first_line
from slowbench.models.detector import _check_boxes, _check_clips
from slowbench.models.roi_head import boxes_to_rois


class OnnxDetector:
    """`predict(clips [B, 3, T, H, W] RGB 0..255, proposals [[n_i, 4] pixels]) -> [[n_i, C]]`
    through an ONNX file written by `slowbench.export` (inputs `clip`, `rois`; output `scores`).
    Inference only (on the CPU): `eval()`, `train(False)` and `to()` exist so that loops written
    for a Detector run it."""

    training = False

    def __init__(self, path, threads: int | None = None) -> None:
        ort = import_optional("onnxruntime")
        path = pathlib.Path(path)
        if not path.is_file():
            raise InputError(f"{path}: ONNX file not found")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.log_severity_level = 3  # errors only
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own types for foreign files
            raise InputError(f"{path}: not a loadable ONNX model ({first_line(error)})") from None
        names = [i.name for i in self.session.get_inputs()]
        outputs = self.session.get_outputs()
        if names != ["clip", "rois"] or [o.name for o in outputs] != ["scores"]:
            raise InputError(
                f"{path}: expected inputs (clip, rois) and output scores as "
                f"slowbench.export writes them, got {names} -> {[o.name for o in outputs]}"
            )
        self.path = path
        self.num_classes = outputs[0].shape[1]
        meta = self.session.get_modelmeta().custom_metadata_map.get(META_KEY, "{}")
        try:
            meta = json.loads(meta)  # the checkpoint's meta, as slowbench.export stored it
        except ValueError:
            raise InputError(f"{path}: its {META_KEY!r} metadata is not JSON") from None
        self.meta: dict = checked_meta(meta, path)

    def to(self, device) -> OnnxDetector:
        return self

    def eval(self) -> OnnxDetector:
        return self

    def train(self, mode: bool = True) -> OnnxDetector:
        if mode:
            raise RuntimeError("an ONNX detector cannot be trained")
        return self

    def score_rois(self, clips: Tensor, rois: Tensor) -> Tensor:
        """`[B, 3, T, H, W]`, `[K, 5]` -> `[K, num_classes]` float32 on the device of `clips`."""
        feed = {"clip": clips.detach().float().cpu().numpy(), "rois": rois.detach().float().cpu().numpy()}
        (scores,) = self.session.run(["scores"], feed)
        return torch.from_numpy(np.asarray(scores)).to(clips.device)

    def predict(self, clips: Tensor, proposals: list[Tensor]) -> list[Tensor]:
        """As `Detector.predict`: per-clip `[n_i, num_classes]` scores."""
        _check_clips(clips)
        proposals = _check_boxes("proposals", proposals, clips)
        if sum(p.shape[0] for p in proposals) == 0:
            return [clips.new_zeros((0, self.num_classes)) for _ in proposals]
        scores = self.score_rois(clips, boxes_to_rois(proposals))
        return list(scores.split([p.shape[0] for p in proposals]))


def load_onnx_detector(row, path) -> tuple[OnnxDetector, dict]:
    """`(detector, meta)` of an ONNX file that `slowbench.export` wrote for the zoo row `row`."""
    detector = OnnxDetector(path)
    if detector.meta.get("row") not in (None, row.name):
        raise InputError(f"{path}: exported for row {detector.meta['row']!r}, not {row.name!r}")
    # The label vectors of the data are sized from the meta (`row_for_model`): it must agree
    # with the scores the model gives.
    recorded = (detector.meta.get("model_overrides") or {}).get("num_classes", row.num_classes)
    if type(recorded) is not int or recorded != detector.num_classes:
        raise InputError(
            f"{path}: the model scores {detector.num_classes} classes, but its metadata says "
            f"num_classes {recorded!r}"
        )
    return detector, detector.meta
