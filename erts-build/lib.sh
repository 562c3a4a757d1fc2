# Shared helpers for the erts-build scripts (sourced).

ERTS_BUILD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$ERTS_BUILD_DIR/config.sh"

TYN_CACHE=${TYN_CACHE:-$HOME/.cache/tyn}
OTP_CACHE="$TYN_CACHE/otp-$OTP_VERSION"

log() { echo "[erts-build] $*" >&2; }
die() { echo "erts-build: $*" >&2; exit 1; }

# step NAME LOGFILE CMD...: run CMD with its output in LOGFILE, showing the step name and
# elapsed time every 15 s; on failure print the log's tail and exit non-zero.
step() {
    local name=$1 logfile=$2; shift 2
    local start=$SECONDS pid rc
    log "$name ..."
    "$@" >"$logfile" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        for _ in $(seq 15); do
            sleep 1
            kill -0 "$pid" 2>/dev/null || break
        done
        kill -0 "$pid" 2>/dev/null && log "$name ... $((SECONDS - start)) s"
    done
    rc=0
    wait "$pid" || rc=$?
    if [ "$rc" != 0 ]; then
        echo "---- last lines of $logfile ----" >&2
        tail -n 40 "$logfile" >&2
        echo "----" >&2
        die "step '$name' failed (exit $rc) after $((SECONDS - start)) s; full log: $logfile"
    fi
    log "$name done in $((SECONDS - start)) s"
}

# The Debian version of a trixie package whose upstream part is $2 (e.g. erlang-base 27.3.4.1+dfsg).
trixie_version() {
    local pkg=$1 upstream=$2 v
    v=$(apt-cache madison "$pkg" 2>/dev/null | awk -F'|' -v up="$upstream" '
        { gsub(/ /, "", $2) }
        $3 ~ /trixie/ && index($2, up "-") { print $2; exit }')
    [ -n "$v" ] || v=$(apt-cache madison "$pkg" 2>/dev/null | awk -F'|' -v up="$upstream" '
        { gsub(/ /, "", $2) } index($2, up "-") { print $2; exit }')
    [ -n "$v" ] || die "no $pkg with upstream version $upstream in apt's index (is the trixie source there?)"
    echo "$v"
}

# The source-package version: same as the binary one for the erlang source.
trixie_source_version() {
    local src=$1 upstream=$2 v
    v=$(apt-cache showsrc "$src" 2>/dev/null | awk -v up="$upstream" '
        /^Version:/ && index($2, up "-") { print $2; exit }')
    [ -n "$v" ] || die "no source package $src with upstream version $upstream in apt's index"
    echo "$v"
}

# Reading `apt-cache showsrc SOURCE` on stdin: the SHA-256 the signed Sources index lists
# for file $1 (the first source version that lists it), or nothing.
index_sha256() {
    awk -v name="$1" '
        /^Checksums-Sha256:/ { on = 1; next }
        /^[^ ]/ { on = 0 }
        on && NF == 3 && $3 == name { print $1; exit }'
}

# Reading `apt-cache showsrc SOURCE` on stdin: every source version whose file list has $1.
index_versions_listing() {
    awk -v name="$1" '
        /^Package:/ { ver = "" }
        /^Version:/ { ver = $2 }
        /^Checksums-Sha256:/ { on = 1; next }
        /^[^ ]/ { on = 0 }
        on && NF == 3 && $3 == name && ver != "" { print ver; ver = "" }'
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
