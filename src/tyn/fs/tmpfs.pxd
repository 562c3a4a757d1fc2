# tmpfs: the writable in-memory filesystem mounted at /tmp.  File data lives in whole
# 4 KiB page frames from the pmm (so shared mappings can later map them); a missing page
# is a hole that reads as zeros.  vfs does the path and permission checks; tmpfs does the
# mechanics.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.fs.fsnode cimport fs_node

cdef enum:
    TMPFS_DEV = 2                   # st_dev (0:2)
    TMPFS_PAGE = 4096
    TMPFS_ROOT_MODE = 0o1777

ctypedef void (*tmpfs_clock_fn)(int64_t *sec, uint32_t *nsec) noexcept nogil

# A new, empty filesystem; its root directory in *out.  0 or -ENOMEM.
cdef extern int64_t tmpfs_new_root(fs_node **out) noexcept nogil
# Where timestamps come from (NULL: all zero).
cdef extern void tmpfs_set_clock(tmpfs_clock_fn fn) noexcept nogil
cdef extern void tmpfs_now(int64_t *sec, uint32_t *nsec) noexcept nogil
# A new entry name[0:len] in dir with st_mode mode (type bits included).  For a symlink,
# target[0:tlen] is its content.  0 or -ENOMEM / -ENOENT (dir was removed).
cdef extern int64_t tmpfs_create(fs_node *dir, const char *name, uint32_t len, uint32_t mode,
                                 const char *target, uint64_t tlen, fs_node **out) noexcept nogil
# A file in no directory (memfd_create): nlink 0, freed when its last open file goes.
# name[0:len] is kept for diagnostics.  0 or -ENOMEM.
cdef extern int64_t tmpfs_create_unlinked(const char *name, uint32_t len, uint32_t mode,
                                          fs_node **out) noexcept nogil
# O_TMPFILE: a regular file on the tmpfs mount in no directory (nlink 0, freed with its
# last open file unless linkat names it; linkable: FSNODE_LINKABLE).  0 or -ENOMEM.
cdef extern int64_t tmpfs_create_tmpfile(uint32_t mode, bint linkable, fs_node **out) noexcept nogil
# Copy file bytes [off, off+n) to buf (a user address when user, else a kernel pointer).
# Returns bytes copied (0 at/after EOF) or -EFAULT.
cdef extern int64_t tmpfs_read(fs_node *n, uint64_t buf, uint64_t count, uint64_t off, bint user) noexcept nogil
# Store count bytes at off, growing the file; returns bytes written or -EFAULT/-ENOSPC/-EFBIG.
cdef extern int64_t tmpfs_write(fs_node *n, uint64_t buf, uint64_t count, uint64_t off, bint user) noexcept nogil
cdef extern int64_t tmpfs_truncate(fs_node *n, uint64_t size) noexcept nogil
# Called when a file shrinks, with the first page index it no longer has: mappings of it
# drop those pages (the memory system call layer sets it; NULL: nothing maps files).
ctypedef void (*tmpfs_shrink_fn)(fs_node *n, uint64_t first_gone) noexcept nogil
cdef extern void tmpfs_set_shrink_hook(tmpfs_shrink_fn fn) noexcept nogil
# Remove the directory entry entry (a name of a file, symlink or empty directory; a link
# entry is freed); the node it names loses a link and is freed once it has no name left
# and no open file or working directory refers to it.
cdef extern void tmpfs_remove(fs_node *entry) noexcept nogil
# A further name name[0:len] in dir for node n (a hard link; n is not a directory):
# 0 or -ENOMEM / -ENOENT (dir was removed).
cdef extern int64_t tmpfs_link(fs_node *n, fs_node *dir, const char *name, uint32_t len) noexcept nogil
# Move the directory entry n into dir under name (an existing entry there must have been
# removed first).
cdef extern int64_t tmpfs_move(fs_node *n, fs_node *dir, const char *name, uint32_t len) noexcept nogil
# Drop the node if it is neither linked nor referenced.
cdef extern void tmpfs_node_release(fs_node *n) noexcept nogil
# Physical frame holding page index of n (allocating a zeroed one when alloc), or 0.
cdef extern uint64_t tmpfs_page_phys(fs_node *n, uint64_t index, bint alloc) noexcept nogil
cdef extern uint64_t tmpfs_page_count(fs_node *n) noexcept nogil
# Frames currently holding tmpfs data (all instances).
cdef extern uint64_t tmpfs_frames_in_use() noexcept nogil
cdef extern void tmpfs_touch(fs_node *n, bint modify) noexcept nogil
# Forget counters (tests start a fresh heap; the kernel never calls this).
cdef extern void tmpfs_reset() noexcept nogil
