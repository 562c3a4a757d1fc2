# Host face of fs/cpiofs: parse an archive and return the tree as Python data.
from libc.stdint cimport uint8_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy
from tyn.fs.fsnode cimport *
from tyn.fs.cpiofs cimport *

cdef _walk(fs_node *n, str prefix, dict out, const uint8_t *base):
    cdef fs_node *c = n.first_child
    while c != NULL:
        name = prefix + c.name[:c.namelen].decode("utf-8", "surrogateescape")
        if (c.mode & S_IFMT) == S_IFDIR:
            out[name] = dict(mode=c.mode, nlink=c.nlink, ino=c.ino, mtime=c.mtime_sec)
            _walk(c, name + "/", out, base)
        else:
            out[name] = dict(mode=c.mode, nlink=c.nlink, ino=c.ino, mtime=c.mtime_sec,
                             data=(<const char *>c.data)[:c.size] if c.size else b"",
                             offset=<uint64_t>(c.data - base) if c.data != NULL else 0)
        c = c.next_sibling

def parse(bytes blob, size=None):
    """(rc, error, error_offset, {path: info}); the archive is copied into a buffer of exactly
    `size` bytes (default len(blob)) so reads past it would leave the allocation."""
    cdef size_t n = len(blob) if size is None else size
    cdef uint8_t *buf = <uint8_t *>malloc(n if n else 1)
    cdef fs_node *root = NULL
    cdef int64_t rc
    memcpy(buf, <const char *>blob, min(n, len(blob)))
    try:
        rc = cpiofs_mount(buf if n else NULL, n, &root)
        tree = {}
        if rc == 0:
            tree[""] = dict(mode=root.mode, nlink=root.nlink, ino=root.ino, mtime=root.mtime_sec)
            _walk(root, "", tree, buf)
            cpiofs_free_tree(root)
        err = cpiofs_last_error()
        return rc, err.decode(), cpiofs_last_error_offset(), tree
    finally:
        free(buf)
