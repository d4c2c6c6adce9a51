"""The layers hold: `lint-imports` (import-linter, run by `make lint`) keeps every contract in
pyproject.toml, and refuses an upward import planted in a copy of the tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.paths import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
UPWARD = {
    "harness/core/_upward_probe.py": "from harness.report import summary  # core reaching up to the reports\n",
    "runtimes/_upward_probe.py": "import harness.check.golden  # an engine reaching into the pipeline\n",
    "harness/export/_upward_probe.py": "from harness.run import engines  # export reaching up to the run layer\n",
    "harness/report/_upward_probe.py": "from harness.release import signing  # the report reaching up to release\n",
}

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (make setup)")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture()
def tree_copy(tmp_path: Path) -> Path:
    for name in ("harness", "runtimes"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copyfile(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(tree_copy: Path) -> None:
    proc = _lint(tree_copy)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "broken" in proc.stdout and "0 broken" in proc.stdout


@pytest.mark.parametrize("probe", sorted(UPWARD))
def test_an_upward_import_breaks_the_build(tree_copy: Path, probe: str) -> None:
    (tree_copy / probe).write_text(UPWARD[probe], encoding="utf-8")
    proc = _lint(tree_copy)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "BROKEN" in proc.stdout and probe.removesuffix(".py").replace("/", ".") in proc.stdout
