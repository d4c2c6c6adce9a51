"""A commit message the team can read in `git log --oneline`: the commit-msg hook runs this.

The subject is what every tool shows (`--oneline`, GitHub's list, a bisect log), so it says
what changed in at most 72 characters; the body, after one blank line, says why, which the diff
cannot. Standard library only: git runs the hook with whatever `python3` is on the PATH, before
any virtualenv exists. Merge, fixup!, squash! and amend! commits are git's own and pass.

Usage: python3 scripts/check_commit_msg.py MESSAGE_FILE  (exit 1 with the reason on stderr)
"""

from __future__ import annotations

import sys
from pathlib import Path

SUBJECT_MAX = 72
SCISSORS = "# ------------------------ >8 ------------------------"
GIT_OWN = ("Merge ", "fixup! ", "squash! ", "amend! ")


def message_lines(text: str) -> list[str]:
    """The lines git keeps: up to the scissors of `commit -v`, comments out, trailing blanks out."""
    kept = []
    for line in text.split("\n"):
        if line.startswith(SCISSORS):
            break
        if not line.startswith("#"):
            kept.append(line.rstrip())
    while kept and not kept[-1]:
        kept.pop()
    while kept and not kept[0]:
        kept.pop(0)
    return kept


def problems(text: str) -> list[str]:
    """What is wrong with a commit message, in words; empty when it is fine."""
    lines = message_lines(text)
    if not lines:
        return ["the message is empty"]
    subject = lines[0]
    if subject.startswith(GIT_OWN):
        return []
    found = []
    if len(subject) > SUBJECT_MAX:
        found.append(f"the subject is {len(subject)} characters; at most {SUBJECT_MAX} (move the rest to the body)")
    if len(lines) < 2:
        found.append("no body: after a blank line, say why this change is made")
    elif lines[1]:
        found.append("line 2 must be blank (subject, blank line, body)")
    elif not any(lines[2:]):
        found.append("no body: after the blank line, say why this change is made")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: check_commit_msg.py MESSAGE_FILE", file=sys.stderr)
        return 2
    path = Path(argv[1])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"{path}: cannot read the commit message ({e})", file=sys.stderr)
        return 2
    found = problems(text)
    for problem in found:
        print(f"commit-msg: {problem}", file=sys.stderr)
    if found:
        print(f"commit-msg: the message is kept in {path} (git commit -e -F {path} to edit it)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
