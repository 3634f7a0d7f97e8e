"""Bad input to the train/test CLIs: one line on stderr, exit status 2, no traceback."""
import subprocess
import sys

import pytest

from slowbench import test as test_cli
from slowbench import train as train_cli


def run_main(main, argv, capsys):
    status = main(argv)
    err = capsys.readouterr().err.strip()
    return status, err


@pytest.mark.parametrize("main", [train_cli.main, test_cli.main])
def test_unknown_row_lists_known_names(main, capsys, tmp_path):
    argv = ["--row", "no-such-row"]
    argv += ["--ckpt", str(tmp_path / "x.pth")] if main is test_cli.main else ["--work-dir", str(tmp_path)]
    status, err = run_main(main, argv, capsys)
    assert status == 2 and len(err.splitlines()) == 1
    assert "no-such-row" in err and "ava22-k700-16x4" in err


def test_train_missing_data_root_is_one_line(capsys, tmp_path):
    status, err = run_main(train_cli.main, ["--row", "ava21-k400-r50-4x16", "--data-root",
                                            str(tmp_path / "nothing"), "--work-dir", str(tmp_path)], capsys)
    assert status == 2 and len(err.splitlines()) == 1
    assert "nothing" in err and "no ava21 dataset" in err


def test_test_missing_checkpoint_is_one_line(capsys, tmp_path):
    status, err = run_main(test_cli.main, ["--row", "ava21-k400-r50-4x16", "--ckpt",
                                           str(tmp_path / "missing.pth")], capsys)
    assert status == 2 and err.count("\n") == 0 and "missing.pth" in err and "not found" in err


def test_test_dump_suffix_is_checked_before_any_work(capsys, tmp_path):
    status, err = run_main(test_cli.main, ["--row", "multisports-k400-r50-4x16", "--ckpt",
                                           str(tmp_path / "missing.pth"), "--dump", "out.csv"], capsys)
    assert status == 2 and ".pkl" in err


@pytest.mark.parametrize("argv, match", [
    (["--epochs", "0"], "--epochs"), (["--lr", "-1"], "--lr"),
    (["--model-override", "depth"], "KEY=VALUE"), (["--short-side", "3"], "--short-side")])
def test_bad_numbers_are_usage_errors(argv, match, capsys):
    with pytest.raises(SystemExit) as info:
        train_cli.parse_args(["--row", "x", *argv])
    assert info.value.code == 2 and match in capsys.readouterr().err


def test_model_overrides_are_typed():
    assert train_cli.parse_overrides(["depth=18", "with_global=false", "dropout=0.25", "roi_order=fused"]) == {
        "depth": 18, "with_global": False, "dropout": 0.25, "roi_order": "fused"}


def test_subprocess_error_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "slowbench.train", "--row", "bogus", "--work-dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().startswith("slowbench.train: error:")
