"""Element-wise IoU of paired 2-D boxes, with the exact float arithmetic of the references."""

import numpy as np

__all__ = ["paired_iou"]


def paired_iou(boxes_a, boxes_b, *, plus_one=False):
    """IoU of `boxes_a[i]` with `boxes_b[i]`; both `[P, 4]` as (x1, y1, x2, y2).

    Continuous coordinates (area = w * h) unless `plus_one`, which adds one pixel to every width
    and height like MultiSports' tubelet NMS. The result has the arrays' common dtype; the
    denominator is `(area_a + area_b) - inter`, the order the references use, so float32 inputs
    reproduce their ties. Two zero-area boxes give NaN (0/0), as in the references.
    """
    one = 1 if plus_one else 0
    width = np.maximum(
        0, np.minimum(boxes_a[:, 2], boxes_b[:, 2]) - np.maximum(boxes_a[:, 0], boxes_b[:, 0]) + one
    )
    height = np.maximum(
        0, np.minimum(boxes_a[:, 3], boxes_b[:, 3]) - np.maximum(boxes_a[:, 1], boxes_b[:, 1]) + one
    )
    inter = width * height
    area_a = (boxes_a[:, 2] - boxes_a[:, 0] + one) * (boxes_a[:, 3] - boxes_a[:, 1] + one)
    area_b = (boxes_b[:, 2] - boxes_b[:, 0] + one) * (boxes_b[:, 3] - boxes_b[:, 1] + one)
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area_a + area_b - inter)
