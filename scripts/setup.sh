#!/usr/bin/env bash
# Set up this machine for Tyn (Debian 12): system packages, .venv, the editable install.
# Idempotent: apt runs only when a package is missing; pip only when .venv is new or
# pyproject.toml/setup.py changed; otherwise it just refreshes the host bundle (fast).
# Run as root, or as a user who may sudo (used for apt-get only).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(qemu-system-x86 musl-tools build-essential python3-venv python3-dev cpio xz-utils iproute2
          dpkg-dev netcat-openbsd strace gdb)

say() { echo "setup.sh: $*" >&2; }

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        say "need root or sudo to install: ${missing[*]}"
        exit 1
    fi
    say "installing ${missing[*]}"
    "${as_root[@]}" apt-get update -q
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

VENV=.venv
PY=$VENV/bin/python
STAMP=$VENV/.tyn-setup
want=$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)
if [ ! -x "$PY" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ] || ! "$PY" -c 'import tyn, pytest, pexpect' 2>/dev/null; then
    say "installing Tyn into $VENV (pip install -e '.[test]')"
    # Build requirements first, then build without isolation: no throwaway build env per install.
    if ! { "$PY" -m pip install -q 'setuptools>=68' wheel 'Cython>=3.1' &&
           "$PY" -m pip install -q --no-build-isolation -e '.[test]'; } >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        say "pip install failed"
        exit 1
    fi
    echo "$want" >"$STAMP"
else
    # Sources may have changed since the install: rebuild the host bundle (incremental).
    if ! "$PY" setup.py -q build_ext --inplace >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        say "building the host bundle (setup.py build_ext --inplace) failed"
        exit 1
    fi
fi
