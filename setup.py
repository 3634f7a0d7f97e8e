"""Build slowbench's C++/CUDA ops (slowbench._C) and install the slowbench and eval packages.

Install with `pip install --no-build-isolation -e .` (see pyproject.toml for why).
Environment switches: FORCE_CUDA=1 builds the CUDA sources even when no GPU is visible
(needs a CUDA build of torch and a toolkit); DEBUG=1 builds without optimisation.
"""

import glob
import os

import torch
from setuptools import find_packages, setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

FORCE_CUDA = os.environ.get("FORCE_CUDA", "0") == "1"
DEBUG = os.environ.get("DEBUG", "0") == "1"
# CUDA_HOME is always None on a CPU build of torch, so this gate never calls CUDAExtension
# there (it would fail with a misleading "CUDA_HOME is not set").
WITH_CUDA = CUDA_HOME is not None and (torch.cuda.is_available() or FORCE_CUDA)

if WITH_CUDA and not torch.cuda.is_available() and not os.environ.get("TORCH_CUDA_ARCH_LIST"):
    # No visible GPU to take the architecture from (FORCE_CUDA on a build box): default to
    # Hopper (H100/H200); torch's arch-flag logic fails on an empty list.
    os.environ["TORCH_CUDA_ARCH_LIST"] = "9.0"

print(
    f"slowbench build: torch {torch.__version__}, WITH_CUDA={WITH_CUDA}, "
    f"FORCE_CUDA={FORCE_CUDA}, DEBUG={DEBUG}, CUDA_HOME={CUDA_HOME}, "
    f"TORCH_CUDA_ARCH_LIST={os.environ.get('TORCH_CUDA_ARCH_LIST')}"
)


def extension():
    sources = sorted(glob.glob("csrc/*.cpp")) + sorted(glob.glob("csrc/cpu/*.cpp"))
    opt = ["-O0", "-g"] if DEBUG else ["-O3"]
    cxx = opt + ["-DPy_LIMITED_API=0x030A0000"]
    # Headers shared by the kernels: a change to one rebuilds the extension.
    depends = sorted(glob.glob("csrc/**/*.h", recursive=True) + glob.glob("csrc/**/*.cuh", recursive=True))
    if WITH_CUDA:
        sources += sorted(glob.glob("csrc/cuda/*.cu"))
        nvcc = opt + ["-lineinfo", "--expt-relaxed-constexpr"]
        return CUDAExtension(
            "slowbench._C",
            sources,
            define_macros=[("WITH_CUDA", None)],
            extra_compile_args={"cxx": cxx, "nvcc": nvcc},
            depends=depends,
            py_limited_api=True,
        )
    return CppExtension(
        "slowbench._C", sources, extra_compile_args={"cxx": cxx}, depends=depends, py_limited_api=True
    )


setup(
    name="slowbench",
    version="0.1.0",
    description="SlowOnly spatio-temporal action detection: kernels, models, AVA/MultiSports evaluation",
    packages=find_packages(include=["slowbench", "slowbench.*", "eval", "eval.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy",
        "scipy",
        "pandas",
        "tabulate",
        "tqdm",
        "pillow",
        "opencv-python-headless==4.12.0.88",
        "av==16.0.1",
    ],
    extras_require={
        "plot": ["matplotlib"],
        "deploy": ["onnx==1.19.1", "onnxruntime==1.23.2", "onnxscript==0.5.6"],
        "dev": ["ruff==0.14.14", "clang-format==21.1.8"],
    },
    ext_modules=[extension()],
    cmdclass={"build_ext": BuildExtension},
    options={"bdist_wheel": {"py_limited_api": "cp310"}},
)
