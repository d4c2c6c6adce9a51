"""`make hooks`: a real git refuses a commit whose message `git log --oneline` cannot show well.

Run through git itself (a throwaway repository, the hook installed by scripts/install_hooks.sh,
real `git commit`s), so the test fails if the hook is not installed, not executable, or not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    identity = {"NAME": "t", "EMAIL": "t@example.invalid"}
    env = {
        **os.environ,
        **{f"GIT_{who}_{key}": value for who in ("AUTHOR", "COMMITTER") for key, value in identity.items()},
    }
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=check)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh repository holding the check script, with the hook installed as `make hooks` does."""
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "core.hooksPath", ".git/hooks")  # this repository's hooks, not a global path
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "check_commit_msg.py", tmp_path / "scripts")
    subprocess.run(["bash", str(REPO / "scripts" / "install_hooks.sh")], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def commit(repo: Path, message: str) -> subprocess.CompletedProcess[str]:
    (repo / "f.txt").write_text(message)
    git(repo, "add", "f.txt")
    return git(repo, "commit", "-q", "-m", message, check=False)


def test_a_short_subject_and_a_body_pass(repo: Path) -> None:
    result = commit(repo, "Docs: the README fits a screen\n\nReference moved to docs/ so a newcomer finds it.")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("x" * 73 + "\n\nwhy", "the subject is 73 characters"),
        ("Docs: the README fits a screen", "no body"),
        ("Docs: the README fits a screen\nwhy, on line two", "line 2 must be blank"),
    ],
    ids=["long-subject", "no-body", "no-blank-line"],
)
def test_a_bad_message_is_refused_with_its_reason(repo: Path, message: str, reason: str) -> None:
    result = commit(repo, message)
    assert result.returncode != 0
    assert reason in result.stderr
    assert git(repo, "rev-list", "--all", check=False).stdout == ""  # nothing was committed


def test_git_own_merge_subjects_pass(repo: Path) -> None:
    assert commit(repo, "Merge branch 'issue-26'").returncode == 0


def test_reinstalling_keeps_a_foreign_hook(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\necho foreign >&2\nexit 1\n")
    hook.chmod(0o755)
    subprocess.run(["bash", str(REPO / "scripts" / "install_hooks.sh")], cwd=repo, check=True, capture_output=True)
    assert (repo / ".git" / "hooks" / "commit-msg.local").exists()
    result = commit(repo, "Docs: the README fits a screen\n\nwhy")
    assert result.returncode != 0 and "foreign" in result.stderr  # the team's own hook still runs first
