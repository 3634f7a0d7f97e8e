#!/usr/bin/env bash
# Makes docs/demo.gif (shown in the README) with `python -m slowbench.demo` from the quick-start checkpoint:
#
#   python -m slowbench.train --row ava22-k700-16x4      # the quick start (writes work_dirs/ava22-k700-16x4/)
#   bash tools/make_demo_gif.sh [WORK_DIR] [VIDEO] [OUT]
#
# VIDEO is a held-out (val) video of the quick start's synthetic data (synth000640 .. synth000671);
# its frames are encoded as an mp4 first (the demo reads videos), then the demo draws the
# predictions (blue) and the ground truth (green) on it, with the split's proposals as person boxes.
set -euo pipefail
WORK=${1:-work_dirs/ava22-k700-16x4}
VIDEO=${2:-synth000641}
OUT=${3:-docs/demo.gif}
FRAMES="$WORK/synthetic/ava/rawframes/$VIDEO"
MP4="$WORK/demo/$VIDEO.mp4"
mkdir -p "$WORK/demo"
python - "$FRAMES" "$MP4" <<'PY'
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from slowbench.data.video_writer import encode_video

frames, mp4 = Path(sys.argv[1]), sys.argv[2]
paths = sorted(frames.glob("img_*.jpg"))
encode_video(mp4, (np.asarray(Image.open(path).convert("RGB")) for path in paths), 30)
PY
python -m slowbench.demo --row ava22-k700-16x4 --ckpt "$WORK/latest.pth" --video "$MP4" \
    --out "$OUT" --gt --predict-stepsize 30 --output-stepsize 6 --output-fps 5 \
    --out-short-side 160 --action-thr 0.3 --topk 2 --json "$WORK/demo/$VIDEO.json"
