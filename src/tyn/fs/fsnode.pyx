# Generic tree operations on fs_node (see fsnode.pxd).
from libc.stdint cimport uint32_t
from tyn.mm.heap cimport kcalloc
from tyn.arch.cpu cimport memcmp

cdef fs_node *fsnode_alloc() noexcept nogil:
    return <fs_node *>kcalloc(1, sizeof(fs_node))

cdef bint fsnode_is_dir(const fs_node *n) noexcept nogil:
    return (n.mode & S_IFMT) == S_IFDIR

cdef fs_node *fsnode_inode(fs_node *n) noexcept nogil:
    return n.inode if n.inode != NULL else n

cdef bint fsnode_name_eq(const fs_node *n, const char *name, uint32_t len) noexcept nogil:
    return n.namelen == len and memcmp(n.name, name, len) == 0

cdef fs_node *fsnode_lookup(fs_node *dir, const char *name, uint32_t len) noexcept nogil:
    cdef fs_node *c = dir.first_child
    while c != NULL:
        if c.namelen == len and memcmp(c.name, name, len) == 0:
            return c
        c = c.next_sibling
    return NULL

cdef void fsnode_link_child(fs_node *dir, fs_node *child) noexcept nogil:
    if dir.next_dseq < 2:
        dir.next_dseq = 2
    child.parent = dir
    child.dseq = dir.next_dseq
    dir.next_dseq += 1
    child.next_sibling = NULL
    child.prev_sibling = dir.last_child
    if dir.last_child != NULL:
        dir.last_child.next_sibling = child
    else:
        dir.first_child = child
    dir.last_child = child
    dir.nentries += 1
    if fsnode_is_dir(child):
        dir.nlink += 1

cdef void fsnode_unlink_child(fs_node *child) noexcept nogil:
    cdef fs_node *dir = child.parent
    if child.prev_sibling != NULL:
        child.prev_sibling.next_sibling = child.next_sibling
    else:
        dir.first_child = child.next_sibling
    if child.next_sibling != NULL:
        child.next_sibling.prev_sibling = child.prev_sibling
    else:
        dir.last_child = child.prev_sibling
    child.next_sibling = NULL
    child.prev_sibling = NULL
    dir.nentries -= 1
    if fsnode_is_dir(child):
        dir.nlink -= 1
