"""The documentation stays honest: every relative link in README.md and docs/ points to an existing
file, and every `python -m MODULE` they name imports and answers `--help` with exit status 0."""

import concurrent.futures
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]

# `python -m a.b` (or python3), in prose, inline code and fenced blocks alike; the name ends at a
# space, quote, bracket or punctuation, so placeholders such as `slowbench.<command>` never match.
COMMAND = re.compile(r"\bpython3? -m ([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?=[\s`'\")\]|;,:]|\.(?:\s|$)|$)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)


def _text(path):
    return path.read_text(encoding="utf-8")


def _modules():
    found = {}
    for path in DOCS:
        for name in COMMAND.findall(_text(path)):
            found.setdefault(name, path.relative_to(REPO).as_posix())
    return sorted(found.items())


def _links():
    links = []
    for path in DOCS:
        prose = INLINE_CODE.sub("", FENCE.sub("", _text(path)))
        for target in dict.fromkeys(LINK.findall(prose)):
            if not EXTERNAL.match(target):
                links.append((path.relative_to(REPO).as_posix(), target))
    return links


def _find_spec(module):
    """`importlib.util.find_spec` with the checkout first on the path; None when a parent package
    is missing too."""
    sys.path.insert(0, str(REPO))
    try:
        return importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None
    finally:
        sys.path.remove(str(REPO))


def _env():
    """The checkout ahead of any installed copy of the packages."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def test_docs_name_commands_and_links():
    assert len(DOCS) > 1
    assert _modules(), "no `python -m` command found in the documentation"
    assert _links(), "no relative link found in the documentation"


@pytest.mark.parametrize("source, target", _links())
def test_relative_link_exists(source, target):
    file = target.split("#", 1)[0]  # same-file anchors (`#...`) are not collected
    assert (REPO / source).parent.joinpath(file).exists(), f"{source}: link to missing {target}"


def _help(module):
    return subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def help_runs():
    """`python -m MODULE --help` of every module found, one process per CPU at a time (most
    import torch: ~2 s each)."""
    modules = [module for module, _ in _modules() if _find_spec(module) is not None]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        yield {module: pool.submit(_help, module) for module in modules}


@pytest.mark.parametrize("module, source", _modules())
def test_command_module_answers_help(module, source, help_runs):
    assert _find_spec(module) is not None, f"{source}: no module {module}"
    run = help_runs[module].result()
    assert run.returncode == 0, f"{source}: python -m {module} --help exited {run.returncode}: {run.stderr}"
