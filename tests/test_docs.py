"""The README and docs/ stay a short front page with reference beside it, and stay true.

A newcomer reads the README first and follows its links; a page nobody links is never found, a
link that leaves the repository breaks in every clone, and a command that no longer parses
teaches the wrong thing. So: the README stays under 220 lines, links every docs page, every
relative link resolves inside the repository, every `.venv/bin/harness` line of a `sh` block
parses with the harness's own parser, and every runtime and browser engine the registry has
is named in the docs.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from harness.cli.parser import parser
from runtimes import registry

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
README_MAX_LINES = 220

# Pages the other branches of this round write; the README links them already. The lead empties
# this set after the merge, and from then on a missing page fails like any other broken link.
PENDING_PAGES: frozenset[str] = frozenset()

LINK = re.compile(r"\]\(([^)\s]+)\)")
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
BROWSER_NAMES = {"chromium": "Chromium", "firefox": "Firefox", "webkit": "WebKit"}


def markdown_files() -> list[Path]:
    """Every page a reader can reach: the README, CONTRIBUTING.md when present, docs/."""
    pages = [README, *sorted(DOCS.glob("*.md"))]
    contributing = REPO / "CONTRIBUTING.md"
    return pages + [contributing] if contributing.exists() else pages


def links(page: Path) -> list[str]:
    return LINK.findall(page.read_text(encoding="utf-8"))


def test_readme_fits_a_first_read() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; reference belongs in docs/"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {target.split("#")[0] for target in links(README)}
    unlinked = [f"docs/{page.name}" for page in DOCS.glob("*.md") if f"docs/{page.name}" not in linked]
    assert not unlinked, f"README.md does not link {unlinked}"


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_links_resolve_inside_the_repository(page: Path) -> None:
    problems = []
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor on the same page
        path = target.split("#")[0]
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(REPO):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists() and resolved.relative_to(REPO).as_posix() not in PENDING_PAGES:
            problems.append(f"{target}: no such file")
    assert not problems, f"{page.relative_to(REPO)}: " + "; ".join(problems)


def harness_commands(page: Path) -> list[list[str]]:
    """The argv of every `.venv/bin/harness` line in the page's sh blocks (comments, pipes and
    redirections cut, `\\` continuations joined)."""
    commands = []
    for block in SH_BLOCK.findall(page.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if not words or words[0] != ".venv/bin/harness":
                continue
            cut = next((i for i, w in enumerate(words) if w in {"<", ">", "|", "2>", "&&"}), len(words))
            commands.append(words[1:cut])
    return commands


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_harness_command_in_the_docs_parses(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in harness_commands(page):
        try:
            parser().parse_args(argv)
        except SystemExit:
            err = capsys.readouterr().err.strip()
            pytest.fail(f"{page.relative_to(REPO)}: `harness {shlex.join(argv)}` does not parse: {err}")


def test_the_command_check_can_fail(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```sh\n.venv/bin/harness predict --runtimes keras --no-such-option x\n```\n")
    (argv,) = harness_commands(page)
    with pytest.raises(SystemExit):
        parser().parse_args(argv)


def test_every_runtime_and_browser_engine_is_documented() -> None:
    text = "\n".join(page.read_text(encoding="utf-8") for page in markdown_files())
    readme = README.read_text(encoding="utf-8")
    bases = {runtime_id.split("@")[0].split(":")[-1] for runtime_id in registry.ids()}
    undocumented = sorted(base for base in bases if f"`{base}" not in text)
    assert not undocumented, f"runtimes no page names: {undocumented}"
    missing = [
        name for browser, name in BROWSER_NAMES.items() if browser in registry.TFJS_ENGINES and name not in readme
    ]
    assert not missing, f"README.md does not name the browser engines {missing}"
    assert set(registry.TFJS_ENGINES) <= set(BROWSER_NAMES), "a new browser engine: name it in BROWSER_NAMES"
