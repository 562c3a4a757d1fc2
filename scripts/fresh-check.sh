#!/usr/bin/env bash
# What a newcomer meets, checked end to end: a fresh clone of this repository's HEAD, an
# empty TYN_CACHE and no trixie apt source (the files erts-build/apt-trixie.sh adds are
# removed first), then the README's demo command.  Passes when the BEAM's hello comes out.
# Needs root (apt).  Takes several minutes (venv, ERTS build).
#   scripts/fresh-check.sh [WORKDIR]      (default: a new temporary directory, removed after)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
HELLO="Hello from OTP 27 on Tyn!"

[ "$(id -u)" = 0 ] || { echo "fresh-check: needs root (it removes and re-adds apt sources)" >&2; exit 1; }
if [ -n "${1:-}" ]; then work=$1; mkdir -p "$work"; else work=$(mktemp -d /var/tmp/tyn-fresh.XXXXXX); trap 'rm -rf "$work"' EXIT; fi

rm -f /etc/apt/sources.list.d/tyn-trixie.sources /etc/apt/preferences.d/tyn-trixie.pref
rm -rf "$work/clone" "$work/cache"
git clone -q "$repo" "$work/clone"
echo "fresh-check: clone of $(git -C "$repo" rev-parse --short HEAD) in $work/clone, TYN_CACHE=$work/cache (empty)" >&2
start=$SECONDS
cd "$work/clone"
if ! TYN_CACHE="$work/cache" ./scripts/demo.sh </dev/null >"$work/demo.log" 2>&1; then
    tail -n 30 "$work/demo.log" >&2
    echo "fresh-check: ./scripts/demo.sh failed after $((SECONDS - start)) s (log: $work/demo.log)" >&2
    exit 1
fi
grep -qF "$HELLO" "$work/demo.log" || { tail -n 30 "$work/demo.log" >&2; echo "fresh-check: no hello in the demo's output" >&2; exit 1; }
grep -E '^\[erts-build\] (source verified|ready in)|^tyn.run: accel' "$work/demo.log" >&2 || true
echo "fresh-check: ok: '$HELLO' from a fresh clone with an empty cache in $((SECONDS - start)) s" >&2
