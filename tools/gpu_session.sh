#!/usr/bin/env bash
# The checks to run on a GPU machine, one stage per command:
#
#   bash tools/gpu_session.sh first                     # run first: build, CUDA tests, core benchmarks, ...
#   bash tools/gpu_session.sh build-test [PYTEST_ARGS]  # build, then the whole test suite (CUDA tests too)
#   bash tools/gpu_session.sh sanitize                  # compute-sanitizer memcheck / racecheck on the op tests
#   bash tools/gpu_session.sh bench [PYTEST_ARGS]       # bench_gpu.py, bench_ops.py (CUDA cases), bench_model.py
#   bash tools/gpu_session.sh zoo [ZOO_ARGS]            # python -m benchmarks.zoo_tables --device cuda (e.g. --rows a,b)
#   bash tools/gpu_session.sh ncu                       # Nsight Compute profile of the fused kernels
#   bash tools/gpu_session.sh input                     # is slowbench.test input-bound here? (host vs GPU)
#   bash tools/gpu_session.sh emulation                 # do the CUDA kernels and their CPU emulation agree?
#
# For a machine without network access whose Python (3.12) has no PyAV, `.whl/` beside the checkout
# carries the wheel (made on a machine with network by `python3 -m pip download --no-deps
# --only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
# -d .whl av==16.0.1`), installed into /tmp/site by every stage. A fresh machine has no build:
# build-test always builds (pip install -e with FORCE_CUDA=1), the other stages build first unless
# slowbench._C already has CUDA kernels. Every stage prints the device, driver and torch version
# first, writes at most 8 files to ${OUT:-/tmp/gpu_out} (logs and JSON), and cuts its steps off
# BUDGET_S seconds (default 540) after it started, so that it ends, logs included, within a
# 10-minute command. Exit status: 0 when every step passed, 1 otherwise (summary.txt lists each
# step's status and duration).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

STAGE=${1:-}
shift || true
OUT=${OUT:-/tmp/gpu_out}
PY=${PYTHON:-python3}
BUDGET_S=${BUDGET_S:-540}
LOG="$OUT/$STAGE.log"
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
failed=0

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
}

# Carried wheels (.whl/, see above) go to /tmp/site, ahead on PYTHONPATH; the image's own
# packages stay as they are.
install_carried_wheels() {
  compgen -G ".whl/*.whl" >/dev/null || return 0
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .whl/*.whl 2>&1 | tee -a "$OUT/summary.txt"
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
}

# step NAME MAX_S CMD...: runs CMD for at most MAX_S seconds and what is left of the budget,
# output to the screen and to $LOG; SIGINT first (pytest still prints its summary), KILL 20 s later.
step() {
  local name=$1 max_s=$2
  shift 2
  local limit=$((BUDGET_S - SECONDS))
  ((max_s < limit)) && limit=$max_s
  if ((limit < 20)); then
    echo "== $name: not run, the stage's time budget is spent" | tee -a "$OUT/summary.txt"
    failed=1
    return 1
  fi
  echo "== $name ($(date -u +%H:%M:%S), limit ${limit}s): $*" | tee -a "$LOG"
  local start=$SECONDS rc=0
  timeout -s INT -k 20 "$limit" "$@" 2>&1 | tee -a "$LOG" || rc=$?
  local verdict="ok"
  if ((rc == 124 || rc == 137)); then
    verdict="TIMED OUT after ${limit} s"
  elif ((rc != 0)); then
    verdict="FAILED (exit $rc)"
  fi
  echo "== $name: $verdict in $((SECONDS - start)) s" | tee -a "$OUT/summary.txt" "$LOG"
  ((rc == 0)) || failed=1
  return "$rc"
}

header() {
  {
    echo "stage: $STAGE   $(date -u +%Y-%m-%dT%H:%M:%SZ)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv \
      || echo "nvidia-smi failed"
    "$PY" -c 'import torch; print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, device {torch.cuda.get_device_name() if torch.cuda.is_available() else None}")'
    "$PY" -c 'import torchvision; print(f"torchvision {torchvision.__version__}")' || echo "torchvision missing"
    "$PY" -c 'import numpy, cv2, av; print(f"numpy {numpy.__version__}, opencv {cv2.__version__}, av {av.__version__}")' \
      || echo "numpy / opencv / av missing"
    echo "nvcc: $(nvcc --version 2>&1 | tail -n 1)"
    echo "python: $("$PY" --version 2>&1) at $(command -v "$PY")"
  } 2>&1 | tee "$OUT/env.txt"
}

# Exit 0 when slowbench._C loads and registers a CUDA kernel for the fused op.
cuda_ops_built() {
  "$PY" -c '
import sys, torch
import slowbench.ops
sys.exit(0 if torch._C._dispatch_has_kernel_for_dispatch_key("slowbench::roi_align_3d_pool", "CUDA") else 1)
' >/dev/null 2>&1
}

build() {
  export FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} MAX_JOBS=${MAX_JOBS:-16}
  # --no-deps: the machine has no network, and its image already holds the dependencies.
  step build 420 "$PY" -m pip install --no-build-isolation --no-deps -e .
  if ! cuda_ops_built; then
    # An older setuptools may leave the editable build outside the source tree.
    step "build in place" 420 "$PY" setup.py build_ext --inplace
  fi
  if ! cuda_ops_built; then
    echo "error: slowbench._C has no CUDA kernels after the build (see $LOG)" | tee -a "$OUT/summary.txt"
    exit 1
  fi
}

ensure_built() {
  if cuda_ops_built; then
    echo "== slowbench._C already has CUDA kernels: no rebuild" | tee -a "$LOG"
  else
    build
  fi
}

PYTEST=("$PY" -m pytest -q -rfEs -p no:cacheprovider --durations=15)
# One cudaMalloc per tensor under the sanitizer, so that memcheck sees a read past a tensor's end
# (the caching allocator would hide it inside a larger block).
SANITIZER=(env PYTORCH_NO_CUDA_MEMORY_CACHING=1
  compute-sanitizer --error-exitcode 99 --print-limit 50 --target-processes all)

# The rest of the suite (CPU work) spread over the host's cores when the image has pytest-xdist,
# one thread per worker so the workers do not oversubscribe them.
spread_tests() {
  local workers=()
  if "$PY" -c "import xdist" 2>/dev/null; then
    workers=(-n "$(($(nproc) * 3 / 4))")
  fi
  step "$1" "$2" env OMP_NUM_THREADS=1 "${PYTEST[@]}" "${workers[@]}" "${@:3}"
}

# The first stage to run on a GPU machine, in the order that proves the most when time is short:
# the build, the CUDA op tests and the core benchmarks, then memcheck, then the rest of the suite.
stage_first() {
  build
  step "tests/ops" 150 "${PYTEST[@]}" tests/ops
  step bench_gpu 150 "${PYTEST[@]}" benchmarks/bench_gpu.py --benchmark-only \
    --benchmark-json="$OUT/bench_gpu.json"
  memcheck 90
  # The two learning tests train on the CPU wherever they run (CI proves them): left to build-test.
  # The CUDA emulation is a CPU check that CI runs; the emulation stage compares it with this GPU.
  spread_tests "tests (all but ops and learning)" 540 tests --ignore=tests/ops --ignore=tests/cuda_emulated \
    --ignore=tests/engine/test_it_learns.py --ignore=tests/engine/test_amp_learns.py
}

stage_build_test() {
  build
  # The ops first, so that their CUDA results come back even if the rest runs out of time.
  step "tests/ops" 240 "${PYTEST[@]}" tests/ops "$@"
  spread_tests "tests (all but ops)" 540 tests --ignore=tests/ops --ignore=tests/cuda_emulated "$@"
}

# memcheck MAX_S: compute-sanitizer memcheck on the CUDA op tests.
memcheck() {
  step memcheck "$1" "${SANITIZER[@]}" --tool memcheck --leak-check no \
    "${PYTEST[@]}" tests/ops -k "cuda and not compile"
}

stage_sanitize() {
  ensure_built
  memcheck 300
  step racecheck 240 "${SANITIZER[@]}" --tool racecheck --racecheck-report all \
    "${PYTEST[@]}" tests/ops -k "cuda and not compile and (backward or parity or reproducible)"
}

stage_bench() {
  ensure_built
  step bench_gpu 300 "${PYTEST[@]}" benchmarks/bench_gpu.py --benchmark-only \
    --benchmark-json="$OUT/bench_gpu.json" "$@"
  step "bench_ops (cuda)" 120 "${PYTEST[@]}" benchmarks/bench_ops.py --benchmark-only -k cuda \
    --benchmark-json="$OUT/bench_ops_cuda.json"
  step bench_model 180 "${PYTEST[@]}" benchmarks/bench_model.py --benchmark-only \
    --benchmark-json="$OUT/bench_model.json"
}

stage_zoo() {
  ensure_built
  step zoo 540 "$PY" -m benchmarks.zoo_tables --device cuda --out "$OUT/model_zoo.md" "$@"
}

# Runs each fused kernel once at the bench_gpu shape: forward, atomic and deterministic
# backward, for float32 / bfloat16 and avg / max (12 kernels).
NCU_DRIVER='
import torch
from benchmarks.bench_gpu import deterministic_algorithms, fused, op_case
for dtype in (torch.float32, torch.bfloat16):
    for mode in ("avg", "max"):
        x, rois = op_case(dtype)
        leaf = x.requires_grad_()
        out = fused(rois, mode)(leaf)
        grad_out = torch.randn_like(out)
        torch.autograd.grad(out, leaf, grad_out, retain_graph=True)
        with deterministic_algorithms(True):
            torch.autograd.grad(out, leaf, grad_out)
torch.cuda.synchronize()
print("ran the fused kernels: fp32/bf16 x avg/max x forward/atomic backward/deterministic backward")
'

stage_ncu() {
  ensure_built
  local report="$OUT/roi_align_3d_pool"
  # --clock-control none: leave the GPU's clocks as they are (the default locks them to base).
  step "ncu profile" 360 ncu --target-processes all --kernel-name regex:roi_align_3d_pool \
    --launch-count 12 --set full --import-source yes --clock-control none -f -o "$report" \
    "$PY" -c "$NCU_DRIVER"
  # Compulsory traffic vs what the kernels moved (DRAM bytes against §6.2's model), time, and
  # where the limit is (DRAM, L1/L2, SM issue).
  step "ncu summary" 60 bash -c "ncu --import '$report.ncu-rep' --page raw --csv --metrics \
gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,\
dram__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_bytes.sum,l1tex__t_bytes.sum,\
lts__t_sector_hit_rate.pct,sm__throughput.avg.pct_of_peak_sustained_elapsed,\
sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread \
> '$OUT/ncu_summary.csv'"
  step "ncu details" 60 bash -c "ncu --import '$report.ncu-rep' --page details > '$OUT/ncu_details.txt'"
}

# Whether `slowbench.test` waits for its loader here: the faithful pipeline's clips/s per worker
# on this host's cores (720p JPEGs, bench_data.py) against the detector's batch-1 clips/s on this
# GPU (benchmarks.zoo_tables at the rows' real test shapes); the default workers are the usable cores less one, at most 16.
stage_input() {
  ensure_built
  echo "usable cores: $("$PY" -c 'import os; print(len(os.sched_getaffinity(0)))')" | tee -a "$OUT/summary.txt"
  step "bench_data (host, per worker)" 240 "${PYTEST[@]}" benchmarks/bench_data.py --benchmark-only \
    --benchmark-json="$OUT/bench_data.json"
  step "zoo 4x16 and 16x4 (GPU, batch 1)" 240 "$PY" -m benchmarks.zoo_tables --device cuda \
    --rows ava21-k400-r50-4x16,ava22-k700-16x4 --out "$OUT/zoo_input.md"
}

# The CUDA kernels and their HIP-CPU emulation (docs/cuda_emulation.md) on the same inputs, the
# cases of tests/cuda_emulated: every output within 1e-5, argmax equal. Builds the emulation here
# first (cmake and a C++20 compiler; TBB if the image has it, else its blocks run in turn); the
# test fails, rather than skips, when it cannot.
stage_emulation() {
  ensure_built
  step "emulation build" 300 "$PY" -c 'import sys; sys.path.insert(0, "tests/cuda_emulated")
import emulation; print(emulation.build())'
  step "emulation vs GPU" 240 env SLOWBENCH_REQUIRE_CUDA_EMULATION=1 "${PYTEST[@]}" \
    tests/cuda_emulated/test_emulation_matches_gpu.py
}

case "$STAGE" in
  first | build-test | sanitize | bench | zoo | ncu | input | emulation) ;;
  *)
    echo "error: unknown stage '${STAGE}'" >&2
    usage
    exit 2
    ;;
esac
: >"$OUT/summary.txt"
install_carried_wheels
header
case "$STAGE" in
  first) stage_first ;;
  build-test) stage_build_test "$@" ;;
  sanitize) stage_sanitize ;;
  bench) stage_bench "$@" ;;
  zoo) stage_zoo "$@" ;;
  ncu) stage_ncu ;;
  input) stage_input ;;
  emulation) stage_emulation ;;
esac
echo "== summary ($STAGE, ${SECONDS} s)"
cat "$OUT/summary.txt"
exit "$failed"
