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

fetch_one() {
    local pkg=$1 ver deb want_sum tmp
    if [ "$pkg" = elixir ]; then ver=$(trixie_version elixir "$ELIXIR_DEB_UPSTREAM")
    else ver=$(trixie_version "$pkg" "$DEB_UPSTREAM"); fi
    [ -e "$BEAMS/.pkgs/$pkg" ] && [ "$(cat "$BEAMS/.pkgs/$pkg")" = "$ver" ] && return 0
    deb="$DEBS/${pkg}_${ver//:/%3a}_amd64.deb"
    if [ ! -e "$deb" ]; then
        (cd "$DEBS" && apt-get download -q "$pkg=$ver" >"$DEBS/$pkg.download.log" 2>&1) \
            || { tail -n 5 "$DEBS/$pkg.download.log" >&2; die "apt-get download $pkg=$ver failed"; }
    fi
    want_sum=$(apt-cache show "$pkg=$ver" | awk '/^SHA256:/ { print $2; exit }')
    [ -n "$want_sum" ] || die "apt has no SHA256 for $pkg=$ver"
    [ "$(sha256_of "$deb")" = "$want_sum" ] \
        || { rm -f "$deb"; die "${deb##*/}: SHA-256 does not match the Packages index (deleted)"; }
    tmp=$(mktemp -d "$OTP_CACHE/unpack.XXXXXX")
    dpkg-deb -x "$deb" "$tmp"
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
    echo "$ver" >"$BEAMS/.pkgs/$pkg"
    log "beams from $pkg $ver (sha256 verified)"
}

exec 8>"$OTP_CACHE/.beams.lock"
flock 8
for pkg in "${want[@]}"; do fetch_one "$pkg"; done
[ -e "$BEAMS/otp/bin/start_clean.boot" ] || die "erlang-base gave no bin/start_clean.boot"
touch "$BEAMS/.complete"
echo "$BEAMS"
