#!/bin/bash
# Build (or reuse) a static-musl beam.smp + erl_child_setup from Debian trixie's
# unmodified OTP source tarball, and the version-matched .beam trees.
#
#   erts-build/build-erts.sh          prints the ERTS cache directory on stdout
#   erts-build/build-erts.sh --print-key   prints only the cache key of the current flags
#   TYN_ERTS_JIT=1 ...                BeamAsm flavour instead of the interpreter
#   TYN_CACHE=DIR ...                 cache root (default ~/.cache/tyn)
#   TYN_ERTS_KEEP_BUILD=1 ...         keep the unpacked build tree
#
# Result: $TYN_CACHE/otp-<vsn>/erts-<flavor>-<hash>/ with bin/beam.smp, bin/erl_child_setup
# (both stripped), debug/beam.smp (unstripped), MANIFEST, logs/, and symlinks otp -> ../beams/otp,
# elixir -> ../beams/elixir.  No source patches: only configure flags.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

erts_key() {
    local h
    h=$( { echo "otp=$OTP_VERSION"; echo "orig=$ORIG_TARBALL $ORIG_SHA256"; echo "script=$BUILD_SCRIPT_VERSION";
           echo "ncurses=$NCURSES_ORIG_TARBALL $NCURSES_ORIG_SHA256"; printf 'ncurses_flag=%s\n' "${NCURSES_CONFIGURE_FLAGS[@]}";
           printf 'env=%s\n' "${CONFIGURE_ENV[@]}"; printf 'flag=%s\n' "${CONFIGURE_FLAGS[@]}"; } \
         | sha256sum | cut -c1-12)
    echo "$ERTS_EMU_FLAVOR-$h"
}

KEY=$(erts_key)
OUT="$OTP_CACHE/erts-$KEY"
if [ "${1:-}" = --print-key ]; then echo "$KEY"; exit 0; fi

mkdir -p "$OTP_CACHE"
exec 9>"$OTP_CACHE/.lock"
flock 9

if [ -e "$OUT/MANIFEST" ] && [ -x "$OUT/bin/beam.smp" ] && [ -e "$OTP_CACHE/beams/.complete" ]; then
    log "cache hit: $OUT"
    echo "$OUT"
    exit 0
fi
T0=$SECONDS
log "cache miss for OTP $OTP_VERSION ($KEY): building"

# ---- tools ----
missing=()
for tool in musl-gcc make perl xz gcc apt-get dpkg-deb flock strip readelf; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} != 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing tools: ${missing[*]} (install musl-tools make perl xz-utils binutils)"
    step "apt-get install build tools" "$OTP_CACHE/apt-install.log" \
        apt-get install -y -q --no-install-recommends musl-tools make perl xz-utils gcc binutils dpkg-dev
fi

"$ERTS_BUILD_DIR/apt-trixie.sh"

if [ ! -e "$OUT/MANIFEST" ]; then
    # ---- sources: upstream tarballs alone, checked against apt's signed Sources index ----
    # (The .dsc and Debian's patches are not used: a mirror may not serve a revision's .dsc.)
    SRC="$OTP_CACHE/src"
    mkdir -p "$SRC"
    # fetch_verified SOURCE-PACKAGE TARBALL SHA256: the tarball into $SRC, hash-checked.
    fetch_verified() {
        local pkg=$1 tarball=$2 want=$3 showsrc index_sum uri ver file="$SRC/$2"
        showsrc=$(apt-cache showsrc "$pkg" 2>/dev/null || true)
        index_sum=$(index_sha256 "$tarball" <<<"$showsrc")
        [ -n "$index_sum" ] \
            || die "$tarball: apt's signed Sources index has no SHA-256 for it (no $pkg source version lists it); check the trixie deb-src source and run apt-get update"
        [ "$index_sum" = "$want" ] \
            || die "$tarball: apt's Sources index lists SHA-256 $index_sum, config.sh expects $want; refusing a changed upstream tarball"
        if [ ! -e "$file" ]; then
            uri=
            for ver in $(index_versions_listing "$tarball" <<<"$showsrc"); do
                uri=$(apt-get source -qq --print-uris "$pkg=$ver" 2>/dev/null \
                      | awk -v name="$tarball" '$2 == name { gsub("\047", "", $1); print $1; exit }')
                [ -n "$uri" ] && break
            done
            [ -n "$uri" ] || die "$tarball: apt-get source --print-uris gives no address for it"
            # apt's own downloader (same transport and proxies as apt), hash-checked as it lands;
            # a partial file never takes the final name.
            fetch_one() {
                rm -f "$file.part" "$file.part.FAILED"
                /usr/lib/apt/apt-helper download-file "$uri" "$file.part" "SHA256:$want" \
                    || { local rc=$?; rm -f "$file.part" "$file.part.FAILED"; return $rc; }
            }
            step "download $tarball" "$SRC/download-$pkg.log" fetch_one
            mv "$file.part" "$file"
        fi
        [ "$(sha256_of "$file")" = "$want" ] \
            || { rm -f "$file"; die "$tarball: SHA-256 does not match apt's Sources index (deleted; rerun to fetch again)"; }
        log "source verified: $tarball sha256 $want (apt's signed Sources index)"
    }
    ORIG="$SRC/$ORIG_TARBALL"
    fetch_verified "$DEB_SOURCE" "$ORIG_TARBALL" "$ORIG_SHA256"
    NCURSES_ORIG="$SRC/$NCURSES_ORIG_TARBALL"
    fetch_verified "$NCURSES_DEB_SOURCE" "$NCURSES_ORIG_TARBALL" "$NCURSES_ORIG_SHA256"

    # ---- unpack the unmodified upstream tree (the Debian patches are not applied) ----
    # A fixed build path: the compiler's command line (with -I paths) is embedded in beam.smp,
    # so building at a path that depends on the cache root would not be reproducible.
    BUILD="/var/tmp/tyn-erts-build-$OTP_VERSION-$KEY"
    exec 7>"$BUILD.lock"
    flock 7
    rm -rf "$BUILD" "$OUT.tmp"
    mkdir -p "$BUILD" "$OUT.tmp/logs"
    step "unpack ${ORIG##*/}" "$OUT.tmp/logs/unpack.log" tar -C "$BUILD" --strip-components=1 -xf "$ORIG"
    [ "$(cat "$BUILD/OTP_VERSION")" = "$OTP_VERSION" ] \
        || die "tarball holds OTP $(cat "$BUILD/OTP_VERSION"), expected $OTP_VERSION"

    # ---- the terminal library: static musl ncurses (libtinfo) with compiled-in terminals ----
    command -v tic >/dev/null && command -v infocmp >/dev/null \
        || die "tic/infocmp missing (install ncurses-bin): they compile the fallback terminals"
    NCURSES_BUILD="$BUILD/.ncurses-build"
    NCURSES_PREFIX="$BUILD/.ncurses"
    mkdir -p "$NCURSES_BUILD"
    step "unpack ${NCURSES_ORIG##*/}" "$OUT.tmp/logs/ncurses-unpack.log" \
        tar -C "$NCURSES_BUILD" --strip-components=1 -xf "$NCURSES_ORIG"
    build_ncurses() {
        cd "$NCURSES_BUILD" \
            && env CC=musl-gcc CFLAGS=-O2 ./configure --prefix="$NCURSES_PREFIX" "${NCURSES_CONFIGURE_FLAGS[@]}" \
            && make libs && make install.libs install.includes
    }
    step "ncurses (${NCURSES_CONFIGURE_FLAGS[*]})" "$OUT.tmp/logs/ncurses.log" build_ncurses
    [ -e "$NCURSES_PREFIX/lib/libtinfo.a" ] || die "ncurses build left no libtinfo.a"

    cd "$BUILD"
    export ERL_TOP="$BUILD" MAKEFLAGS="-j$(nproc)"
    step "configure (${CONFIGURE_FLAGS[*]})" "$OUT.tmp/logs/configure.log" \
        env "${CONFIGURE_ENV[@]}" CPPFLAGS="-I$NCURSES_PREFIX/include/ncurses -I$NCURSES_PREFIX/include" \
            LDFLAGS="-static -L$NCURSES_PREFIX/lib" ./configure "${CONFIGURE_FLAGS[@]}"
    grep -q '^#define HAVE_TERMCAP 1' erts/$TARGET_TRIPLE/config.h \
        || die "configure found no termcap library (see $OUT.tmp/logs/configure.log)"

    # `make emulator` goes on to erl_interface's erl_call, which may fail under musl; the
    # emulator is built by then, so judge by the artifacts, not by make's status alone.
    make_emulator() { local rc=0; make emulator || rc=$?; echo "make emulator exited $rc"; }
    step "make emulator" "$OUT.tmp/logs/make.log" make_emulator
    BIN="$BUILD/bin/$TARGET_TRIPLE"
    for f in beam.smp erl_child_setup; do
        if [ ! -x "$BIN/$f" ]; then
            echo "---- last lines of $OUT.tmp/logs/make.log ----" >&2
            tail -n 40 "$OUT.tmp/logs/make.log" >&2
            die "make emulator did not produce $BIN/$f"
        fi
        if readelf -l "$BIN/$f" | grep -q INTERP; then die "$f is dynamically linked"; fi
    done

    # ---- install into the cache ----
    mkdir -p "$OUT.tmp/bin" "$OUT.tmp/debug"
    cp "$BIN/beam.smp" "$OUT.tmp/debug/beam.smp"
    strip -o "$OUT.tmp/bin/beam.smp" "$BIN/beam.smp"
    strip -o "$OUT.tmp/bin/erl_child_setup" "$BIN/erl_child_setup"
    {
        echo "otp_version=$OTP_VERSION"
        echo "erts_version=$ERTS_VERSION"
        echo "key=$KEY"
        echo "flavor=$ERTS_EMU_FLAVOR"
        echo "source=$ORIG_TARBALL (upstream tarball, no patches)"
        echo "orig_sha256=$(sha256_of "$ORIG")"
        echo "configure_env=${CONFIGURE_ENV[*]}"
        echo "configure_flags=${CONFIGURE_FLAGS[*]}"
        echo "ncurses=$NCURSES_ORIG_TARBALL sha256 $NCURSES_ORIG_SHA256 (static libtinfo; terminals: $NCURSES_FALLBACKS)"
        echo "musl=$(dpkg-query -W -f='${Version}' musl-tools 2>/dev/null || echo unknown)"
        echo "beam.smp_sha256=$(sha256_of "$OUT.tmp/bin/beam.smp")"
        echo "erl_child_setup_sha256=$(sha256_of "$OUT.tmp/bin/erl_child_setup")"
        echo "build_seconds=$((SECONDS - T0))"
    } >"$OUT.tmp/MANIFEST"
    cd "$OTP_CACHE"
    [ "${TYN_ERTS_KEEP_BUILD:-0}" = 1 ] || rm -rf "$BUILD"
    exec 7>&-
    rm -rf "$OUT"
    mv "$OUT.tmp" "$OUT"
fi

# ---- the version-matched .beam trees (after the build: a bad source fails first) ----
"$ERTS_BUILD_DIR/fetch-beams.sh" >/dev/null

ln -sfn ../beams/otp "$OUT/otp"
ln -sfn ../beams/elixir "$OUT/elixir"
log "ready in $((SECONDS - T0)) s: $OUT"
echo "$OUT"
