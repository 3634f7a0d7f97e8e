"""With no dataset at the row's default data root, train generates the synthetic one and says so."""

import json

from engine_helpers import TINY_MODEL_ARGS

from slowbench import train as train_cli
from slowbench.data.synthetic import INFO_FILE
from slowbench.engine import synthetic_profile
from slowbench.model_zoo import get_row


def test_missing_default_root_falls_back_to_synthetic_data(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the default root data/ava does not exist here
    monkeypatch.setitem(
        synthetic_profile.DATASET_SIZE,
        "ava",
        dict(videos=2, val_videos=1, seconds=5, width=64, height=48, persons=(1, 1)),
    )
    args = ["--row", "ava21-k400-r50-4x16", *TINY_MODEL_ARGS, "--epochs", "1", "--work-dir", "run"]
    assert train_cli.main(args) == 0
    out = capsys.readouterr().out
    assert "NOTICE: no ava21 dataset at data/ava" in out and "synthetic" in out
    info = json.loads((tmp_path / "run" / "synthetic" / "ava" / "synthetic_info.json").read_text())
    assert info["params"]["videos"] == 2
    result = json.loads((tmp_path / "run" / "results.json").read_text())
    assert result["synthetic"] and result["chance_mAP"] == info["chance_frame_mAP"]
    assert 0 <= result["mAP"] <= 1
    # A second run in the same work dir reuses the generated data.
    stamp = (tmp_path / "run" / "synthetic" / "ava" / "synthetic_info.json").stat().st_mtime_ns
    assert train_cli.main(args) == 0
    assert (tmp_path / "run" / "synthetic" / "ava" / "synthetic_info.json").stat().st_mtime_ns == stamp


def test_profile_uses_a_linear_head_for_the_context_mlp_rows(tmp_path):
    info = {"params": {}, "classes": ["a", "b"], "chance_frame_mAP": 0.3, "gt_boxes": {}}
    (tmp_path / INFO_FILE).write_text(json.dumps(info))
    tricks = synthetic_profile.synthetic_profile(get_row("ava22-k700-16x4"), tmp_path).model_overrides
    assert tricks == {"base_channels": 8, "num_classes": 3, "with_global": False, "mlp_head": False}
    plain = synthetic_profile.synthetic_profile(get_row("ava21-k400-r50-4x16"), tmp_path).model_overrides
    assert plain == {"base_channels": 8, "num_classes": 3}
