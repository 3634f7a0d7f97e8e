"""Constants shared by the export tests (a module, so test files never import conftest)."""

ROW = "ava21-k400-r50-4x16"
# A tiny R18 backbone: every exported form is exercised in well under a second of inference.
TINY = {"depth": 18, "base_channels": 4}
