# Sourced by the erts-build scripts: the one place that says which OTP is built and how.
# Changing anything here changes the cache key (see erts_key in build-erts.sh).

OTP_VERSION=27.3.4.1           # upstream OTP release, as in the tree's OTP_VERSION file
ERTS_VERSION=15.2.7            # erts-<vsn> of that release
DEB_SOURCE=erlang              # Debian source package holding the unmodified OTP tree
DEB_UPSTREAM=27.3.4.1+dfsg     # upstream part of its Debian version
# The one source file the build uses: the upstream tarball, identified by name and SHA-256.
# Debian revisions (+deb13uN) come and go around it; they change neither the build nor the
# cache key.  The SHA-256 must also be what apt's signed Sources index lists for the file.
ORIG_TARBALL=${DEB_SOURCE}_${DEB_UPSTREAM}.orig.tar.xz
ORIG_SHA256=0834643ef1e17886d5e334a39527d8429bcf50613b86d59d4757466f32984b7e
ELIXIR_DEB_UPSTREAM=1.18.3.dfsg
ELIXIR_VERSION=1.18.3
TARGET_TRIPLE=x86_64-pc-linux-musl

# Bump when the build procedure changes in a way that changes the binaries.
BUILD_SCRIPT_VERSION=4

# The terminal library the shell's line editing needs (prim_tty: tgetent/tgetstr, and
# tty_init, which ERTS compiles only with termcap).  Static, for musl, from Debian
# trixie's upstream tarball; no terminfo database in the image: the descriptions of the
# terminals below are compiled into the library (--with-fallbacks, from the build
# machine's ncurses-base).  A TERM outside this list gets prim_tty's fallback: the
# line-at-a-time "oldshell".
NCURSES_DEB_SOURCE=ncurses
NCURSES_DEB_UPSTREAM=6.5+20250216
NCURSES_ORIG_TARBALL=${NCURSES_DEB_SOURCE}_${NCURSES_DEB_UPSTREAM}.orig.tar.gz
NCURSES_ORIG_SHA256=b37baafa436e7133bb12a185cb8f60e1599b1947e9f0181c76f3190acf28b6eb
NCURSES_FALLBACKS=xterm-256color,xterm,xterm-color,vt100,vt102,vt220,linux,screen,screen-256color,tmux,tmux-256color,rxvt-unicode,rxvt-unicode-256color,ansi,dumb
NCURSES_CONFIGURE_FLAGS=(
    --without-shared --with-normal --without-debug --without-cxx --without-cxx-binding
    --without-ada --without-progs --without-tests --without-manpages --without-gpm
    --disable-database --with-fallbacks=$NCURSES_FALLBACKS --with-termlib --enable-termcap
    --disable-widec
)

# Static musl, interpreter only.  TYN_ERTS_JIT=1 builds BeamAsm instead: that is the
# only difference between the two flavours.
if [ "${TYN_ERTS_JIT:-0}" = 1 ]; then
    ERTS_EMU_FLAVOR=jit
else
    ERTS_EMU_FLAVOR=emu
fi
CONFIGURE_ENV=(CC=musl-gcc LDFLAGS=-static)
CONFIGURE_FLAGS=(
    "$( [ "$ERTS_EMU_FLAVOR" = jit ] && echo --enable-jit || echo --disable-jit )"
    --with-termcap
    --without-ssl
    --without-javac
    --without-odbc
    --without-wx
    --enable-builtin-zlib
)
