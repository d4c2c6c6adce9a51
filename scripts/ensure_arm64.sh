#!/usr/bin/env bash
# The arm64 runtimes' environment (runtimes/arm64/, docs/phones.md): LiteRT's aarch64 wheel in an
# arm64 Python 3.11, run by qemu user mode. Idempotent (a stamp of the pins and this script); never
# fails `make setup`: when a step cannot be done, it writes the reason to $ROOT/unavailable.txt
# and the arm64 runtimes are listed unavailable with it.
#   1. qemu-aarch64 >= 8.1 (bookworm's 7.2 crashes in LiteRT's Interpreter()): found on PATH, else
#      qemu-user from bookworm-backports through apt (root only).
#   2. an arm64 sysroot: Debian's arm64 python3.11 and its dependencies, fetched by apt-get with a
#      private APT_CONFIG (its own lists and state; the system's apt is not changed) and unpacked
#      with dpkg-deb -x: no root, no binfmt, no chroot.
#   3. ai-edge-litert and numpy for aarch64 / CPython 3.11, pinned by constraints.txt, into $ROOT/site.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=${HARNESS_ARM64_ROOT:-$PWD/.venv/arm64}
PY=${PY:-.venv/bin/python}
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
STAMP_KEY=$( (cat "$0"; grep -E '^(ai-edge-litert|numpy|protobuf|ml.dtypes|flatbuffers|tqdm|typing.extensions|backports)' constraints.txt) | sha256sum | cut -c1-16)
STAMP=$ROOT/.stamp-$STAMP_KEY

[ -f "$STAMP" ] && exit 0
mkdir -p "$ROOT"
rm -f "$ROOT"/.stamp-* "$ROOT/unavailable.txt" "$ROOT/env.json"
started=$(date +%s)
LOG=$ROOT/setup.log
: >"$LOG"

PIP_PID=""
stop_pip() {  # the background pip (step 3) is stopped by its pid on every way out, Ctrl-C included
  if [ -n "$PIP_PID" ]; then kill "$PIP_PID" 2>/dev/null; wait "$PIP_PID" 2>/dev/null; PIP_PID=""; fi
}
trap stop_pip EXIT
trap 'stop_pip; exit 130' INT TERM
unavailable() {  # the reason, one line, for the runtimes' availability; setup itself succeeds
  stop_pip
  echo "$1" >"$ROOT/unavailable.txt"
  echo "arm64 runtimes unavailable: $1 (log: $LOG)" >&2
  touch "$STAMP"  # not retried on every make setup; delete the stamp (or $ROOT) to retry
  exit 0
}

qemu_ok() {  # qemu-aarch64 of version >= 8.1
  local v
  v=$(qemu-aarch64 --version 2>/dev/null | sed -n 's/^qemu-aarch64 version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  [ -n "$v" ] && set -- $v && { [ "$1" -gt 8 ] || { [ "$1" -eq 8 ] && [ "$2" -ge 1 ]; }; }
}

mark() { echo "== $(($(date +%s) - started))s: $1" >>"$LOG"; }

# 3 first, in the background: the wheels download while apt works (they need only the host's pip)
rm -rf "$ROOT/site"
"$PY" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --target "$ROOT/site" \
  --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 \
  --platform manylinux_2_27_aarch64 --platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64 \
  -c constraints.txt ai-edge-litert numpy >"$ROOT/pip.log" 2>&1 &
PIP_PID=$!

# 1. qemu
mark "qemu"
if ! qemu_ok; then
  [ "$(id -u)" = 0 ] || unavailable "qemu-aarch64 >= 8.1 not found (as root: apt-get install -t $SUITE-backports qemu-user)"
  echo "deb $MIRROR $SUITE-backports main" >/etc/apt/sources.list.d/harness-$SUITE-backports.list
  apt-get update -q -o Dir::Etc::sourcelist=sources.list.d/harness-$SUITE-backports.list \
    -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >>"$LOG" 2>&1 \
    || unavailable "apt-get update of $SUITE-backports failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t "$SUITE-backports" qemu-user \
    >>"$LOG" 2>&1 || unavailable "apt-get install -t $SUITE-backports qemu-user failed"
  qemu_ok || unavailable "qemu-aarch64 from $SUITE-backports is older than 8.1"
fi

# 2. the arm64 sysroot (a private apt: its own lists, state and cache under $ROOT/apt)
mark "arm64 sysroot"
APT=$ROOT/apt
rm -rf "$APT" "$ROOT/sysroot"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts" "$APT/prefs" "$APT/log"
touch "$APT/status"
printf 'deb [arch=arm64] %s %s main\ndeb [arch=arm64] %s-security %s-security main\n' \
  "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" >"$APT/sources.list"
cat >"$APT/apt.conf" <<EOF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
APT::Install-Recommends "false";
Dir::State "$APT";
Dir::State::lists "$APT/lists";
Dir::State::status "$APT/status";
Dir::Cache "$APT/cache";
Dir::Etc::sourcelist "$APT/sources.list";
Dir::Etc::sourceparts "-";
Dir::Etc::main "$APT/apt.conf";
Dir::Etc::parts "$APT/parts";
Dir::Etc::preferencesparts "$APT/prefs";
Dir::Log "$APT/log";
Debug::NoLocking "true";
EOF
export APT_CONFIG=$APT/apt.conf
apt-get update -q >>"$LOG" 2>&1 || unavailable "apt-get update of the arm64 package lists failed"
apt-get install -y -q --download-only python3.11 libstdc++6 libgcc-s1 >>"$LOG" 2>&1 \
  || unavailable "apt-get could not download Debian's arm64 python3.11"
mkdir -p "$ROOT/sysroot"
for deb in "$APT"/cache/archives/*.deb; do
  dpkg-deb -x "$deb" "$ROOT/sysroot" || unavailable "dpkg-deb -x $(basename "$deb") failed"
done
rm -rf "$APT"  # unpacked: its lists and .debs are not needed again (a re-run fetches them anew)
# CPython 3.11's bytecode does not depend on the CPU: compiled once here, not at each emulated start
"$PY" -m compileall -q -j 2 "$ROOT/sysroot/usr/lib/python3.11" >>"$LOG" 2>&1 || true
unset APT_CONFIG

# 3. LiteRT and numpy for aarch64, pinned (started above)
mark "waiting for pip"
wait "$PIP_PID"
pip_status=$?
PIP_PID=""
[ "$pip_status" = 0 ] || { cat "$ROOT/pip.log" >>"$LOG"; unavailable "pip could not install the aarch64 ai-edge-litert wheel"; }
mark "smoke test under qemu"

# a smoke test under qemu: the interpreter imports
QEMU_LD_PREFIX="$ROOT/sysroot" PYTHONPATH="$ROOT/site" timeout 300 qemu-aarch64 -cpu cortex-a55 \
  "$ROOT/sysroot/usr/bin/python3.11" -c "import ai_edge_litert.interpreter, numpy" >>"$LOG" 2>&1 \
  || unavailable "LiteRT's aarch64 build does not import under qemu-aarch64"
mark "done"
seconds=$(($(date +%s) - started))
printf '{"setup_seconds": %s, "qemu": "%s", "bytes": %s}\n' "$seconds" \
  "$(qemu-aarch64 --version | head -1)" "$(du -sb "$ROOT" | cut -f1)" >"$ROOT/env.json"
touch "$STAMP"
echo "arm64 runtimes: set up in ${seconds}s ($ROOT)" >&2
