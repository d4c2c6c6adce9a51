#!/usr/bin/env bash
# .venv-coreai: Apple's Core AI (coreai-core, coreai-torch) with torch's CPU build and Keras 3, for
# the `coreai` runtimes and exports. It cannot share .venv (coreai-core needs numpy >= 2.3, TF 2.19
# numpy < 2.2). Idempotent: rebuilt only when constraints-coreai.txt is newer than its stamp. It
# never fails the set-up: when the environment cannot be built, the reason goes to
# .venv-coreai.failed and `harness runtimes` lists coreai as unavailable with it.
set -u
VENV=${HARNESS_COREAI_VENV:-.venv-coreai}
FAILED="$VENV.failed"
STAMP="$VENV/.setup-stamp"
PINS=constraints-coreai.txt
[ -f "$STAMP" ] && [ "$STAMP" -nt "$PINS" ] && exit 0
fail() {
  echo "$1" > "$FAILED"
  echo "setup: note: Core AI's environment $VENV could not be built ($1); the coreai runtimes will be reported unavailable" >&2
  exit 0
}
PY=${COREAI_PYTHON:-python3.11}  # coreai-core 1.0.0b3 ships cp311 wheels; torch's CPU file on disk is cp311
command -v "$PY" >/dev/null 2>&1 || fail "$PY not found (coreai-core 1.0.0b3 has wheels for CPython 3.11)"
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || [ "$(uname -s)" = "Darwin" ] || fail "coreai-core 1.0.0b3 has no wheel for $(uname -s) $(uname -m)"
rm -f "$FAILED" "$STAMP"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV" || fail "$PY -m venv $VENV failed"
echo "setup: building $VENV (Apple Core AI, torch CPU, Keras 3: about 1.4 GB, a minute)" >&2
log=$(mktemp)
# torch is pinned as 2.13.0+cpu: the CPU file lying on this machine's disk; PyPI has no such
# version, so pip stops with an error instead of downloading a CUDA build of several GB.
if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check -c "$PINS" \
    "torch==2.13.0+cpu" coreai-core coreai-torch keras numpy >"$log" 2>&1; then
  reason=$(grep -E "ERROR|error:" "$log" | tail -1 | cut -c1-240)
  rm -f "$log"
  fail "pip install from $PINS failed: ${reason:-see the output of pip}"
fi
rm -f "$log"
"$VENV/bin/python" -c "import coreai.authoring, coreai.runtime, coreai_torch" >/dev/null 2>&1 \
  || fail "coreai does not import in $VENV"
touch "$STAMP"
