#!/bin/bash
# Fetch Debian trixie's busybox-static (a statically linked busybox) for images built with
# `tyn.build image --busybox`, verified like the other packages (download_verified: the
# SHA-256 of apt's Packages index, itself covered by the signed InRelease).
#
#   erts-build/fetch-busybox.sh
#
# Prints the path of the unpacked busybox binary ($TYN_CACHE/busybox-<version>/busybox).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKG=busybox-static
ver=$(trixie_any_version "$PKG") || die "no $PKG in apt's trixie index (run erts-build/apt-trixie.sh)"
OUT="$TYN_CACHE/busybox-${ver//:/%3a}"
DEBS="$TYN_CACHE/debs"
mkdir -p "$DEBS"
exec 8>"$TYN_CACHE/.busybox.lock"
flock 8
if [ ! -x "$OUT/busybox" ]; then
    deb=$(download_verified "$PKG" "$ver")
    tmp=$(mktemp -d "$TYN_CACHE/unpack.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp"
    bin="$tmp/usr/bin/busybox"
    [ -x "$bin" ] || bin="$tmp/bin/busybox"
    [ -x "$bin" ] || die "${deb##*/} has no busybox binary"
    mkdir -p "$OUT"
    cp "$bin" "$OUT/busybox.part"
    mv "$OUT/busybox.part" "$OUT/busybox"
    log "busybox from $PKG $ver (sha256 verified)"
fi
echo "$OUT/busybox"
