#!/bin/bash
# Make Debian trixie's packages and sources known to apt, without letting them
# replace anything installed: a deb822 source (deb + deb-src) added only when no
# trixie source exists, and a pin at priority 1 (never installed unless asked by
# exact version/release).  The mirror URI and keyring are taken from the
# machine's own bookworm source, never written here.  Idempotent; needs root.
set -euo pipefail

SOURCES_FILE=/etc/apt/sources.list.d/tyn-trixie.sources
PIN_FILE=/etc/apt/preferences.d/tyn-trixie.pref

die() { echo "apt-trixie: $*" >&2; exit 1; }

have_trixie_source() {
    # deb822 files: a stanza whose Suites names trixie; one-line files: "deb[-src] URI trixie".
    grep -Eqs '^[[:space:]]*Suites:.*(^|[[:space:]])trixie([[:space:]]|$)' /etc/apt/sources.list.d/*.sources \
        && grep -Eqs '^[[:space:]]*Types:.*deb-src' /etc/apt/sources.list.d/*.sources && return 0
    grep -Eqs '^[[:space:]]*deb-src[[:space:]].*[[:space:]]trixie[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}

# Prints "URI KEYRING" of the main bookworm archive the machine already uses.
bookworm_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        awk '
            BEGIN { RS=""; FS="\n" }
            {
                uri=""; suites=""; key=""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)      { uri=$i;    sub(/^URIs:[ \t]*/, "", uri); sub(/[ \t].*/, "", uri) }
                    if ($i ~ /^Suites:/)    { suites=" " $i " " }
                    if ($i ~ /^Signed-By:/) { key=$i;    sub(/^Signed-By:[ \t]*/, "", key) }
                }
                if (suites ~ /[ \t]bookworm[ \t]/ && uri != "") { print uri, key; exit }
            }' "$f"
    done | head -n1
    if [ -e /etc/apt/sources.list ]; then
        awk '$1 == "deb" && $3 == "bookworm" { print $2, ""; exit }' /etc/apt/sources.list
    fi
}

[ "$(id -u)" = 0 ] || die "must run as root to add the trixie apt source"

changed=0
if ! have_trixie_source; then
    read -r uri key < <(bookworm_mirror | head -n1) || true
    [ -n "${uri:-}" ] || die "no bookworm source found in /etc/apt to derive the trixie mirror from"
    key=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
    tmp=$(mktemp "$SOURCES_FILE.XXXXXX")
    {
        echo "# Added by tyn erts-build/apt-trixie.sh: OTP 27 source and .beam packages."
        echo "Types: deb deb-src"
        echo "URIs: $uri"
        echo "Suites: trixie"
        echo "Components: main"
        echo "Signed-By: $key"
    } >"$tmp"
    chmod 644 "$tmp"
    mv "$tmp" "$SOURCES_FILE"
    changed=1
fi
if [ ! -e "$PIN_FILE" ]; then
    tmp=$(mktemp "$PIN_FILE.XXXXXX")
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 1\n' >"$tmp"
    chmod 644 "$tmp"
    mv "$tmp" "$PIN_FILE"
    changed=1
fi
# Update when we changed something or the trixie source index was never fetched.
if [ "$changed" = 1 ] || ! ls /var/lib/apt/lists/*_dists_trixie_main_source_Sources* >/dev/null 2>&1; then
    apt-get update -qq -o Dpkg::Use-Pty=0 >&2 || die "apt-get update failed"
fi
