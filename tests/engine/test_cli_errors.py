"""Bad input to the CLIs: one line on stderr, exit status 2, no traceback; a bug keeps its traceback."""

import subprocess
import sys

import pytest
from engine_helpers import TINY_ARGS

from slowbench import model_zoo as zoo_cli
from slowbench import test as test_cli
from slowbench import train as train_cli
from slowbench.errors import InputError, run_cli


def run_main(main, argv, capsys):
    status = main(argv)
    err = capsys.readouterr().err.strip()
    return status, err


@pytest.mark.parametrize("main", [train_cli.main, test_cli.main])
def test_unknown_row_lists_known_names(main, capsys, tmp_path):
    argv = ["--row", "no-such-row"]
    argv += ["--ckpt", str(tmp_path / "x.pth")] if main is test_cli.main else ["--work-dir", str(tmp_path)]
    status, err = run_main(main, argv, capsys)
    assert status == 2 and len(err.splitlines()) == 1 and err.startswith("error: ")
    assert "no-such-row" in err and "ava22-k700-16x4" in err


def test_train_missing_data_root_is_one_line(capsys, tmp_path):
    status, err = run_main(
        train_cli.main,
        [
            "--row",
            "ava21-k400-r50-4x16",
            "--data-root",
            str(tmp_path / "nothing"),
            "--work-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert status == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"error: --data-root {tmp_path / 'nothing'}: no ava21 dataset")


def test_test_missing_checkpoint_is_one_line(capsys, tmp_path):
    status, err = run_main(
        test_cli.main, ["--row", "ava21-k400-r50-4x16", "--ckpt", str(tmp_path / "missing.pth")], capsys
    )
    assert status == 2 and err.count("\n") == 0
    assert err.startswith(f"error: {tmp_path / 'missing.pth'}: ") and "not found" in err


def test_test_dump_suffix_is_checked_before_any_work(capsys, tmp_path):
    status, err = run_main(
        test_cli.main,
        ["--row", "multisports-k400-r50-4x16", "--ckpt", str(tmp_path / "missing.pth"), "--dump", "out.csv"],
        capsys,
    )
    assert status == 2 and err.startswith("error: --dump out.csv: ") and ".pkl" in err


def test_unknown_device_names_the_argument(capsys, tmp_path):
    status, err = run_main(
        train_cli.main,
        ["--row", "ava21-k400-r50-4x16", "--device", "tpu", "--work-dir", str(tmp_path)],
        capsys,
    )
    assert status == 2 and err.startswith("error: --device") and "tpu" in err


@pytest.mark.parametrize(
    "override, match",
    [
        ("depth=26", "depth=26 is not supported"),
        ("no_such_option=1", "no_such_option"),
        # Values the model used to take or fail deep on (found by probing the builder).
        ("base_channels=0", "base_channels=0 must be an integer >= 1"),
        ("num_classes=-1", "num_classes=-1 must be an integer >= 2"),
        ("num_classes=x", "num_classes='x' must be an integer >= 2"),
        ("num_rois=0", "num_rois=0 must be"),
        ("pos_iou_thr=2", "pos_iou_thr=2 must be in (0, 1]"),
        ("focal_gamma=x", "focal_gamma=x and"),
        ("mlp_head=1", "mlp_head=1 must be true or false"),
    ],
)
def test_model_override_the_model_does_not_take_is_one_line(override, match, tiny_ava, tmp_path, capsys):
    status, err = run_main(
        train_cli.main,
        [*TINY_ARGS, "--data-root", str(tiny_ava), "--work-dir", str(tmp_path), "--model-override", override],
        capsys,
    )
    assert status == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: --model-override: ") and match in err


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--epochs", "0"], "--epochs"),
        (["--lr", "-1"], "--lr"),
        (["--workers", "-1"], "--workers"),
        (["--model-override", "depth"], "KEY=VALUE"),
        (["--short-side", "3"], "--short-side"),
        (["--epochs", "two"], "--epochs"),
    ],
)
def test_bad_arguments_are_input_errors(argv, match, capsys):
    with pytest.raises(InputError, match=match):
        train_cli.parse_args(["--row", "x", *argv])
    status, err = run_main(train_cli.main, ["--row", "x", *argv], capsys)
    assert status == 2 and len(err.splitlines()) == 1 and err.startswith("error: ") and match in err


def test_model_overrides_are_typed():
    args = train_cli.parse_args(
        [
            "--row",
            "x",
            *[
                x
                for item in ("depth=18", "with_global=false", "dropout=0.25", "roi_order=fused")
                for x in ("--model-override", item)
            ],
        ]
    )
    assert dict(args.model_override) == {
        "depth": 18,
        "with_global": False,
        "dropout": 0.25,
        "roi_order": "fused",
    }


@pytest.mark.parametrize(
    "argv, accepted",
    [
        (["--workers", "-1"], ">= 0"),
        (["--epochs", "0"], ">= 1"),
        (["--short-side", "3"], ">= 16"),
        (["--lr", "nan"], "> 0"),
    ],
)
def test_argument_messages_say_what_is_accepted(argv, accepted):
    with pytest.raises(InputError) as info:
        train_cli.parse_args(["--row", "x", *argv])
    assert f"argument {argv[0]}: expected" in str(info.value) and accepted in str(info.value)


def test_zero_workers_and_zero_save_every_are_accepted():
    args = train_cli.parse_args(["--row", "x", "--workers", "0", "--save-every", "0", "--stop-after", "0"])
    assert (args.workers, args.save_every, args.stop_after) == (0, 0, 0)
    assert test_cli.parse_args(["--row", "x", "--ckpt", "c.pth", "--workers", "0"]).workers == 0


def test_planning_does_not_change_the_arguments(tiny_ava, tmp_path):
    """The plan holds the effective values (workers default to 0 on synthetic data, the work dir to
    work_dirs/<row>); the parsed arguments stay as the user gave them."""
    from slowbench.engine.distributed import init_distributed
    from slowbench.engine.run_plan import plan_run
    from slowbench.model_zoo import get_row

    args = train_cli.parse_args(["--row", "ava21-k400-r50-4x16", "--data-root", str(tiny_ava)])
    before = vars(args).copy()
    plan = plan_run(get_row(args.row), args, init_distributed("cpu"))
    assert vars(args) == before and args.workers is None and args.work_dir is None
    assert plan.workers == 0 and plan.work_dir.parts[-2:] == ("work_dirs", args.row)


def test_subprocess_error_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "slowbench.train", "--row", "bogus", "--work-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip().startswith("error: unknown model-zoo row")


def test_a_bug_keeps_its_traceback(monkeypatch, capsys):
    """Only InputError is bad input: a ValueError from a bug propagates with its traceback."""

    def broken(name):
        raise ValueError("a bug, not bad input")

    monkeypatch.setattr(zoo_cli, "get_row", broken)
    with pytest.raises(ValueError, match="a bug"):
        zoo_cli.main(["show", "ava21-k400-r50-4x16"])
    assert "error:" not in capsys.readouterr().err


def test_a_bug_in_a_process_prints_its_traceback():
    code = (
        "import sys, slowbench.model_zoo as z\n"
        "def broken(name): raise ValueError('a bug, not bad input')\n"
        "z.get_row = broken\nsys.exit(z.main(['show', 'x']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" in proc.stderr
    assert "ValueError: a bug, not bad input" in proc.stderr and "error:" not in proc.stderr


def test_runner_reads_the_original_line_of_a_dataloader_worker_error(capsys):
    """torch re-raises a worker's exception with the worker's traceback in its message."""
    from slowbench.errors import DataError

    def command(argv):
        raise DataError(
            "Caught DataError in DataLoader worker process 0.\nOriginal Traceback "
            '(most recent call last):\n  File "x.py", line 1, in f\n'
            "slowbench.errors.DataError: a.csv:3: expected 8 columns\n"
        )

    assert run_cli(command) == 2
    assert capsys.readouterr().err == "error: a.csv:3: expected 8 columns\n"


def test_a_work_dir_that_cannot_be_made_is_one_line(tiny_ava, tmp_path, capsys):
    (tmp_path / "file").write_text("in the way")
    status, err = run_main(
        train_cli.main,
        [*TINY_ARGS, "--data-root", str(tiny_ava), "--work-dir", str(tmp_path / "file" / "run")],
        capsys,
    )
    assert status == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"error: {tmp_path / 'file' / 'run'}: cannot create the folder (")


def test_the_repository_has_one_input_error_base():
    """slowbench's errors are eval's: one base, one ArgumentParser; run_cli catches them all."""
    import eval.errors
    import slowbench.errors

    assert slowbench.errors.InputError is eval.errors.InputError
    assert slowbench.errors.ArgumentParser is eval.errors.ArgumentParser
    assert issubclass(slowbench.errors.DataError, eval.errors.InputError)
    assert issubclass(slowbench.errors.CheckpointError, eval.errors.InputError)
