# /etc/resolv.conf from the network's resolver configuration (see resolvconf.pxd).
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from libc.string cimport memcpy
from tyn.mm.heap cimport kmalloc
from tyn.lib.kprint cimport format_udec, kstrlen
from tyn.fs.fsnode cimport fs_node, FS_CPIO
from tyn.fs.vfs cimport vfs_root, vfs_walk, vfs_lookup, VFS_FOLLOW
from tyn.time.walltime cimport walltime_timespec
from tyn.net.netconfig cimport (netconfig_dns_count, netconfig_dns, netconfig_domain,
                                netconfig_set_resolver_hook)

cdef fs_node *node                  # the image's /etc/resolv.conf, or NULL
cdef const uint8_t *image_data      # its contents as the image had them
cdef uint64_t image_size


cdef uint64_t put(uint8_t *out, uint64_t at, const char *s, uint64_t n) noexcept nogil:
    if at + n <= RESOLVCONF_MAX:
        memcpy(out + at, s, n)
        return at + n
    return at


cdef uint64_t put_ip(uint8_t *out, uint64_t at, uint32_t a) noexcept nogil:
    cdef char digits[24]
    cdef int shift = 24
    cdef uint64_t n
    while shift >= 0:
        n = format_udec(digits, (a >> shift) & 0xff)
        at = put(out, at, digits, n)
        if shift:
            at = put(out, at, b".", 1)
        shift -= 8
    return at


cdef void resolvconf_update() noexcept nogil:
    cdef uint8_t *buf
    cdef uint64_t at
    cdef uint32_t i
    cdef const char *domain
    cdef int64_t sec
    cdef uint32_t nsec
    if node == NULL:
        return
    buf = <uint8_t *>kmalloc(RESOLVCONF_MAX)
    if buf == NULL:
        return                          # the file keeps its previous contents
    at = put(buf, 0, <const char *>image_data, image_size)
    if at > 0 and buf[at - 1] != b'\n':
        at = put(buf, at, b"\n", 1)
    for i in range(netconfig_dns_count()):
        at = put(buf, at, b"nameserver ", 11)
        at = put_ip(buf, at, netconfig_dns(i))
        at = put(buf, at, b"\n", 1)
    domain = netconfig_domain()
    if domain[0] != 0:
        at = put(buf, at, b"search ", 7)
        at = put(buf, at, domain, kstrlen(domain))
        at = put(buf, at, b"\n", 1)
    walltime_timespec(&sec, &nsec)
    node.data = buf
    node.size = at
    node.mtime_sec = sec
    node.mtime_nsec = nsec
    node.ctime_sec = sec
    node.ctime_nsec = nsec


cdef void resolvconf_init() noexcept nogil:
    global node, image_data, image_size
    cdef vfs_lookup res
    node = NULL
    if vfs_walk(vfs_root(), b"/etc/resolv.conf", 16, VFS_FOLLOW, &res) != 0 or res.node == NULL \
            or res.node.fs != FS_CPIO:
        return
    node = res.node
    image_data = node.data
    image_size = node.size
    netconfig_set_resolver_hook(resolvconf_update)
    resolvconf_update()
