"""Regenerate `docs/model_zoo.md`: mmaction2's SlowOnly model-zoo tables with measured columns.

    python -m benchmarks.zoo_tables [--rows NAME,...] [--device cpu|cuda] [--quick] [--out docs/model_zoo.md]

Every published column is kept; per row it adds parameters, GFLOPs at the row's test shape,
inference latency and clips/s, training-step time and peak memory (CUDA max allocated on a GPU,
otherwise the measuring process's peak RSS), and a "reproduced" metric read from the user's own
result files (`results.json` of `slowbench.train`, `--json` of `slowbench.test`). Each row is measured in
a fresh process so that peak memory belongs to that row alone. `--quick` uses small clips and
batches so a CPU finishes in minutes; the header says which shapes were used.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import pathlib
import statistics
import sys
import time
from typing import TYPE_CHECKING

import pandas as pd
from tqdm import tqdm

from eval.atomic import atomic_write
from slowbench.errors import ArgumentParser, InputError, run_cli
from slowbench.model_zoo import ROWS, ZooRow, get_row

if TYPE_CHECKING:  # torch loads in the measuring processes only
    import torch

# mmaction2's four tables, in its order; the tricks table starts from its baseline row I.
TABLES: tuple[tuple[str, str], ...] = (
    ("AVA2.1", "ABCDE"),
    ("AVA2.2, trained on AVA-Kinetics", "FGHI"),
    ("AVA2.2, tricks ablation (cumulative, on top of row I)", "IJKLMN"),
    ("MultiSports", "O"),
)
FIGURE_NAME = "model_zoo.png"


@dataclasses.dataclass(frozen=True)
class Shapes:
    """Clip shapes and batch sizes one row is measured at."""

    test_hw: tuple[int, int]
    train_hw: tuple[int, int]
    train_batch: int
    proposals: int
    repeats: int


def shapes_for(row: ZooRow, quick: bool) -> Shapes:
    """The row's real shapes (test short side 256, 256x256 training crops, its batch per GPU),
    or small ones for `--quick`."""
    if quick:
        return Shapes(test_hw=(64, 80), train_hw=(64, 64), train_batch=2, proposals=4, repeats=2)
    return Shapes(
        test_hw=row.test_hw, train_hw=(256, 256), train_batch=row.batch_per_gpu, proposals=8, repeats=5
    )


def _boxes(count: int, hw: tuple[int, int], generator) -> torch.Tensor:
    import torch

    height, width = hw
    corner = torch.rand(count, 2, generator=generator) * 0.5
    size = 0.2 + torch.rand(count, 2, generator=generator) * 0.3
    box = torch.cat([corner, corner + size], dim=1)
    return box * torch.tensor([width, height, width, height], dtype=torch.float32)


def _median_seconds(step, repeats: int, device: str) -> float:
    import torch

    step()  # warm-up: allocator, kernels, lazy init
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_row(name: str, device: str, quick: bool) -> dict:
    """Parameters, GFLOPs, inference and training-step figures of one row (run in a child)."""
    import resource

    import torch

    from slowbench.models import build_detector, complexity

    row = get_row(name)
    shapes = shapes_for(row, quick)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    model = build_detector(row)
    params, gflops = complexity(model, (3, row.clip_len, *row.test_hw))
    model = model.to(device)

    clips = torch.rand(1, 3, row.clip_len, *shapes.test_hw, generator=generator) * 255
    proposals = [_boxes(shapes.proposals, shapes.test_hw, generator)]
    clips, proposals = clips.to(device), [p.to(device) for p in proposals]
    model.eval()
    with torch.no_grad():
        latency = _median_seconds(lambda: model.predict(clips, proposals), shapes.repeats, device)

    model.train()
    batch = shapes.train_batch
    train_clips = (torch.rand(batch, 3, row.clip_len, *shapes.train_hw, generator=generator) * 255).to(device)
    gt_boxes = [_boxes(2, shapes.train_hw, generator).to(device) for _ in range(batch)]
    gt_labels = []
    for _ in range(batch):
        labels = torch.zeros(2, row.num_classes)
        labels[:, 1 + torch.randint(row.num_classes - 1, (2,), generator=generator)] = 1
        gt_labels.append(labels.to(device))
    train_proposals = [torch.cat([b, b + 1.0]) for b in gt_boxes]
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(train_clips, train_proposals, gt_boxes, gt_labels)["loss_action_cls"]
        loss.backward()
        optimizer.step()

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    step_seconds = _median_seconds(train_step, shapes.repeats, device)
    if device == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "row": row.name,
        "params_m": params / 1e6,
        "gflops": gflops,
        "latency_ms": latency * 1e3,
        "clips_per_s": 1.0 / latency,
        "train_step_s": step_seconds,
        "train_batch": batch,
        "peak_mem_mb": peak_mb,
    }


def _child(name: str, device: str, quick: bool, queue) -> None:
    try:
        queue.put(measure_row(name, device, quick))
    except Exception as error:  # noqa: BLE001 - reported by the parent as a one-line failure of this row
        queue.put({"row": name, "error": f"{type(error).__name__}: {error}"})


def measure_in_child(name: str, device: str, quick: bool) -> dict:
    """Runs `measure_row` in a fresh spawned process, so each row's peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(name, device, quick, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def reproduced_metrics(paths: list[pathlib.Path]) -> dict[str, str]:
    """`row name -> "mAP 23.10"`-style text from the user's `results.json` files (newest wins)."""
    found: dict[str, tuple[float, str]] = {}
    for path in paths:
        try:
            result = json.loads(path.read_text())
            row = get_row(result["row"]).name
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if result.get("mAP") is not None:
            text = f"mAP {100 * result['mAP']:.2f}"
        elif result.get("frame_mAP") is not None:
            text = f"f-mAP {100 * result['frame_mAP']:.2f}"
            video = result.get("video_mAP") or {}
            if isinstance(video, dict) and "0.5" in video:
                text += f"; v@0.5 {100 * video['0.5']:.2f}"
        else:
            continue
        if result.get("synthetic"):
            text += " (synthetic data)"
        mtime = path.stat().st_mtime
        if row not in found or mtime > found[row][0]:
            found[row] = (mtime, text)
    return {row: text for row, (_, text) in found.items()}


def published(row: ZooRow) -> dict[str, object]:
    """mmaction2's published columns for a row."""
    columns: dict[str, object] = {
        "row": row.letter,
        "name": row.name,
        "backbone": f"R{row.depth}" + ("-NL" if row.non_local else ""),
        "pretrain": row.pretrain.upper(),
        "clip": f"{row.clip_len}x{row.frame_interval}",
        "gpus x batch": f"{row.gpus}x{row.batch_per_gpu}",
        "epochs": row.epochs,
    }
    if row.dataset == "multisports":
        columns.update(
            {
                "f-mAP": row.frame_mAP,
                **{f"v-mAP@{k}": v for k, v in row.video_mAP.items()},
                "gpu mem (MB)": row.gpu_mem_mb,
            }
        )
    else:
        columns["mAP"] = row.mAP
    columns["config"] = row.config
    return columns


def build_tables(
    rows: list[ZooRow], measured: dict[str, dict], reproduced: dict[str, str]
) -> list[tuple[str, pd.DataFrame]]:
    """One DataFrame per published table holding the selected rows, published then measured columns."""
    tables = []
    for title, letters in TABLES:
        records = []
        for row in rows:
            if row.letter not in letters:
                continue
            record = published(row)
            figures = measured.get(row.name, {})
            if "error" in figures:
                record["measured"] = f"failed: {figures['error']}"
            else:
                record.update(
                    {
                        "params (M)": figures.get("params_m"),
                        "GFLOPs": figures.get("gflops"),
                        "latency (ms)": figures.get("latency_ms"),
                        "clips/s": figures.get("clips_per_s"),
                        "train step (s)": figures.get("train_step_s"),
                        "peak mem (MB)": figures.get("peak_mem_mb"),
                    }
                )
            record["reproduced"] = reproduced.get(row.name, "")
            records.append(record)
        if records:
            tables.append((title, pd.DataFrame.from_records(records)))
    return tables


def render_markdown(tables: list[tuple[str, pd.DataFrame]], header: str) -> str:
    parts = ["# SlowOnly model zoo", "", header, ""]
    for title, frame in tables:
        parts += [f"## {title}", "", frame.to_markdown(index=False, floatfmt=".2f"), ""]
    parts += [f"![mAP against GFLOPs and throughput]({FIGURE_NAME})", ""]
    return "\n".join(parts)


def plot(rows: list[ZooRow], measured: dict[str, dict], path: pathlib.Path) -> None:
    """mAP (f-mAP for MultiSports) against GFLOPs and against clips/s, one point per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for row in rows:
        figures = measured.get(row.name, {})
        metric = row.mAP if row.mAP is not None else row.frame_mAP
        if metric is None or "gflops" not in figures:
            continue
        for axis, key in zip(axes, ("gflops", "clips_per_s")):
            axis.scatter(figures[key], metric)
            axis.annotate(row.letter, (figures[key], metric), textcoords="offset points", xytext=(4, 4))
    axes[0].set_xlabel("GFLOPs at the test shape")
    axes[1].set_xlabel("inference clips/s (measured)")
    for axis in axes:
        axis.set_ylabel("published mAP / f-mAP (%)")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    atomic_write(path, lambda file: figure.savefig(file, format="png", dpi=110))
    plt.close(figure)


def parse_rows(text: str | None) -> list[ZooRow]:
    if not text:
        return list(ROWS)
    return [get_row(name.strip()) for name in text.split(",") if name.strip()]


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status: 0, 1 when a row failed to measure, 2 after one
    `error:` line for bad input."""
    return run_cli(_run, argv)


def parser() -> ArgumentParser:
    """The command line's options."""
    parser = ArgumentParser(prog="python -m benchmarks.zoo_tables", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", help="comma-separated row names or config names (default: all)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--quick", action="store_true", help="small shapes and batches, for a CPU")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("docs/model_zoo.md"))
    parser.add_argument(
        "--results",
        type=pathlib.Path,
        nargs="*",
        default=None,
        help="result files for the 'reproduced' column: slowbench.train's "
        "results.json or slowbench.test --json output "
        "(default: every work_dirs/**/*.json that names a row and a metric)",
    )
    return parser


def _run(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    try:
        rows = parse_rows(args.rows)
    except InputError as error:
        raise InputError(f"--rows: {error}") from None
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda") or (device == "cuda" and not torch.cuda.is_available()):
        raise InputError(
            f"--device {device!r} is not available here (use cpu"
            f"{' or cuda' if torch.cuda.is_available() else ''})"
        )

    measured = {}
    for row in tqdm(rows, desc="measuring rows", unit="row"):
        result = measure_in_child(row.name, device, args.quick)
        measured[row.name] = result
        if "error" in result:
            tqdm.write(f"warning: row {row.name} failed: {result['error']}")
    results = (
        args.results if args.results is not None else sorted(pathlib.Path("work_dirs").glob("**/*.json"))
    )
    tables = build_tables(rows, measured, reproduced_metrics(results))

    if device == "cuda":
        where = f"{torch.cuda.get_device_name()}, peak memory = torch.cuda.max_memory_allocated"
    else:
        where = (
            f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads), "
            "peak memory = peak RSS of the measuring process (includes ~0.3 GB of torch)"
        )
    example = shapes_for(rows[0], args.quick)
    shape_text = (
        "quick shapes: test clips 64x80, training 64x64 crops, batch 2"
        if args.quick
        else "the rows' own shapes: test clip at its test size "
        "(short side 256), training 256x256 crops at the row's batch per GPU"
    )
    header = (
        f"Measured on {where}; torch {torch.__version__}; {shape_text}; "
        f"median of {example.repeats} runs after one warm-up. GFLOPs count a multiply-add "
        "as 2 FLOPs at the row's full test shape (mmaction2 and fvcore publish MACs, half "
        "of this). Latency is one test clip with its proposals. Published columns come "
        "from the mmaction2 model-zoo README."
    )
    markdown = render_markdown(tables, header)
    atomic_write(args.out, lambda file: file.write(markdown.encode("utf-8")))
    plot(rows, measured, args.out.parent / FIGURE_NAME)
    print(f"wrote {args.out} and {args.out.parent / FIGURE_NAME}")
    return 1 if any("error" in result for result in measured.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
