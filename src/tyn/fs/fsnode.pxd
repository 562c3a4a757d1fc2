# The in-memory inode shared by every filesystem (cpiofs, tmpfs, the synthetic /dev):
# a node of a tree of directories, with an fs tag telling vfs which module owns it.
# A node is both an inode and its first directory entry.  Further names of a file (hard
# links, tmpfs only) are link entries: nodes that hold a name and a place in a directory
# and whose `inode` points at the node they name; everything else (data, mode, times,
# nlink) lives in that node.  When the first name is removed while others remain, the
# node leaves its directory and lives on as a nameless inode.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t

cdef enum:
    # fs_node.fs
    FS_NONE = 0
    FS_CPIO = 1             # read-only root from the boot archive
    FS_TMPFS = 2            # writable, mounted at /tmp
    FS_DEV = 3              # synthetic /dev (read-only directory, character devices)
    FS_ANON = 4             # nodes of files that have no name (console, later pipes, sockets)

    # st_mode type bits and permission bits (Linux <sys/stat.h>)
    S_IFMT = 0o170000
    S_IFSOCK = 0o140000
    S_IFLNK = 0o120000
    S_IFREG = 0o100000
    S_IFBLK = 0o060000
    S_IFDIR = 0o040000
    S_IFCHR = 0o020000
    S_IFIFO = 0o010000
    S_ISUID = 0o4000
    S_ISGID = 0o2000
    S_ISVTX = 0o1000
    S_IALLUGO = 0o7777
    S_IXUGO = 0o111
    S_IXGRP = 0o010

    # fs_node.devkind (FS_DEV / FS_ANON character devices)
    DEVKIND_NONE = 0
    DEVKIND_NULL = 1
    DEVKIND_ZERO = 2
    DEVKIND_URANDOM = 3
    DEVKIND_RANDOM = 4
    DEVKIND_CONSOLE = 5

    # fs_node.flags
    FSNODE_OWNS_NAME = 1    # name was kmalloc'd (tmpfs) and is freed with the node
    FSNODE_NO_MOUNT = 2     # tmpfs node of no mounted instance (memfd: Linux's internal
                            # shm mount), so a name on a mount is another filesystem's
    FSNODE_LINKABLE = 4     # an O_TMPFILE file opened without O_EXCL: linkat may give its
                            # nlink-0 inode a first name (Linux's I_LINKABLE), once

    NAME_MAX = 255
    PATH_MAX = 4096

cdef struct fs_node:
    fs_node *parent             # the directory holding this entry (root: itself)
    fs_node *first_child        # directories: entries in insertion order
    fs_node *last_child
    fs_node *next_sibling
    fs_node *prev_sibling
    fs_node *mounted            # a directory covered by a mount: the mounted root
    fs_node *covers             # a mounted root: the directory it covers
    const char *name            # not NUL-terminated; points into the archive for cpiofs
    uint32_t namelen
    uint32_t mode               # st_mode
    uint32_t nlink
    uint32_t refs               # open files and working directories using the node
    uint32_t fs
    uint32_t devkind
    uint32_t rdev               # Linux dev_t encoding (major << 8 | minor for small numbers)
    uint32_t flags
    uint64_t ino
    uint64_t size               # files: bytes; symlinks: target length; directories: 0
    uint64_t dseq               # this entry's getdents cookie in its parent (>= 2)
    uint64_t next_dseq          # directories: the cookie the next entry gets
    uint64_t nentries           # directories: entries (without . and ..)
    int64_t atime_sec
    int64_t mtime_sec
    int64_t ctime_sec
    uint32_t atime_nsec
    uint32_t mtime_nsec
    uint32_t ctime_nsec
    uint32_t uid                # st_uid, st_gid (chown)
    uint32_t gid
    const uint8_t *data         # cpiofs: file bytes / symlink target inside the archive
    uint64_t *pages             # tmpfs: physical frame of each 4 KiB page (0 = hole)
    uint64_t npages             # tmpfs: entries in pages
    char *link                  # tmpfs: symlink target (kmalloc'd)
    fs_node *inode              # a link entry: the node it names (NULL: the node names itself)

# A zeroed node (kcalloc), or NULL.
cdef extern fs_node *fsnode_alloc() noexcept nogil
# The entry called name[0:len] in dir, or NULL.
cdef extern fs_node *fsnode_lookup(fs_node *dir, const char *name, uint32_t len) noexcept nogil
# Append child to dir's entries (sets parent, cookie; counts a subdirectory's ".." link).
cdef extern void fsnode_link_child(fs_node *dir, fs_node *child) noexcept nogil
# Remove child from its parent's entries (parent pointer kept; nlink bookkeeping is the caller's).
cdef extern void fsnode_unlink_child(fs_node *child) noexcept nogil
cdef extern bint fsnode_is_dir(const fs_node *n) noexcept nogil
# The inode a directory entry names: n itself, or a link entry's target.
cdef extern fs_node *fsnode_inode(fs_node *n) noexcept nogil
cdef extern bint fsnode_name_eq(const fs_node *n, const char *name, uint32_t len) noexcept nogil
