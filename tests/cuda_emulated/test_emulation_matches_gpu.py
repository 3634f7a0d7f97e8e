"""On a machine with a GPU: the CUDA kernels and their emulation (plain build) on the same inputs
(the cases of emulated_cases.py) agree to 1e-5, float32 and float64. Skips without a GPU; run by
`bash tools/gpu_session.sh emulation`."""

import pytest
import torch
from emulated_cases import CASE_NAMES, DTYPES, assert_outputs_close, emulated

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("case", CASE_NAMES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_emulation_matches_the_gpu(emulated_programs, dtype, case):
    for check, result in emulated(emulated_programs, "plain", dtype)[case]:
        assert_outputs_close(check.label, result.outputs, check.run_op("cuda"), rtol=1e-5, atol=1e-5)
