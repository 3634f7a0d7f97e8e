"""Every CUDA kernel of slowbench, run on the CPU by HIP-CPU with its launcher's launch sizes,
against the CPU ops (torch.ops.slowbench.*, backward ops included) on the same inputs, float32 and
float64, in a plain build and under AddressSanitizer + UBSan (the cases: emulated_cases.py)."""

import pytest
import torch
from emulated_cases import CASE_NAMES, DTYPES, assert_outputs_close, emulated

VARIANTS = ["plain", "sanitized"]


def _tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASE_NAMES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_emulated_kernels_match_cpu_ops(emulated_programs, variant, dtype, case):
    for check, result in emulated(emulated_programs, variant, dtype)[case]:
        assert_outputs_close(check.label, result.outputs, check.expected, **_tolerance(dtype))


def _block_reports(results):
    return [result.report for _, result in results if "chunk" in result.report]


def test_cases_reach_what_they_are_for(emulated_programs):
    """The cases do exercise a partial last chunk, both RoI paths, and every kernel."""
    runs = emulated(emulated_programs, "plain", torch.float32)
    partial = _block_reports(runs["roi:partial_chunk"])
    # roi_align_3d: forward and atomic backward; the pool: the same in both modes.
    assert len(partial) == 6 and all(r["num_chunks"] > 1 and 45 % r["chunk"] != 0 for r in partial), partial
    paths = _block_reports(runs["roi:table_and_direct"])
    assert paths and all(r["table_rois"] == 4 and r["direct_rois"] == 2 for r in paths), paths
    empty = runs["roi:no_rois"] + runs["temporal:empty"]
    assert all(result.report["launched"] == 0 for _, result in empty)
    others = [result for name, checks in runs.items() for _, result in checks if name not in ("roi:no_rois",
              "temporal:empty")]  # fmt: skip
    assert all(result.report["launched"] == 1 for result in others), "every other call launches its kernel"
