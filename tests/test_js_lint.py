"""`make lint` runs ESLint over the JavaScript that ships or runs in the engines, and fails on a
planted error (and only on it): through real make and real ESLint, on a copy of the linted
files (so the tree the other tests read is never touched), with the project's own
eslint.config.mjs and node_modules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ESLINT = REPO / "node_modules" / ".bin" / "eslint"
pytestmark = pytest.mark.skipif(
    not ESLINT.exists() or shutil.which("make") is None, reason="ESLint is not installed (make setup) or no make"
)


def make_lint_js(cwd: Path) -> subprocess.CompletedProcess[str]:
    # -o: the npm stamp counts as up to date, so make never reinstalls the (linked) node_modules
    command = ["make", "-f", str(REPO / "Makefile"), "-o", "node_modules/.setup-stamp", "lint-js"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def js_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The linted files as make lint sees them, in a throwaway folder beside the real node_modules."""
    root = tmp_path_factory.mktemp("js-lint")
    shutil.copytree(REPO / "apps" / "web" / "src", root / "apps" / "web" / "src")
    shutil.copy(REPO / "apps" / "web" / "vite.config.js", root / "apps" / "web")
    shutil.copytree(REPO / "runtimes" / "browser", root / "runtimes" / "browser", ignore=shutil.ignore_patterns("*.py"))
    shutil.copy(REPO / "eslint.config.mjs", root)
    (root / "node_modules").symlink_to(REPO / "node_modules")
    return root


def test_make_lint_runs_eslint() -> None:
    dry = subprocess.run(["make", "-n", "lint"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "node_modules/.bin/eslint" in dry.stdout, dry.stdout[-2000:] + dry.stderr[-1000:]


def test_a_planted_error_fails_lint(js_tree: Path) -> None:
    app = js_tree / "apps" / "web" / "src" / "app.js"
    page = js_tree / "runtimes" / "browser" / "static" / "tfjs_page.js"
    originals = {path: path.read_text(encoding="utf-8") for path in (app, page)}
    try:
        app.write_text(originals[app] + "\nconst plantedUnused = 1;\n", encoding="utf-8")
        page.write_text(originals[page] + "\nplantedUndefinedGlobal.run();\n", encoding="utf-8")
        result = make_lint_js(js_tree)
    finally:
        for path, text in originals.items():
            path.write_text(text, encoding="utf-8")
    assert result.returncode != 0
    assert "plantedUnused" in result.stdout and "no-unused-vars" in result.stdout
    assert "plantedUndefinedGlobal" in result.stdout and "no-undef" in result.stdout
    # exactly the planted two: the committed files themselves are clean (make lint says so too)
    assert "2 problems (2 errors, 0 warnings)" in result.stdout, result.stdout[-3000:]
