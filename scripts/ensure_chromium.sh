#!/usr/bin/env bash
# Find a Chromium for the browser runtimes: one on the machine, else Playwright's download,
# else Debian's package when root; otherwise say what to install.
set -u
if [ -n "${HARNESS_CHROMIUM:-}" ] && [ -x "$HARNESS_CHROMIUM" ]; then exit 0; fi
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$name" >/dev/null 2>&1; then exit 0; fi
done
echo "setup: no Chromium found; trying Playwright's download" >&2
if .venv/bin/python -m playwright install chromium >/dev/null 2>&1; then
  echo "setup: installed Playwright's Chromium (set HARNESS_CHROMIUM to its path if it is not found)" >&2
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium with apt-get" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    && command -v chromium >/dev/null 2>&1 && exit 0
fi
echo "setup: error: no Chromium; install one (Debian: apt-get install -y chromium) or set HARNESS_CHROMIUM=/path/to/chrome" >&2
exit 1
