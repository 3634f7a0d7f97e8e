"""`--fast-decode`: real data is decoded as mmaction2 does unless asked; synthetic data uses the fast path."""

import shutil

import torch
from engine_helpers import TINY_ARGS, TINY_ROW

from slowbench.data.synthetic import INFO_FILE
from slowbench.engine.distributed import DistInfo
from slowbench.model_zoo import get_row
from slowbench.train import parse_args, plan_run


def test_real_data_is_decoded_faithfully_unless_fast_decode(tiny_ava, tmp_path):
    info = DistInfo(rank=0, world_size=1, device=torch.device("cpu"))
    row = get_row(TINY_ROW)
    real = tmp_path / "ava"
    shutil.copytree(tiny_ava, real)
    (real / INFO_FILE).unlink()  # without it the layout is ordinary data, not the synthetic set
    for extra, fast in (([], False), (["--fast-decode"], True)):
        args = parse_args([*TINY_ARGS, "--data-root", str(real), *extra])
        assert plan_run(row, args, info).pipeline.fast_decode is fast
    synthetic = plan_run(row, parse_args([*TINY_ARGS, "--data-root", str(tiny_ava)]), info)
    assert synthetic.pipeline.fast_decode
