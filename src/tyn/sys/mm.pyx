# Memory system calls over the current process's address space (mm/vma.pyx).
from libc.stdint cimport int64_t, uint32_t, uint64_t
from tyn.fs.context cimport fs_current
from tyn.fs.fdtable cimport fdtable_get
from tyn.fs.vfs cimport vfs_file, vfs_node_get, vfs_node_put
from tyn.fs.fsnode cimport fs_node, FS_TMPFS
from tyn.fs.tmpfs cimport tmpfs_page_phys, tmpfs_set_shrink_hook
from tyn.proc.process cimport process_for_each, process_mm
from tyn.proc.task cimport process
from tyn.mm.pmm cimport PAGE_SIZE, PAGE_SHIFT
from tyn.mm.vma cimport (mm_space, vma_map, vma_map_object, vma_object_ops, vma_object_shrunk, vma_unmap, vma_protect, vma_remap, vma_discard, PROT_READ,
                         PROT_WRITE, PROT_EXEC, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS,
                         MAP_FIXED_NOREPLACE)
from tyn.proc.sched cimport sched_current
from tyn.sys.errno cimport EINVAL, EBADF, ENODEV, EACCES

cdef enum:
    PAGE_MASK = PAGE_SIZE - 1
    MAP_SHARED_VALIDATE = 0x03
    MAP_TYPE = 0x0F
    PROT_VALID = PROT_READ | PROT_WRITE | PROT_EXEC
    MREMAP_MAYMOVE = 1
    MREMAP_FIXED = 2
    MREMAP_DONTUNMAP = 4
    # madvise(2) advice values
    MADV_NORMAL = 0
    MADV_RANDOM = 1
    MADV_SEQUENTIAL = 2
    MADV_WILLNEED = 3
    MADV_DONTNEED = 4
    MADV_FREE = 8
    MADV_REMOVE = 9
    MADV_DONTFORK = 10
    MADV_DOFORK = 11
    MADV_MERGEABLE = 12
    MADV_UNMERGEABLE = 13
    MADV_HUGEPAGE = 14
    MADV_NOHUGEPAGE = 15
    MADV_DONTDUMP = 16
    MADV_DODUMP = 17
    O_ACCMODE = 3
    O_WRONLY = 1
    O_RDWR = 2
    S_IFMT = 0o170000
    S_IFREG = 0o100000

cdef inline mm_space *current_mm() noexcept nogil:
    return process_mm(sched_current().proc)     # a vfork child: its parent's

cdef uint64_t tmpfs_mapping_page(void *obj, uint64_t index) noexcept nogil:
    """A tmpfs file's page for a mapping: created (zeroed) inside the file, none beyond it
    (the fault then raises SIGBUS, as Linux)."""
    cdef fs_node *n = <fs_node *>obj
    if index >= (n.size + PAGE_MASK) >> PAGE_SHIFT:
        return 0
    return tmpfs_page_phys(n, index, True)

cdef void tmpfs_mapping_hold(void *obj) noexcept nogil:
    vfs_node_get(<fs_node *>obj)

cdef void tmpfs_mapping_release(void *obj) noexcept nogil:
    vfs_node_put(<fs_node *>obj)

cdef vma_object_ops tmpfs_mapping_ops

cdef struct shrink_args:
    fs_node *node
    uint64_t first_gone

cdef void shrink_in(process *p, void *ctx) noexcept nogil:
    cdef shrink_args *a = <shrink_args *>ctx
    vma_object_shrunk(&p.mm, a.node, a.first_gone)

cdef void tmpfs_file_shrunk(fs_node *n, uint64_t first_gone) noexcept nogil:
    cdef shrink_args a
    a.node = n
    a.first_gone = first_gone
    process_for_each(shrink_in, &a)

cdef void sys_mm_init() noexcept nogil:
    """tmpfs files as memory objects for mmap; truncation reaches their mappings."""
    tmpfs_mapping_ops.page = tmpfs_mapping_page
    tmpfs_mapping_ops.hold = tmpfs_mapping_hold
    tmpfs_mapping_ops.release = tmpfs_mapping_release
    tmpfs_set_shrink_hook(tmpfs_file_shrunk)

cdef int64_t sys_mmap(uint64_t addr, uint64_t length, uint64_t prot, uint64_t flags, uint64_t fd,
                      uint64_t offset) noexcept nogil:
    cdef uint32_t kind = flags & MAP_TYPE
    cdef vfs_file *f
    cdef const unsigned char *data = NULL
    cdef uint64_t available = 0
    if length == 0 or offset & PAGE_MASK or (prot & ~(<uint64_t>PROT_VALID)) != 0:
        return -EINVAL
    if kind != MAP_PRIVATE and kind != MAP_SHARED and kind != MAP_SHARED_VALIDATE:
        return -EINVAL
    if flags & MAP_ANONYMOUS:
        return vma_map(current_mm(), addr, length, <uint32_t>prot, <uint32_t>flags, NULL, 0)
    f = fdtable_get(&fs_current().fdt, fd)
    if f == NULL:
        return -EBADF
    if (f.flags & O_ACCMODE) == O_WRONLY:
        return -EACCES
    if f.node == NULL or (f.node.mode & S_IFMT) != S_IFREG:
        return -ENODEV
    if f.node.fs == FS_TMPFS:
        if kind != MAP_PRIVATE and prot & PROT_WRITE and (f.flags & O_ACCMODE) != O_RDWR:
            return -EACCES      # a shared writable mapping writes the file
        return vma_map_object(current_mm(), addr, length, <uint32_t>prot, <uint32_t>flags,
                              &tmpfs_mapping_ops, f.node, offset >> PAGE_SHIFT)
    if f.node.data == NULL:
        return -ENODEV          # no pages behind it (devices)
    if kind != MAP_PRIVATE and prot & PROT_WRITE:
        return -EACCES          # the root filesystem is read-only
    if offset < f.node.size:
        data = f.node.data + offset
        available = f.node.size - offset
    # A private copy of the immutable bytes on first touch; MAP_SHARED of a read-only
    # file cannot be told apart from that.
    return vma_map(current_mm(), addr, length, <uint32_t>prot, <uint32_t>flags, data, available)

cdef int64_t sys_munmap(uint64_t addr, uint64_t length) noexcept nogil:
    return vma_unmap(current_mm(), addr, length)

cdef int64_t sys_mprotect(uint64_t addr, uint64_t length, uint64_t prot) noexcept nogil:
    if (prot & ~(<uint64_t>PROT_VALID)) != 0:
        return -EINVAL
    return vma_protect(current_mm(), addr, length, <uint32_t>prot)

cdef int64_t sys_mremap(uint64_t old_addr, uint64_t old_length, uint64_t new_length, uint64_t flags,
                        uint64_t new_addr) noexcept nogil:
    if flags & ~(<uint64_t>(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)):
        return -EINVAL
    if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP):
        return -EINVAL          # not supported (ERTS and musl use MREMAP_MAYMOVE only)
    return vma_remap(current_mm(), old_addr, old_length, new_length, (flags & MREMAP_MAYMOVE) != 0)

cdef int64_t sys_madvise(uint64_t addr, uint64_t length, uint64_t advice) noexcept nogil:
    if addr & PAGE_MASK:
        return -EINVAL
    if advice == MADV_DONTNEED or advice == MADV_FREE:
        # FREE may drop the pages at any time; dropping them now is one valid choice.
        return vma_discard(current_mm(), addr, length)
    if advice <= MADV_WILLNEED or (MADV_DONTFORK <= advice <= MADV_DODUMP):
        return 0
    return -EINVAL

cdef int64_t sys_brk(uint64_t addr) noexcept nogil:
    """Returns the new break, or the old one when the request cannot be met (Linux's ABI)."""
    cdef mm_space *mm = current_mm()
    cdef uint64_t old_top = (mm.brk + PAGE_MASK) & ~(<uint64_t>PAGE_MASK)
    cdef uint64_t new_top = (addr + PAGE_MASK) & ~(<uint64_t>PAGE_MASK)
    if addr < mm.brk_start:
        return <int64_t>mm.brk
    if new_top > old_top:
        if vma_map(mm, old_top, new_top - old_top, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0) < 0:
            return <int64_t>mm.brk
    elif new_top < old_top:
        vma_unmap(mm, new_top, old_top - new_top)
    mm.brk = addr
    return <int64_t>addr
