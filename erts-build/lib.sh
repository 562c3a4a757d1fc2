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

# The trixie version of package $1, whatever its upstream version (for packages outside the
# erlang family, e.g. libjs-jquery); fails when trixie has none.
trixie_any_version() {
    local v
    v=$(apt-cache madison "$1" 2>/dev/null | awk -F'|' '
        { gsub(/ /, "", $2) } $3 ~ /trixie/ && $3 ~ /Packages/ { print $2; exit }')
    [ -n "$v" ] || return 1
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

# ---- Debian binary packages (fetch-beams.sh; the callers set DEBS) ----

# Download $1=$2 into $DEBS (once) and check it against the SHA-256 of apt's Packages
# index; prints the .deb's path.
download_verified() {
    local pkg=$1 ver=$2 deb want_sum
    deb="$DEBS/${pkg}_${ver//:/%3a}_amd64.deb"
    [ -e "$deb" ] || deb="$DEBS/${pkg}_${ver//:/%3a}_all.deb"
    if [ ! -e "$deb" ]; then
        (cd "$DEBS" && apt-get download -q "$pkg=$ver" >"$DEBS/$pkg.download.log" 2>&1) \
            || { tail -n 5 "$DEBS/$pkg.download.log" >&2; die "apt-get download $pkg=$ver failed"; }
        deb=$(ls "$DEBS/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1)
        [ -n "$deb" ] || die "apt-get download $pkg=$ver left no .deb"
    fi
    want_sum=$(apt-cache show "$pkg=$ver" | awk '/^SHA256:/ { print $2; exit }')
    [ -n "$want_sum" ] || die "apt has no SHA256 for $pkg=$ver"
    [ "$(sha256_of "$deb")" = "$want_sum" ] \
        || { rm -f "$deb"; die "${deb##*/}: SHA-256 does not match the Packages index (deleted)"; }
    echo "$deb"
}

# The packages $1=$2 depends on that may hold what its symlinks point to (first
# alternative of each Depends entry; not the erlang-* family, not libc6).
link_providers() {
    apt-cache show "$1=$2" | awk '/^Depends:/ { sub(/^Depends:[ \t]*/, ""); print; exit }' \
        | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/[[:space:]]//g' \
        | grep -Ev '^(erlang-|libc6$)' | grep -v '^$' || true
}

# Where a link inside an unpacked package points, as a path relative to the package root
# (empty when it points outside the root).
link_target_in_root() {
    local root=$1 link=$2 target path
    target=$(readlink "$link")
    case $target in
        /*) path=$(realpath -m "$root$target") ;;
        *)  path=$(realpath -m "$(dirname "$link")/$target") ;;
    esac
    case $path in "$root"/*) echo "${path#"$root"/}" ;; *) echo "" ;; esac
}

# Resolve rel (a path relative to an unpacked package root) through that package's own
# symlinks; prints the regular file's path, or nothing.
resolve_in_package() {
    local root=$1 rel=$2 hops=0
    while [ -L "$root/$rel" ] && [ $hops -lt 8 ]; do
        rel=$(link_target_in_root "$root" "$root/$rel")
        [ -n "$rel" ] || return 0
        hops=$((hops + 1))
    done
    [ -f "$root/$rel" ] && echo "$root/$rel"
    return 0
}

# Debian's packages make some files of an application's priv/ symlinks into other
# packages (common_test's jquery).  An image must carry what they point to: replace each
# such link in the unpacked tree $3 of $1=$2 by the file from the dependency providing it
# (downloaded and verified like the rest).  A link that nothing provides stops the build.
resolve_priv_links() {
    local pkg=$1 ver=$2 tmp=$3 link rel dep dver ddeb droot found providers
    providers=
    while IFS= read -r -d '' link; do
        rel=$(link_target_in_root "$tmp" "$link")
        [ -n "$rel" ] && [ -e "$tmp/$rel" ] && continue            # inside the package itself
        [ -z "$providers" ] && providers=$(link_providers "$pkg" "$ver")
        found=
        for dep in $providers; do
            dver=$(trixie_any_version "$dep") || continue
            droot="$DEBS/unpacked/${dep}_${dver//:/%3a}"
            if [ ! -e "$droot/.complete" ]; then
                ddeb=$(download_verified "$dep" "$dver")
                rm -rf "$droot"; mkdir -p "$droot"
                dpkg-deb -x "$ddeb" "$droot"
                touch "$droot/.complete"
            fi
            [ -n "$rel" ] && found=$(resolve_in_package "$droot" "$rel")
            if [ -n "$found" ]; then
                cp --remove-destination "$found" "$link"
                log "${link#"$tmp"/}: the symlink's target /$rel taken from $dep $dver"
                break
            fi
        done
        [ -n "$found" ] || die "$pkg $ver: ${link#"$tmp"/} is a dangling symlink to $(readlink "$link"), which none of its dependencies (${providers//$'\n'/ }) provides"
    done < <(find "$tmp/usr/lib/erlang/lib" -path '*/priv/*' -type l -print0 2>/dev/null)
}
