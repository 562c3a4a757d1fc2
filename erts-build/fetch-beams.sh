#!/bin/bash
# Fetch Debian trixie binary packages of OTP $OTP_VERSION / Elixir and keep their .beam
# content (ebin, priv, boot scripts, releases/) in $TYN_CACHE/otp-<vsn>/beams/.
#
#   erts-build/fetch-beams.sh [DEBIAN_PACKAGE...]
#
# Always ensures erlang-base, erlang-inets and elixir; extra packages (erlang-mnesia, ...)
# are added on request.  Each .deb is checked against the SHA-256 of apt's Packages index
# (apt-get download checks it too; the index is covered by the signed InRelease).
# Prints the beams directory.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BEAMS="$OTP_CACHE/beams"
DEBS="$OTP_CACHE/debs"
mkdir -p "$BEAMS/otp" "$BEAMS/elixir/lib" "$BEAMS/.pkgs" "$DEBS"

want=(erlang-base erlang-inets elixir "$@")
UNPACK_FORMAT=priv-links-resolved

fetch_one() {
    local pkg=$1 ver deb tmp
    if [ "$pkg" = elixir ]; then ver=$(trixie_version elixir "$ELIXIR_DEB_UPSTREAM")
    else ver=$(trixie_version "$pkg" "$DEB_UPSTREAM"); fi
    # "<version> <how it was unpacked>": a cache filled before priv/ links were resolved refetches.
    [ -e "$BEAMS/.pkgs/$pkg" ] && [ "$(cat "$BEAMS/.pkgs/$pkg")" = "$ver $UNPACK_FORMAT" ] && return 0
    deb=$(download_verified "$pkg" "$ver")
    tmp=$(mktemp -d "$OTP_CACHE/unpack.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp"
    resolve_priv_links "$pkg" "$ver" "$tmp"
    if [ -d "$tmp/usr/lib/erlang" ]; then
        local e="$tmp/usr/lib/erlang" app
        for app in "$e"/lib/*/; do
            app=${app%/}
            mkdir -p "$BEAMS/otp/lib/${app##*/}"
            for sub in ebin priv; do
                [ -d "$app/$sub" ] && cp -a "$app/$sub" "$BEAMS/otp/lib/${app##*/}/"
            done
        done
        if [ -d "$e/bin" ]; then
            mkdir -p "$BEAMS/otp/bin"
            find "$e/bin" -maxdepth 1 -name '*.boot' -exec cp -a {} "$BEAMS/otp/bin/" \;
        fi
        [ -d "$e/releases" ] && cp -a "$e/releases" "$BEAMS/otp/"
    fi
    if [ -d "$tmp/usr/lib/elixir/lib" ]; then
        local app
        for app in "$tmp"/usr/lib/elixir/lib/*/; do
            app=${app%/}
            mkdir -p "$BEAMS/elixir/lib/${app##*/}"
            [ -d "$app/ebin" ] && cp -a "$app/ebin" "$BEAMS/elixir/lib/${app##*/}/"
        done
        echo "$ELIXIR_VERSION" >"$BEAMS/elixir/VERSION"
    fi
    rm -rf "$tmp"
    trap - EXIT
    echo "$ver $UNPACK_FORMAT" >"$BEAMS/.pkgs/$pkg"
    log "beams from $pkg $ver (sha256 verified)"
}

exec 8>"$OTP_CACHE/.beams.lock"
flock 8
for pkg in "${want[@]}"; do fetch_one "$pkg"; done
[ -e "$BEAMS/otp/bin/start_clean.boot" ] || die "erlang-base gave no bin/start_clean.boot"
touch "$BEAMS/.complete"
echo "$BEAMS"
