"""slowbench's CUDA kernels run on the CPU by HIP-CPU (see docs/cuda_emulation.md).

`build()` configures and builds the emulation (CMakeLists.txt here) and returns its two programs,
plain and sanitized; the op functions below (`roi_align_3d`, ..., named and called like
torch.ops.slowbench.*) each describe one call of a CUDA launcher; `run()` writes the calls'
arrays to a folder, runs a program over them and returns each call's outputs as tensors.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD_DIR = Path(os.environ.get("SLOWBENCH_CUDA_EMULATION_BUILD", REPO / "build" / "cuda_emulated"))
PROGRAMS = {"plain": "cuda_emulated", "sanitized": "cuda_emulated_sanitized"}
# Set to 1 where the emulation must run (CI): a missing prerequisite then fails instead of skipping.
REQUIRE_ENV = "SLOWBENCH_REQUIRE_CUDA_EMULATION"

# The sanitized program's run-time options.
#  - detect_stack_use_after_return=0: HIP-CPU's block threads are fibers that switch stacks
#    without telling ASan; its "fake stack" frames (for use-after-return detection) would then be
#    freed or reused under a fiber that is still running (crashes, false reports).
#  - LeakSanitizer stays on, minus HIP-CPU's runtime (per-thread queue slots it keeps until exit).
#  - UBSan stops at the first error with a stack trace (the build has -fno-sanitize-recover).
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_stack_use_after_return=0:detect_leaks=1:strict_string_checks=1",
    "LSAN_OPTIONS": f"suppressions={HERE / 'lsan_suppressions.txt'}:print_suppressions=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


class PrerequisiteMissing(RuntimeError):
    """The emulation cannot be built on this machine (no cmake, TBB or C++20 parallel algorithms)."""


def _command(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def build(build_dir: Path = BUILD_DIR) -> dict[str, Path]:
    """Configures (once) and builds the emulation; returns {"plain": path, "sanitized": path}.

    Raises PrerequisiteMissing when cmake is absent or the configure step fails (it checks the
    prerequisites), RuntimeError with the compiler's output when the build fails.
    """
    cmake = shutil.which("cmake")
    if cmake is None:
        raise PrerequisiteMissing("cmake not found")
    build_dir.mkdir(parents=True, exist_ok=True)
    # One build at a time (pytest-xdist workers share the folder).
    with open(build_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (build_dir / "CMakeCache.txt").exists() or not _configured(build_dir):
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            done = _command([cmake, "-S", HERE, "-B", build_dir, *generator])
            if done.returncode != 0:
                shutil.rmtree(build_dir / "CMakeFiles", ignore_errors=True)
                (build_dir / "CMakeCache.txt").unlink(missing_ok=True)
                raise PrerequisiteMissing(_reason(done.stdout + done.stderr))
        done = _command([cmake, "--build", build_dir])
        if done.returncode != 0:
            raise RuntimeError(f"building the CUDA emulation failed:\n{done.stdout}\n{done.stderr}")
    return {variant: build_dir / name for variant, name in PROGRAMS.items()}


def _configured(build_dir: Path) -> bool:
    return (build_dir / "build.ninja").exists() or (build_dir / "Makefile").exists()


def _reason(cmake_output: str) -> str:
    """The configure step's "prerequisite missing: ..." message, else its last lines."""
    text = " ".join(cmake_output.split())
    start = text.find("prerequisite missing:")
    if start >= 0:
        return text[start:].split(" -- ")[0].split(" CMake ")[0]
    return "configuring the CUDA emulation failed: " + " ".join(cmake_output.strip().splitlines()[-5:])


@dataclass
class Call:
    """One call of an op's CUDA launcher: its scalar arguments, arrays and outputs."""

    op: str
    args: dict
    arrays: dict[str, torch.Tensor]  # "input" / "grad": strided as given; others contiguous
    outputs: dict[str, tuple[tuple[int, ...], torch.dtype]]  # name -> (shape, dtype)


@dataclass
class Result:
    """What one emulated call returned: its outputs and the launch the program reported."""

    outputs: dict[str, torch.Tensor]
    report: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.outputs[name]


def _geometry(input_shape, output_size, spatial_scale, sampling_ratio, aligned) -> dict:
    N, C, T, H, W = input_shape
    ph, pw = output_size
    return dict(
        N=N, C=C, T=T, H=H, W=W, ph=ph, pw=pw, scale=repr(float(spatial_scale)),
        sampling_ratio=sampling_ratio, aligned=int(aligned),
    )  # fmt: skip


def _dtype_name(dtype: torch.dtype) -> str:
    names = {torch.float32: "float32", torch.float64: "float64"}
    if dtype not in names:
        raise ValueError(f"the emulation runs float32 and float64 only, got {dtype}")
    return names[dtype]


def roi_align_3d(input, rois, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned) -> Call:
    K, (_, C, T, _, _) = rois.shape[0], input.shape
    return Call(
        "roi_align_3d",
        dict(dtype=_dtype_name(input.dtype), **_geometry(input.shape, (pooled_h, pooled_w), spatial_scale,
                                                         sampling_ratio, aligned)),
        dict(input=input, rois=rois.to(input.dtype)),
        dict(output=((K, C, T, pooled_h, pooled_w), input.dtype)),
    )  # fmt: skip


def roi_align_3d_backward(
    grad, rois, N, C, T, H, W, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned, *, deterministic
) -> Call:
    return Call(
        "roi_align_3d_backward",
        dict(dtype=_dtype_name(grad.dtype), deterministic=int(deterministic),
             **_geometry((N, C, T, H, W), (pooled_h, pooled_w), spatial_scale, sampling_ratio, aligned)),
        dict(grad=grad, rois=rois.to(grad.dtype)),
        dict(grad_input=((N, C, T, H, W), grad.dtype)),
    )  # fmt: skip


def roi_align_3d_pool(input, rois, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned, mode) -> Call:
    shape = (rois.shape[0], input.shape[1], 1, pooled_h, pooled_w)
    return Call(
        "roi_align_3d_pool",
        dict(dtype=_dtype_name(input.dtype), mode=mode,
             **_geometry(input.shape, (pooled_h, pooled_w), spatial_scale, sampling_ratio, aligned)),
        dict(input=input, rois=rois.to(input.dtype)),
        dict(output=(shape, input.dtype), argmax=(shape if mode == "max" else (0,), torch.int16)),
    )  # fmt: skip


def roi_align_3d_pool_backward(
    grad, rois, argmax, N, C, T, H, W, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned, mode,
    *, deterministic,
) -> Call:  # fmt: skip
    arrays = dict(grad=grad, rois=rois.to(grad.dtype))
    if mode == "max":
        arrays["argmax"] = argmax
    return Call(
        "roi_align_3d_pool_backward",
        dict(dtype=_dtype_name(grad.dtype), mode=mode, deterministic=int(deterministic),
             **_geometry((N, C, T, H, W), (pooled_h, pooled_w), spatial_scale, sampling_ratio, aligned)),
        arrays,
        dict(grad_input=((N, C, T, H, W), grad.dtype)),
    )  # fmt: skip


def temporal_pool(input, mode) -> Call:
    N, C, T, H, W = input.shape
    shape = (N, C, 1, H, W)
    return Call(
        "temporal_pool",
        dict(dtype=_dtype_name(input.dtype), mode=mode, N=N, C=C, T=T, H=H, W=W),
        dict(input=input),
        dict(output=(shape, input.dtype), argmax=(shape if mode == "max" else (0,), torch.int16)),
    )


def temporal_pool_backward(grad, argmax, time, mode) -> Call:
    N, C, _, H, W = grad.shape
    arrays = dict(grad=grad)
    if mode == "max":
        arrays["argmax"] = argmax
    return Call(
        "temporal_pool_backward",
        dict(dtype=_dtype_name(grad.dtype), mode=mode, N=N, C=C, T=time, H=H, W=W),
        arrays,
        dict(grad_input=((N, C, time, H, W), grad.dtype)),
    )


STRIDED = ("input", "grad")  # the arrays the kernels read through strides


def _storage_span(t: torch.Tensor) -> torch.Tensor:
    """The elements a strided tensor's strides reach, first to last (what the kernel may read)."""
    if t.numel() == 0:
        return t.new_empty(0)
    extent = 1 + sum((size - 1) * stride for size, stride in zip(t.shape, t.stride()))
    return torch.as_strided(t, (extent,), (1,))


def _write_call(folder: Path, call_id: str, call: Call) -> str:
    words = [call_id, call.op] + [f"{key}={value}" for key, value in call.args.items()]
    for name, tensor in call.arrays.items():
        tensor = tensor.detach().cpu()
        if name in STRIDED:
            words.append(f"{name}_strides={','.join(str(s) for s in tensor.stride())}")
            tensor = _storage_span(tensor)
        file = f"{call_id}.in.{name}"
        (folder / file).write_bytes(tensor.contiguous().numpy().tobytes())
        words.append(f"{name}={file}")
    return " ".join(words)


def _read_output(folder: Path, call_id: str, name: str, shape, dtype) -> torch.Tensor:
    data = bytearray((folder / f"{call_id}.{name}").read_bytes())
    flat = torch.frombuffer(data, dtype=dtype) if data else torch.empty(0, dtype=dtype)
    return flat.reshape(shape).clone()


def _parse_report(line: str) -> tuple[str, dict[str, int]]:
    call_id, *pairs = line.split()
    return call_id, {key: int(value) for key, value in (pair.split("=") for pair in pairs)}


def run(program: Path, calls: list[Call], *, sanitized: bool = False) -> list[Result]:
    """Runs `calls` in order in one process of `program`; returns their results in that order.

    Raises RuntimeError with the program's output when it fails (a sanitizer report included).
    """
    with tempfile.TemporaryDirectory(prefix="slowbench_emulated_") as tmp:
        folder = Path(tmp)
        ids = [f"c{i}" for i in range(len(calls))]
        lines = [_write_call(folder, call_id, call) for call_id, call in zip(ids, calls)]
        (folder / "launches.txt").write_text("\n".join(lines) + "\n")
        env = {**os.environ, **(SANITIZER_ENV if sanitized else {})}
        done = _command([program, folder], env=env)
        if done.returncode != 0:
            raise RuntimeError(
                f"{program.name} exited with status {done.returncode}\n"
                f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-12000:]}"
            )
        reports = dict(_parse_report(line) for line in done.stdout.splitlines() if line.strip())
        return [
            Result(
                {name: _read_output(folder, call_id, name, *spec) for name, spec in call.outputs.items()},
                reports[call_id],
            )
            for call_id, call in zip(ids, calls)
        ]
