# /etc/resolv.conf follows the network's resolver configuration (DHCP's or the command
# line's DNS servers and domain), as a DHCP client rewrites it on Linux: the image's own
# lines, then `nameserver` lines for the current servers and a `search` line for the
# domain.  ERTS's inet_res reads it (and re-reads it when its size or mtime changes), so
# DNS works without the native inet_gethost port program.
#
# Ownership: the node's data pointer, size and times change only in resolvconf_update,
# which runs under net_lock (the resolver hook); a reader copying from the previous
# contents keeps a valid buffer because replaced contents are never freed (one small
# buffer per change of the DNS configuration).

cdef enum:
    RESOLVCONF_MAX = 4096           # the generated file's size limit

# After the root filesystem and net_init: remember the image's /etc/resolv.conf (if it has
# one) and follow the resolver from now on.
cdef extern void resolvconf_init() noexcept nogil
# Rebuild the file from the image's lines and the current resolver (net_lock held).
cdef extern void resolvconf_update() noexcept nogil
