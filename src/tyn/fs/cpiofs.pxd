# The read-only root filesystem: a newc cpio archive parsed in place (see docs/IMAGE.md,
# tyn/build/cpio.py).  File data and names point into the archive; nothing is copied.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.fs.fsnode cimport fs_node

cdef enum:
    CPIO_HEADER_SIZE = 110
    CPIO_FIELDS = 13
    CPIO_ROOT_INO = 1
    CPIO_DEV = 1                    # st_dev of the root filesystem (0:1)
    CPIOFS_IMPLICIT = 2             # fs_node.flags: a directory the archive did not list

# Parse archive[0:size] into a tree; *root_out gets the root directory.  0, or -EINVAL for
# a malformed/truncated archive (one console line "cpiofs: ... at offset N") or -ENOMEM;
# on error nothing stays allocated.  Never reads outside archive[0:size].
cdef extern int64_t cpiofs_mount(const uint8_t *archive, uint64_t size, fs_node **root_out) noexcept nogil
# The message of the last failed mount ("" if none).
cdef extern const char *cpiofs_last_error() noexcept nogil
cdef extern uint64_t cpiofs_last_error_offset() noexcept nogil
# A directory added by the kernel (e.g. /tmp or /dev when the archive lacks them); name must
# outlive the tree.  The existing entry if there is one (NULL if it is not a directory).
cdef extern fs_node *cpiofs_add_dir(fs_node *parent, const char *name, uint32_t len, uint32_t mode, uint32_t fs) noexcept nogil
# Free a tree built by cpiofs_mount (tests).
cdef extern void cpiofs_free_tree(fs_node *root) noexcept nogil
