"""SlowOnly spatio-temporal action detector: backbone, RoI head, builders and complexity."""

from slowbench.models.complexity import complexity
from slowbench.models.detector import Detector, build_detector, create_detector, detector_kwargs
from slowbench.models.fold_batchnorm import fold_batchnorm
from slowbench.models.resnet3d import create_slowonly_backbone, reference_non_local_pattern

__all__ = [
    "Detector",
    "build_detector",
    "complexity",
    "create_detector",
    "create_slowonly_backbone",
    "detector_kwargs",
    "fold_batchnorm",
    "reference_non_local_pattern",
]
