# newc cpio -> read-only fs_node tree, parsed in place with strict validation.
#
# Checks (the same as tyn.build.cpio's reader, except that parents may be missing or come
# later: implicit directories are created): magic, hex fields, every length against the
# archive size, NUL-terminated names without embedded NULs, zero padding, normalised
# relative names ("./" prefixes stripped, no "." / ".." / empty components), no duplicates,
# only directories / regular files / symlinks, a trailer followed only by zeros.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.fs.fsnode cimport *
from tyn.mm.heap cimport kfree
from tyn.arch.cpu cimport memcmp
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.sys.errno cimport EINVAL, ENOMEM

cdef const char *last_error
cdef uint64_t last_error_offset
cdef uint64_t next_ino

cdef const char *cpiofs_last_error() noexcept nogil:
    if last_error == NULL:
        return b""
    return last_error

cdef uint64_t cpiofs_last_error_offset() noexcept nogil:
    return last_error_offset

cdef int64_t fail(const char *msg, uint64_t off) noexcept nogil:
    global last_error, last_error_offset
    last_error = msg
    last_error_offset = off
    kputs(b"tyn: cpiofs: ")
    kputs(msg)
    kputs(b" at offset ")
    kput_udec(off)
    kputs(b"\n")
    return -EINVAL

cdef inline uint64_t align4(uint64_t v) noexcept nogil:
    return (v + 3) & ~(<uint64_t>3)

cdef bint parse_hex8(const uint8_t *p, uint64_t *out) noexcept nogil:
    cdef uint64_t v = 0
    cdef int i
    cdef uint8_t c
    for i in range(8):
        c = p[i]
        if c >= 48 and c <= 57:
            v = (v << 4) | (c - 48)
        elif c >= 97 and c <= 102:
            v = (v << 4) | (c - 87)
        elif c >= 65 and c <= 70:
            v = (v << 4) | (c - 55)
        else:
            return False
    out[0] = v
    return True

cdef bint all_zero(const uint8_t *p, uint64_t n) noexcept nogil:
    cdef uint64_t i
    for i in range(n):
        if p[i] != 0:
            return False
    return True

cdef fs_node *new_node(uint32_t mode, const char *name, uint32_t len, int64_t mtime) noexcept nogil:
    global next_ino
    cdef fs_node *n = fsnode_alloc()
    if n == NULL:
        return NULL
    n.mode = mode
    n.name = name
    n.namelen = len
    n.fs = FS_CPIO
    n.ino = next_ino
    next_ino += 1
    n.nlink = 2 if (mode & S_IFMT) == S_IFDIR else 1
    n.atime_sec = mtime
    n.mtime_sec = mtime
    n.ctime_sec = mtime
    n.next_dseq = 2
    return n

cdef fs_node *cpiofs_add_dir(fs_node *parent, const char *name, uint32_t len, uint32_t mode, uint32_t fs) noexcept nogil:
    cdef fs_node *n = fsnode_lookup(parent, name, len)
    if n != NULL:
        return n if fsnode_is_dir(n) else NULL
    n = new_node(S_IFDIR | (mode & S_IALLUGO), name, len, 0)
    if n == NULL:
        return NULL
    n.fs = fs
    fsnode_link_child(parent, n)
    return n

cdef void cpiofs_free_tree(fs_node *root) noexcept nogil:
    # Post-order without recursion: descend to a leaf, free it, continue with its parent.
    cdef fs_node *n = root
    cdef fs_node *p
    if root == NULL:
        return
    while True:
        while n.first_child != NULL:
            n = n.first_child
        if n == root:
            break
        p = n.parent
        fsnode_unlink_child(n)
        kfree(n)
        n = p
    kfree(root)

cdef bint bad_component(const char *c, uint64_t len) noexcept nogil:
    if len == 0 or len > NAME_MAX:
        return True
    if len == 1 and c[0] == 46:
        return True
    if len == 2 and c[0] == 46 and c[1] == 46:
        return True
    return False

cdef int64_t cpiofs_mount(const uint8_t *a, uint64_t size, fs_node **root_out) noexcept nogil:
    global next_ino, last_error, last_error_offset
    cdef uint64_t off = 0, name_start, data_start, data_end, next_off, namesize, filesize, mode, mtime
    cdef uint64_t f[CPIO_FIELDS]
    cdef uint64_t i, j, nlen, base_at, plen, cached_plen = 0
    cdef const char *name
    cdef const char *cached_ppath = NULL
    cdef fs_node *root
    cdef fs_node *parent
    cdef fs_node *cached_parent = NULL
    cdef fs_node *n
    cdef fs_node *e
    cdef int64_t rc = 0
    cdef int k
    last_error = NULL
    last_error_offset = 0
    root_out[0] = NULL
    if a == NULL or size == 0:
        return fail(b"empty archive", 0)
    next_ino = CPIO_ROOT_INO
    root = new_node(S_IFDIR | 0o755, b"", 0, 0)
    if root == NULL:
        return -ENOMEM
    root.parent = root
    while True:
        if off > size or size - off < CPIO_HEADER_SIZE:
            rc = fail(b"truncated archive: incomplete header", off)
            break
        if memcmp(a + off, b"070701", 6) != 0:
            rc = fail(b"bad magic (not a newc cpio member)", off)
            break
        for k in range(CPIO_FIELDS):
            if not parse_hex8(a + off + 6 + 8 * k, &f[k]):
                rc = fail(b"bad hex field in header", off)
                break
        if rc != 0:
            break
        mode = f[1]
        mtime = f[5]
        filesize = f[6]
        namesize = f[11]
        if namesize < 2 or namesize > PATH_MAX + 1:
            rc = fail(b"bad name size", off)
            break
        name_start = off + CPIO_HEADER_SIZE
        data_start = off + align4(CPIO_HEADER_SIZE + namesize)
        data_end = data_start + filesize
        next_off = data_start + align4(filesize)
        if next_off > size:
            rc = fail(b"truncated archive: member extends past the end", off)
            break
        name = <const char *>(a + name_start)
        nlen = namesize - 1
        if name[nlen] != 0:
            rc = fail(b"member name is not NUL-terminated", off)
            break
        for i in range(nlen):
            if name[i] == 0:
                break
        if i < nlen - 1 or (nlen > 0 and name[nlen - 1] == 0):
            rc = fail(b"member name has an embedded NUL", off)
            break
        if not all_zero(a + name_start + namesize, data_start - name_start - namesize) or \
                not all_zero(a + data_end, next_off - data_end):
            rc = fail(b"non-zero padding in member", off)
            break
        if nlen == 10 and memcmp(name, b"TRAILER!!!", 10) == 0:
            if not all_zero(a + next_off, size - next_off):
                rc = fail(b"data after the trailer", next_off)
            break
        while nlen >= 2 and name[0] == 46 and name[1] == 47:     # "./"
            name += 2
            nlen -= 2
        if nlen == 1 and name[0] == 46:                         # "." describes the root
            if (mode & S_IFMT) != S_IFDIR or filesize != 0:
                rc = fail(b"root entry is not a directory", off)
                break
            root.mode = <uint32_t>(S_IFDIR | (mode & S_IALLUGO))
            root.mtime_sec = root.ctime_sec = root.atime_sec = <int64_t>mtime
            off = next_off
            continue
        if nlen == 0 or name[0] == 47:
            rc = fail(b"bad member name (empty or absolute)", off)
            break
        # Split into components, checking each; base_at = start of the last one.
        base_at = 0
        j = 0
        for i in range(nlen + 1):
            if i == nlen or name[i] == 47:
                if bad_component(name + j, i - j):
                    rc = fail(b"member name is not a normalised relative path", off)
                    break
                if i < nlen:
                    base_at = i + 1
                j = i + 1
        if rc != 0:
            break
        # The parent directory, created implicitly where missing.
        plen = base_at - 1 if base_at > 0 else 0
        if base_at == 0:
            parent = root
        elif cached_parent != NULL and cached_plen == plen and memcmp(cached_ppath, name, plen) == 0:
            parent = cached_parent
        else:
            parent = root
            j = 0
            for i in range(plen + 1):
                if i == plen or name[i] == 47:
                    e = fsnode_lookup(parent, name + j, <uint32_t>(i - j))
                    if e == NULL:
                        e = new_node(S_IFDIR | 0o755, name + j, <uint32_t>(i - j), 0)
                        if e == NULL:
                            rc = -ENOMEM
                            break
                        e.flags |= CPIOFS_IMPLICIT
                        fsnode_link_child(parent, e)
                    elif not fsnode_is_dir(e):
                        rc = fail(b"a member's parent is not a directory", off)
                        break
                    parent = e
                    j = i + 1
            if rc != 0:
                break
            cached_parent = parent
            cached_ppath = name
            cached_plen = plen
        e = fsnode_lookup(parent, name + base_at, <uint32_t>(nlen - base_at))
        if (mode & S_IFMT) == S_IFDIR:
            if filesize != 0:
                rc = fail(b"directory member has data", off)
                break
            if e != NULL:
                if fsnode_is_dir(e) and (e.flags & CPIOFS_IMPLICIT):
                    e.flags &= ~CPIOFS_IMPLICIT
                    e.mode = <uint32_t>(S_IFDIR | (mode & S_IALLUGO))
                    e.mtime_sec = e.ctime_sec = e.atime_sec = <int64_t>mtime
                    off = next_off
                    continue
                rc = fail(b"duplicate member", off)
                break
        elif (mode & S_IFMT) == S_IFREG or (mode & S_IFMT) == S_IFLNK:
            if e != NULL:
                rc = fail(b"duplicate member", off)
                break
            if (mode & S_IFMT) == S_IFLNK:
                if filesize == 0 or filesize >= PATH_MAX:
                    rc = fail(b"bad symlink target length", off)
                    break
                for i in range(filesize):
                    if a[data_start + i] == 0:
                        break
                if i < filesize - 1 or a[data_start + filesize - 1] == 0:
                    rc = fail(b"symlink target has a NUL", off)
                    break
        else:
            rc = fail(b"unsupported member type (only directories, files, symlinks)", off)
            break
        n = new_node(<uint32_t>(mode & (S_IFMT | S_IALLUGO)), name + base_at, <uint32_t>(nlen - base_at), <int64_t>mtime)
        if n == NULL:
            rc = -ENOMEM
            break
        if not fsnode_is_dir(n):
            n.size = filesize
            n.data = a + data_start
        fsnode_link_child(parent, n)
        off = next_off
    if rc != 0:
        cpiofs_free_tree(root)
        return rc
    root_out[0] = root
    return 0
