"""The repository's import graph: no import circle anywhere (function-level imports included,
since they only hide a loop until run time), and eval/ in layers that import only downward:
the shared modules at eval/ top level, then eval.report, then the evaluators (eval.ava,
eval.multisports, eval.compare); eval never imports slowbench, benchmarks or torch."""

import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("eval", "slowbench", "benchmarks")


def module_name(path):
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules():
    """{module name: file} of every Python module of the packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(path, name, known):
    """The known modules that the file `path` (module `name`) imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            # `from a import b` imports the module a.b when it is one, else a name of a.
            targets.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            )
    return {_known_prefix(target, known) for target in targets} - {None, name}


def _known_prefix(target, known):
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return None if parts[0] not in ("torch", "slowbench", "benchmarks", "eval") else parts[0]


@pytest.fixture(scope="module")
def graph():
    known = modules()
    return {name: imported(path, name, known) for name, path in known.items()}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle(graph):
    assert cycles(graph) == []


def layer(module):
    """0: eval's shared modules, 1: eval.report, 2: the evaluators; None outside eval."""
    parts = module.split(".")
    if parts[0] != "eval":
        return None
    if len(parts) == 1 or parts[1] not in ("report", "ava", "multisports", "compare"):
        return 0
    return 1 if parts[1] == "report" else 2


def test_eval_imports_only_downward(graph):
    upward = []
    for module, targets in graph.items():
        if layer(module) is None:
            continue
        for target in targets:
            other = layer(target)
            sideways = other == 2 and layer(module) == 2 and target.split(".")[1] != module.split(".")[1]
            if other is None or other > layer(module) or sideways:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_the_checker_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
