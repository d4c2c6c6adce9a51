#!/usr/bin/env bash
# `make hooks`: install the commit-msg check into the repository of the current directory.
# The hook is a two-line shim that runs the checkout's own scripts/check_commit_msg.py, so a
# change to the rules reaches everyone with the next pull, and a worktree on an older branch
# without the script is let through with a note rather than blocked. An existing commit-msg hook
# that is not ours is kept aside as commit-msg.local and still run first.
set -euo pipefail
hooks=$(git rev-parse --git-path hooks)
mkdir -p "$hooks"
hook="$hooks/commit-msg"
marker="# cross-runtime-harness commit-msg check"
if [ -e "$hook" ] && ! grep -qF "$marker" "$hook"; then
  mv "$hook" "$hook.local"
  echo "hooks: kept your own commit-msg hook as $hook.local (it still runs first)" >&2
fi
tmp=$(mktemp "$hooks/.commit-msg.XXXXXX")
cat >"$tmp" <<'HOOK'
#!/bin/sh
# cross-runtime-harness commit-msg check (installed by `make hooks`; see CONTRIBUTING.md)
here=$(dirname "$0")
if [ -x "$here/commit-msg.local" ]; then "$here/commit-msg.local" "$1" || exit $?; fi
check="$(git rev-parse --show-toplevel)/scripts/check_commit_msg.py"
if [ ! -f "$check" ]; then echo "commit-msg: $check not in this checkout; not checked" >&2; exit 0; fi
exec python3 "$check" "$1"
HOOK
chmod +x "$tmp"
mv "$tmp" "$hook"
echo "hooks: installed $hook (subject <= 72 characters, a blank line, a body that says why)" >&2
