#!/bin/bash
# Build (or reuse) OTP's own epmd, static musl, from the same verified, unmodified upstream
# tarball as build-erts.sh.  A step of its own, so adding it changed no ERTS cache key: the
# existing erts-{emu,jit}-KEY builds stay valid.  epmd does not depend on the emulator
# flavour (JIT or not), so one build serves both.
#
#   erts-build/build-epmd.sh              prints the epmd cache directory on stdout
#   TYN_CACHE=DIR ...                     cache root (default ~/.cache/tyn)
#
# Result: $TYN_CACHE/otp-<vsn>/epmd-<hash>/ with bin/epmd (stripped), MANIFEST, logs/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when this procedure changes in a way that changes the binary.
EPMD_SCRIPT_VERSION=1
# Only the tools the build of epmd needs: no terminal library (ERTS's --with-termcap
# is for the shell's line editing in beam.smp).
EPMD_CONFIGURE_FLAGS=(--disable-jit --without-termcap --without-ssl --without-javac --without-odbc
                      --without-wx --enable-builtin-zlib)

KEY=$( { echo "otp=$OTP_VERSION"; echo "orig=$ORIG_TARBALL $ORIG_SHA256"; echo "script=$EPMD_SCRIPT_VERSION";
         printf 'env=%s\n' "${CONFIGURE_ENV[@]}"; printf 'flag=%s\n' "${EPMD_CONFIGURE_FLAGS[@]}"; } \
       | sha256sum | cut -c1-12)
OUT="$OTP_CACHE/epmd-$KEY"

if [ -e "$OUT/MANIFEST" ] && [ -x "$OUT/bin/epmd" ]; then
    log "cache hit: $OUT"
    echo "$OUT"
    exit 0
fi

# The source tarball: build-erts.sh fetches it and checks it against apt's signed Sources
# index (a cache hit there costs nothing).
"$ERTS_BUILD_DIR/build-erts.sh" >/dev/null
ORIG="$OTP_CACHE/src/$ORIG_TARBALL"
[ -e "$ORIG" ] || die "$ORIG missing after build-erts.sh"
[ "$(sha256_of "$ORIG")" = "$ORIG_SHA256" ] || die "$ORIG: SHA-256 differs from config.sh's ORIG_SHA256"

exec 9>"$OTP_CACHE/.epmd.lock"
flock 9
if [ -e "$OUT/MANIFEST" ] && [ -x "$OUT/bin/epmd" ]; then echo "$OUT"; exit 0; fi
T0=$SECONDS
log "cache miss for epmd ($KEY): building"
BUILD="/var/tmp/tyn-epmd-build-$OTP_VERSION-$KEY"
rm -rf "$BUILD" "$OUT.tmp"
mkdir -p "$BUILD" "$OUT.tmp/logs" "$OUT.tmp/bin"
step "unpack ${ORIG##*/}" "$OUT.tmp/logs/unpack.log" tar -C "$BUILD" --strip-components=1 -xf "$ORIG"
cd "$BUILD"
export ERL_TOP="$BUILD" MAKEFLAGS="-j$(nproc)"
step "configure (${EPMD_CONFIGURE_FLAGS[*]})" "$OUT.tmp/logs/configure.log" \
    env "${CONFIGURE_ENV[@]}" ./configure "${EPMD_CONFIGURE_FLAGS[@]}"
# epmd links against ERTS's internal library (erts/lib_src), nothing else.  Made in those
# two directories alone, so the target and the output directories erts/Makefile would set
# up are given here.
mkdir -p "erts/obj/$TARGET_TRIPLE" "bin/$TARGET_TRIPLE"
step "make erts/lib_src" "$OUT.tmp/logs/lib_src.log" make -C erts/lib_src TARGET="$TARGET_TRIPLE"
step "make erts/epmd" "$OUT.tmp/logs/epmd.log" make -C erts/epmd/src TARGET="$TARGET_TRIPLE"
EPMD="$BUILD/bin/$TARGET_TRIPLE/epmd"
[ -x "$EPMD" ] || die "make left no $EPMD (see $OUT.tmp/logs/epmd.log)"
if readelf -l "$EPMD" | grep -q INTERP; then die "epmd is dynamically linked"; fi
strip -o "$OUT.tmp/bin/epmd" "$EPMD"
{
    echo "otp_version=$OTP_VERSION"
    echo "key=$KEY"
    echo "source=$ORIG_TARBALL (upstream tarball, no patches)"
    echo "orig_sha256=$ORIG_SHA256"
    echo "configure_env=${CONFIGURE_ENV[*]}"
    echo "configure_flags=${EPMD_CONFIGURE_FLAGS[*]}"
    echo "musl=$(dpkg-query -W -f='${Version}' musl-tools 2>/dev/null || echo unknown)"
    echo "epmd_sha256=$(sha256_of "$OUT.tmp/bin/epmd")"
    echo "build_seconds=$((SECONDS - T0))"
} >"$OUT.tmp/MANIFEST"
cd "$OTP_CACHE"
rm -rf "$BUILD" "$OUT"
mv "$OUT.tmp" "$OUT"
log "ready in $((SECONDS - T0)) s: $OUT"
echo "$OUT"
