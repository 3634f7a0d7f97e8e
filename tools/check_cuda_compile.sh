#!/usr/bin/env bash
# Compile-only check of every csrc/cuda/*.cu with nvcc for sm_90 against the installed torch's
# headers. Works with a CPU wheel of torch (nothing is linked): it catches syntax, template
# and header errors in CUDA code on machines without a GPU.
#   -DC10_CUDA_NO_CMAKE_CONFIGURE_FILE: CPU wheels lack c10/cuda/impl/cuda_cmake_macros.h.
#   The kernels include only narrow c10/ATen CUDA headers (no ATen/cuda/CUDAContext.h, which
#   needs cuBLAS/cuSPARSE/cuSOLVER headers that a minimal toolkit does not ship).
set -euo pipefail
cd "$(dirname "$0")/.."

NVCC=${NVCC:-nvcc}
ARCH=${CUDA_ARCH:-sm_90}
TORCH_INC=$(python -c 'from torch.utils.cpp_extension import include_paths; print(" ".join("-isystem " + p for p in include_paths()))')
PY_INC=$(python -c 'import sysconfig; print(sysconfig.get_path("include"))')
OUT_DIR=$(mktemp -d)
trap 'rm -rf "$OUT_DIR"' EXIT

NVFLAGS=(-std=c++20 "-arch=$ARCH" -O3 -Xcompiler -fPIC -DTORCH_API_INCLUDE_EXTENSION_H
  -D__CUDA_NO_HALF_OPERATORS__ -D__CUDA_NO_HALF_CONVERSIONS__ -D__CUDA_NO_BFLOAT16_CONVERSIONS__
  -D__CUDA_NO_HALF2_OPERATORS__ --expt-relaxed-constexpr -DC10_CUDA_NO_CMAKE_CONFIGURE_FILE -DWITH_CUDA
  -Xcudafe --diag_suppress=20012)

"$NVCC" --version | tail -n 1
shopt -s nullglob
sources=(csrc/cuda/*.cu)
if [ ${#sources[@]} -eq 0 ]; then
  echo "no CUDA sources found" >&2
  exit 1
fi
# Compile in parallel (one job per core), report every failure.
pids=()
for src in "${sources[@]}"; do
  obj="$OUT_DIR/$(basename "${src%.cu}").o"
  ( start=$(date +%s)
    if "$NVCC" -c "$src" -o "$obj" "${NVFLAGS[@]}" $TORCH_INC -isystem "$PY_INC" > "$obj.log" 2>&1; then
      echo "ok   $src ($(( $(date +%s) - start )) s, $(stat -c %s "$obj") bytes)"
    else
      echo "FAIL $src"; cat "$obj.log"; exit 1
    fi ) &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
if [ $status -ne 0 ]; then
  echo "nvcc compile-only check failed" >&2
  exit 1
fi
echo "nvcc compile-only check passed: ${#sources[@]} files"
