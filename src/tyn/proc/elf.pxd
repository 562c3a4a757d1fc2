# Static x86_64 ELF executables: validate the file's bytes and describe how to load them.
#
# elf_parse() reads an ELF64 file held in memory (data, length) and fills an elf_plan:
# one elf_load_segment per PT_LOAD (in file order = ascending address), the entry point,
# what the aux vector needs (AT_PHDR/AT_PHENT/AT_PHNUM/AT_ENTRY), the PT_GNU_STACK
# protections and the initial program break.  It never reads outside [data, data+length):
# every field is copied out with memcpy after a bounds check, so unaligned or truncated
# input is an error code, not a fault.
#
# Accepted: ELFCLASS64, ELFDATA2LSB, EV_CURRENT, EM_X86_64, ET_EXEC (bias 0) and ET_DYN
# without PT_INTERP (static-PIE: every address is shifted by a load bias, see elf_parse).
# PT_INTERP is refused with ELF_ERR_DYNAMIC: Tyn has no dynamic loader.
# PT_TLS is left to musl (it finds it through AT_PHDR); PT_DYNAMIC / PT_GNU_RELRO are the
# static-PIE's own business (rcrt1 relocates itself and mprotects RELRO).
#
# How the kernel loads a plan (mirrors Linux's binfmt_elf for these files):
#   for each segment s in plan.loads[0 .. plan.nloads):
#       map [s.start, s.end) anonymous private with protection s.prot (allocate frames, or
#         reserve for demand paging; s.start/s.end are page aligned, ranges never share a page)
#       copy s.file_size bytes from data + s.file_offset to user address s.start
#         (s.file_offset is page aligned: like Linux's file mapping, the bytes of the file
#         that precede p_offset in its page are mapped too, which is what puts the ELF and
#         program headers in memory for the first segment)
#       zero [s.zero_start, s.end)  (= s.zero_size bytes: the .bss and the tail of the page)
#       (write the page contents first, then apply s.prot: text is not writable)
#   brk starts at plan.brk (page-aligned end of the last PT_LOAD);
#   the stack gets plan.stack_prot; jump to plan.entry with the stack from initstack.
# Difference from Linux, on purpose: Linux maps whole file pages, so when p_memsz ==
# p_filesz the rest of the last page shows the following file bytes; here it is zero.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t

cdef extern from *:
    """
    #include <stdint.h>
    /* Highest user address + 1 that a segment may reach (x86_64 4-level TASK_SIZE_MAX). */
    #define ELF_USER_END ((uint64_t)0x00007ffffffff000ULL)
    /* Linux's ELF_ET_DYN_BASE without randomisation (2/3 of TASK_SIZE, page aligned):
       where static-PIE executables go when the caller passes bias_hint 0. */
    #define ELF_DEFAULT_DYN_BASE ((uint64_t)0x0000555555554000ULL)
    """
    const uint64_t ELF_USER_END
    const uint64_t ELF_DEFAULT_DYN_BASE

cdef enum:
    ELF_PAGE_SIZE = 4096
    ELF_MAX_LOADS = 16          # PT_LOAD segments a plan can hold
    ELF_MAX_PHNUM = 73          # Linux: phnum * sizeof(Elf64_Phdr) <= 4096
    ELF_MIN_VADDR = 0x10000     # Linux's default vm.mmap_min_addr: nothing is mapped below

    # e_ident
    EI_CLASS = 4
    EI_DATA = 5
    EI_VERSION = 6
    EI_NIDENT = 16
    ELFCLASS64 = 2
    ELFDATA2LSB = 1
    EV_CURRENT = 1
    # e_type, e_machine
    ET_EXEC = 2
    ET_DYN = 3
    EM_X86_64 = 62
    # p_type
    PT_NULL = 0
    PT_LOAD = 1
    PT_DYNAMIC = 2
    PT_INTERP = 3
    PT_NOTE = 4
    PT_PHDR = 6
    PT_TLS = 7
    PT_GNU_STACK = 0x6474e551
    # p_flags
    PF_X = 1
    PF_W = 2
    PF_R = 4
    # mmap protections (Linux values)
    PROT_NONE = 0
    PROT_READ = 1
    PROT_WRITE = 2
    PROT_EXEC = 4

    # elf_parse results (0 = success)
    ELF_OK = 0
    ELF_ERR_BAD_ARGUMENT = -1     # NULL data/plan, or a bias hint that is not page aligned
    ELF_ERR_TRUNCATED = -2        # header, program headers or segment data past the end of the file
    ELF_ERR_BAD_MAGIC = -3        # not \x7fELF
    ELF_ERR_BAD_CLASS = -4        # not ELFCLASS64
    ELF_ERR_BAD_ENDIAN = -5       # not little endian
    ELF_ERR_BAD_VERSION = -6      # e_ident[EI_VERSION] or e_version not EV_CURRENT
    ELF_ERR_BAD_MACHINE = -7      # not EM_X86_64
    ELF_ERR_BAD_TYPE = -8         # not ET_EXEC / ET_DYN (relocatable objects, core files, ...)
    ELF_ERR_DYNAMIC = -9          # has PT_INTERP: a dynamically linked executable
    ELF_ERR_BAD_PHDRS = -10       # e_phentsize != 56, e_phnum 0 or > ELF_MAX_PHNUM, e_ehsize < 64
    ELF_ERR_NO_LOAD = -11         # no PT_LOAD segment
    ELF_ERR_TOO_MANY_LOADS = -12  # more than ELF_MAX_LOADS PT_LOAD segments
    ELF_ERR_BAD_SEGMENT = -13     # p_memsz < p_filesz, p_align not 0 or a power of two,
                                  # p_vaddr and p_offset not congruent modulo the page size
    ELF_ERR_SEGMENT_RANGE = -14   # segment wraps, starts below ELF_MIN_VADDR or ends past ELF_USER_END
    ELF_ERR_OVERLAP = -15         # PT_LOADs not in ascending order, or two of them share a page
    ELF_ERR_BAD_ENTRY = -16       # entry point not inside an executable PT_LOAD
    ELF_ERR_PHDR_NOT_MAPPED = -17 # program headers not inside any PT_LOAD's file data (no AT_PHDR)

# ELF64 file structures (little endian, as in the file; copied out with memcpy).
cdef packed struct Elf64_Ehdr:
    uint8_t e_ident[16]
    uint16_t e_type
    uint16_t e_machine
    uint32_t e_version
    uint64_t e_entry
    uint64_t e_phoff
    uint64_t e_shoff
    uint32_t e_flags
    uint16_t e_ehsize
    uint16_t e_phentsize
    uint16_t e_phnum
    uint16_t e_shentsize
    uint16_t e_shnum
    uint16_t e_shstrndx

cdef packed struct Elf64_Phdr:
    uint32_t p_type
    uint32_t p_flags
    uint64_t p_offset
    uint64_t p_vaddr
    uint64_t p_paddr
    uint64_t p_filesz
    uint64_t p_memsz
    uint64_t p_align

# One PT_LOAD, load bias applied to every address.
cdef struct elf_load_segment:
    uint64_t start          # page-aligned first user address to map
    uint64_t end            # page-aligned end (exclusive): start .. end is the mapping
    uint64_t file_offset    # page-aligned offset in the file of the bytes copied to start
    uint64_t file_size      # bytes copied from the file (0 for a segment without file data)
    uint64_t zero_start     # = start + file_size: zero-fill from here ...
    uint64_t zero_size      # ... up to end (the .bss plus the tail of the last page)
    uint64_t vaddr          # p_vaddr + bias, exact (unaligned)
    uint64_t filesz         # p_filesz
    uint64_t memsz          # p_memsz
    uint32_t prot           # PROT_READ/WRITE/EXEC from PF_R/W/X
    uint32_t flags          # p_flags as in the file

cdef struct elf_plan:
    uint32_t type               # ET_EXEC or ET_DYN
    uint64_t bias               # added to every p_vaddr (0 for ET_EXEC)
    uint64_t entry              # e_entry + bias: AT_ENTRY and the first user RIP
    uint64_t phdr_addr          # AT_PHDR: the program headers as mapped in memory
    uint64_t phent              # AT_PHENT (56)
    uint64_t phnum              # AT_PHNUM
    uint32_t has_gnu_stack      # a PT_GNU_STACK header was present
    uint32_t stack_flags        # its p_flags (0 when absent)
    uint32_t stack_prot         # PROT_READ|PROT_WRITE, plus PROT_EXEC only if PT_GNU_STACK has PF_X
                                # (x86_64 Linux: a missing PT_GNU_STACK does not make the stack
                                # executable for 64-bit programs)
    uint32_t has_tls            # a PT_TLS header was present (informational: musl sets up TLS)
    uint64_t lowest             # loads[0].start
    uint64_t highest            # page-aligned end of the highest PT_LOAD (= brk)
    uint64_t brk                # initial program break
    uint32_t nloads
    elf_load_segment loads[ELF_MAX_LOADS]

# Validate the executable in data[0:length] and fill *plan.  bias_hint: for ET_DYN, where
# the lowest segment should go (page aligned; 0 = ELF_DEFAULT_DYN_BASE); it is rounded down
# to the largest p_align of the PT_LOADs (like Linux) and becomes bias = hint - first
# page-aligned p_vaddr.  Ignored for ET_EXEC.  Returns ELF_OK or an ELF_ERR_* code (then
# *plan is unspecified).
cdef extern int elf_parse(const uint8_t *data, uint64_t length, uint64_t bias_hint,
                          elf_plan *plan) noexcept nogil
# A short English description of an elf_parse result, for error messages.
cdef extern const char *elf_strerror(int code) noexcept nogil
