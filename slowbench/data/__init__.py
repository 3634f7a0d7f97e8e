"""Datasets (AVA v2.1/v2.2, AVA-Kinetics, MultiSports), clip pipeline, collate and synthetic data.

`build_dataset(row, data_root, split)` reads a split in the reference (mmaction2) layout and
returns clips with boxes (pixels as mmaction2 makes them; `resize_crop_flip` is that transform for
frames from any decoder); `collate` batches them; `python -m slowbench.data.synthetic` writes a
small synthetic dataset in the same layouts. Any other dataset is described in one TOML file:
`dataset_file.read_dataset_file` -> `DatasetSpec`, `dataset_split.load_dataset_split`, checked by
`dataset_check` (`python -m slowbench.data.check`).
"""

from .annotations import Keyframe, image_key, read_annotations, read_proposals, select_proposals
from .build import build_dataset, load_split, read_multisports_gt
from .collate import collate
from .dataset_files import DatasetFiles, dataset_files, default_data_root, find_dataset
from .detection_dataset import DetectionDataset
from .errors import DataError, DataWarning
from .pipeline_config import PipelineConfig
from .resize_crop_flip import resize_crop_flip

__all__ = [
    "DataError",
    "DataWarning",
    "DatasetFiles",
    "DetectionDataset",
    "Keyframe",
    "PipelineConfig",
    "build_dataset",
    "collate",
    "dataset_files",
    "default_data_root",
    "find_dataset",
    "image_key",
    "load_split",
    "read_annotations",
    "read_multisports_gt",
    "read_proposals",
    "resize_crop_flip",
    "select_proposals",
]
