# A user address space: sorted, non-overlapping mappings (VMAs) over one page table.
#
# Pages are populated on first touch (vma_fault): an untouched mapping, however
# large, costs no frames; PROT_NONE reservations never get any.  A mapping's pages
# come from zeros (anonymous), from immutable bytes (a root-filesystem file: the cpio
# data lies in memory; pages are private copies), or from a memory object (a tmpfs
# file, see vma_object_ops: MAP_SHARED maps the object's own frames).
#
# fork shares every page (vma_fork): private pages become copy-on-write (mapped
# read-only in both; the first write copies unless the writer is the last owner,
# mm/frameref), MAP_SHARED pages stay shared and writable.  A frame with other
# owners is never mapped writable through a MAP_PRIVATE mapping.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

cdef enum:
    # mmap(2) prot and flags (include/uapi/asm-generic/mman*.h)
    PROT_NONE = 0
    PROT_READ = 1
    PROT_WRITE = 2
    PROT_EXEC = 4
    MAP_SHARED = 0x01
    MAP_PRIVATE = 0x02
    MAP_FIXED = 0x10
    MAP_ANONYMOUS = 0x20
    MAP_GROWSDOWN = 0x100
    MAP_DENYWRITE = 0x800
    MAP_NORESERVE = 0x4000
    MAP_POPULATE = 0x8000
    MAP_STACK = 0x20000
    MAP_FIXED_NOREPLACE = 0x100000
    # The user address range handed out (Linux x86_64: below 0x7ffffffff000).
    VMA_USER_LOW = 0x10000              # vm.mmap_min_addr
    VMA_USER_HIGH = 0x7FFFFFFFF000
    VMA_MMAP_TOP = 0x7FFFF7FFF000       # top-down allocations start below the stack area

# A memory object behind a mapping (a tmpfs file).  page(obj, index): the frame holding
# the object's page `index` (created if the object is that long), or 0 beyond its end;
# the mapping takes its own frame reference for each page it maps.  hold/release count
# the mappings that refer to obj.
ctypedef uint64_t (*vma_object_page_fn)(void *obj, uint64_t index) noexcept nogil
ctypedef void (*vma_object_ref_fn)(void *obj) noexcept nogil
cdef struct vma_object_ops:
    vma_object_page_fn page
    vma_object_ref_fn hold
    vma_object_ref_fn release

cdef struct vma:
    uint64_t start                  # page-aligned, inclusive
    uint64_t end                    # page-aligned, exclusive
    uint32_t prot
    uint32_t flags
    const uint8_t *file_data        # private copy-on-touch source, or NULL (anonymous)
    uint64_t file_length            # bytes of file_data readable from `start` onwards
    const vma_object_ops *object_ops    # or NULL
    void *object
    uint64_t object_index           # the object's page at `start`
    vma *next

cdef struct mm_space:
    uint64_t root                   # page-table root (CR3)
    vma *head                       # sorted by start
    uint64_t brk_start              # the program break's fixed lower end
    uint64_t brk                    # current break (may be unaligned)
    uint64_t mapped_pages           # populated user pages
    uint64_t vma_count
    bint fault_beyond_object        # the last failed fault touched a page past its object's
                                    # end (Linux raises SIGBUS for that, SIGSEGV otherwise)
    bint fault_out_of_memory        # the last failed fault found no free frame (mm/oom)
    bint oom_victim                 # the OOM killer chose this space's process: it is dying

# Map [addr, addr+length) (page-rounded).  Without MAP_FIXED, addr is a hint: the first free
# gap at or below it (top-down), else anywhere.  MAP_FIXED replaces what was there.
# file_data: the bytes that appear at the start of the mapping (NULL = zeros).
# Returns the address or -errno (ENOMEM, EINVAL, EEXIST for MAP_FIXED_NOREPLACE).
cdef extern int64_t vma_map(mm_space *mm, uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags,
                            const uint8_t *file_data, uint64_t file_length) noexcept nogil
# The same over a memory object's pages from page index `index` on (holds obj).
cdef extern int64_t vma_map_object(mm_space *mm, uint64_t addr, uint64_t length, uint32_t prot,
                                   uint32_t flags, const vma_object_ops *ops, void *obj,
                                   uint64_t index) noexcept nogil
cdef extern int64_t vma_unmap(mm_space *mm, uint64_t addr, uint64_t length) noexcept nogil
# fork: give child (empty) every mapping of parent, sharing the pages.  0 or -ENOMEM
# (the caller then releases the child's space).
cdef extern int vma_fork(mm_space *child, mm_space *parent) noexcept nogil
# The memory object obj lost its pages from index first_gone on: every mapping of it in mm
# drops its pages there (their copies too), so a later touch faults (SIGBUS past the end).
cdef extern void vma_object_shrunk(mm_space *mm, void *obj, uint64_t first_gone) noexcept nogil
cdef extern int64_t vma_protect(mm_space *mm, uint64_t addr, uint64_t length, uint32_t prot) noexcept nogil
# mremap: grow/shrink in place, or move (with may_move) keeping the pages.  Address or -errno.
cdef extern int64_t vma_remap(mm_space *mm, uint64_t old_addr, uint64_t old_length, uint64_t new_length,
                              bint may_move) noexcept nogil
# Drop the contents of [addr, addr+length): next touch sees zeros (anonymous) or the file again.
cdef extern int64_t vma_discard(mm_space *mm, uint64_t addr, uint64_t length) noexcept nogil
# A page fault at addr (error code bits as the CPU gives them): populate the page if the
# mapping allows the access, or copy a copy-on-write page.  False: a real fault (the
# caller signals SIGSEGV or -EFAULT).
cdef extern bint vma_fault(mm_space *mm, uint64_t addr, uint64_t error_code) noexcept nogil
cdef extern vma *vma_find(mm_space *mm, uint64_t addr) noexcept nogil
# Mapped bytes (Linux's total-vm) and populated pages of object (tmpfs/memfd) mappings.
cdef extern uint64_t vma_total_bytes(mm_space *mm) noexcept nogil
cdef extern uint64_t vma_object_pages(mm_space *mm) noexcept nogil
