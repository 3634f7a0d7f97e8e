"""The CVAT conversion of docs/custom_data.md runs as printed: a "CVAT for images 1.1" export of a
video task becomes keyframe CSV rows that a dataset file reads."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import numpy as np

from slowbench.data.dataset_file import read_dataset_file
from slowbench.data.dataset_split import read_keyframes
from slowbench.data.frame_template import FrameTemplate

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = re.compile(r"```python\n(# cvat_to_csv\.py.*?)```", re.DOTALL)

# Frames 0..4 of a 2 fps video (1280x720): frames 0, 2 and 4 are whole seconds 0, 1, 2.
XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <image id="0" name="frame_000000" width="1280" height="720">
    <box label="person" source="manual" occluded="0" xtl="100.0" ytl="50.5" xbr="300.0" ybr="700.0" z_order="0">
      <attribute name="walk">true</attribute>
      <attribute name="wave">false</attribute>
    </box>
  </image>
  <image id="1" name="frame_000001" width="1280" height="720">
    <box label="person" source="manual" occluded="0" xtl="110.0" ytl="50.5" xbr="310.0" ybr="700.0" z_order="0">
      <attribute name="walk">true</attribute>
      <attribute name="wave">true</attribute>
    </box>
  </image>
  <image id="2" name="frame_000002" width="1280" height="720">
    <box label="person" source="manual" occluded="0" xtl="120.0" ytl="50.5" xbr="320.0" ybr="700.0" z_order="0">
      <attribute name="walk">true</attribute>
      <attribute name="wave">true</attribute>
    </box>
    <box label="person" source="manual" occluded="1" xtl="900.0" ytl="10.0" xbr="1000.0" ybr="400.0" z_order="0">
      <attribute name="action">sit</attribute>
    </box>
  </image>
  <image id="4" name="frame_000004" width="1280" height="720">
  </image>
</annotations>
"""


def test_the_documented_script_converts_a_cvat_export(tmp_path):
    (script,) = SCRIPT.findall((REPO / "docs" / "custom_data.md").read_text(encoding="utf-8"))
    (tmp_path / "cvat_to_csv.py").write_text(script)
    (tmp_path / "annotations.xml").write_text(XML)
    (tmp_path / "labels.txt").write_text("2: walk\n7: wave\n40: sit\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        [sys.executable, "cvat_to_csv.py", "annotations.xml", "v1", "2", "labels.txt"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.splitlines() == [
        "v1,0.0,100.0,50.5,300.0,700.0,2",
        "v1,1.0,120.0,50.5,320.0,700.0,2",
        "v1,1.0,120.0,50.5,320.0,700.0,7",
        "v1,1.0,900.0,10.0,1000.0,400.0,40",
    ]
    (tmp_path / "train.csv").write_text(run.stdout)
    (tmp_path / "dataset.toml").write_text(
        'labels = "labels.txt"\nfps = 2\nvideos = "{video}.mp4"\nboxes = "pixels"\n[train]\nannotations = "train.csv"\n'
    )
    spec = read_dataset_file(tmp_path / "dataset.toml")

    class Sized(FrameTemplate):  # the frame size, without writing the video
        def has_video(self, video):
            return True

        def frame_size(self, video):
            return 1280, 720

    keyframes = read_keyframes(spec, "train", Sized("unused"))
    assert [(k.video, k.timestamp) for k in keyframes] == [("v1", 0), ("v1", 1)]
    np.testing.assert_array_equal(keyframes[1].labels, [[0, 1, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_allclose(keyframes[1].boxes[1], [900 / 1280, 10 / 720, 1000 / 1280, 400 / 720])
