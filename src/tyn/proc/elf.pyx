# Static x86_64 ELF executables: validation and load plans.  See elf.pxd for the contract.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport memcpy, memset

cdef enum:
    PAGE_MASK_LOW = ELF_PAGE_SIZE - 1
    EHDR_SIZE = 64
    PHDR_SIZE = 56

cdef inline uint64_t page_down(uint64_t v) noexcept nogil:
    return v & ~(<uint64_t>PAGE_MASK_LOW)

cdef inline uint64_t page_up(uint64_t v) noexcept nogil:
    return (v + PAGE_MASK_LOW) & ~(<uint64_t>PAGE_MASK_LOW)

cdef inline bint bad_align(uint64_t a) noexcept nogil:
    """p_align must be 0, 1 or a power of two."""
    return a > 1 and (a & (a - 1)) != 0

cdef inline uint32_t flags_to_prot(uint32_t f) noexcept nogil:
    cdef uint32_t prot = PROT_NONE
    if f & PF_R:
        prot |= PROT_READ
    if f & PF_W:
        prot |= PROT_WRITE
    if f & PF_X:
        prot |= PROT_EXEC
    return prot

cdef inline void read_phdr(const uint8_t *data, uint64_t phoff, uint64_t i, Elf64_Phdr *ph) noexcept nogil:
    # The caller checked that phoff + phnum * PHDR_SIZE <= length.
    memcpy(ph, data + phoff + i * PHDR_SIZE, PHDR_SIZE)

cdef inline bint range_inside(uint64_t a, uint64_t n, uint64_t lo, uint64_t hi) noexcept nogil:
    """[a, a+n) inside [lo, hi) (no wrap-around)."""
    return a >= lo and a <= hi and n <= hi - a

cdef int check_header(const uint8_t *data, uint64_t length, Elf64_Ehdr *eh) noexcept nogil:
    if length >= 4 and not (data[0] == 0x7f and data[1] == 0x45 and data[2] == 0x4c and data[3] == 0x46):
        return ELF_ERR_BAD_MAGIC
    if length < EHDR_SIZE:
        return ELF_ERR_TRUNCATED
    memcpy(eh, data, EHDR_SIZE)
    if eh.e_ident[EI_CLASS] != ELFCLASS64:
        return ELF_ERR_BAD_CLASS
    if eh.e_ident[EI_DATA] != ELFDATA2LSB:
        return ELF_ERR_BAD_ENDIAN
    if eh.e_ident[EI_VERSION] != EV_CURRENT or eh.e_version != EV_CURRENT:
        return ELF_ERR_BAD_VERSION
    if eh.e_machine != EM_X86_64:
        return ELF_ERR_BAD_MACHINE
    if eh.e_type != ET_EXEC and eh.e_type != ET_DYN:
        return ELF_ERR_BAD_TYPE
    if eh.e_ehsize < EHDR_SIZE or eh.e_phentsize != PHDR_SIZE or eh.e_phnum == 0 or eh.e_phnum > ELF_MAX_PHNUM:
        return ELF_ERR_BAD_PHDRS
    if eh.e_phoff > length or <uint64_t>eh.e_phnum * PHDR_SIZE > length - eh.e_phoff:
        return ELF_ERR_TRUNCATED
    return ELF_OK

cdef int elf_parse(const uint8_t *data, uint64_t length, uint64_t bias_hint, elf_plan *plan) noexcept nogil:
    cdef Elf64_Ehdr eh
    cdef Elf64_Phdr ph
    cdef elf_load_segment *s
    cdef elf_load_segment *prev
    cdef uint64_t i, n, first_vaddr = 0, max_align = ELF_PAGE_SIZE, bias = 0
    cdef uint64_t vaddr, table_size, entry
    cdef bint have_first = False, have_phdr = False
    cdef uint64_t phdr_vaddr = 0
    cdef int rc
    if data == NULL or plan == NULL or (bias_hint & PAGE_MASK_LOW) != 0:
        return ELF_ERR_BAD_ARGUMENT
    memset(plan, 0, sizeof(elf_plan))
    rc = check_header(data, length, &eh)
    if rc != ELF_OK:
        return rc
    n = eh.e_phnum
    table_size = n * PHDR_SIZE

    # Pass 1: refuse dynamic executables first, collect what the bias and aux vector need.
    for i in range(n):
        read_phdr(data, eh.e_phoff, i, &ph)
        if ph.p_type == PT_INTERP:
            return ELF_ERR_DYNAMIC
    for i in range(n):
        read_phdr(data, eh.e_phoff, i, &ph)
        if ph.p_type == PT_LOAD and ph.p_memsz != 0:
            if not have_first:
                first_vaddr = ph.p_vaddr
                have_first = True
            if ph.p_align > max_align and not bad_align(ph.p_align):
                max_align = ph.p_align
        elif ph.p_type == PT_GNU_STACK:
            plan.has_gnu_stack = 1
            plan.stack_flags = ph.p_flags
        elif ph.p_type == PT_PHDR:
            have_phdr = True
            phdr_vaddr = ph.p_vaddr
        elif ph.p_type == PT_TLS:
            plan.has_tls = 1
    if not have_first:
        return ELF_ERR_NO_LOAD

    if eh.e_type == ET_DYN:
        if bias_hint == 0:
            bias_hint = ELF_DEFAULT_DYN_BASE
        # A multiple of the largest alignment keeps every segment as aligned as it asked.
        if max_align >= ELF_USER_END:
            return ELF_ERR_SEGMENT_RANGE
        bias = (bias_hint - page_down(first_vaddr)) & ~(max_align - 1)
    plan.type = eh.e_type
    plan.bias = bias

    # Pass 2: the PT_LOADs, in file order, which must be ascending and page-disjoint.
    for i in range(n):
        read_phdr(data, eh.e_phoff, i, &ph)
        if ph.p_type != PT_LOAD or ph.p_memsz == 0:
            continue
        if ph.p_memsz < ph.p_filesz or bad_align(ph.p_align):
            return ELF_ERR_BAD_SEGMENT
        if ((ph.p_vaddr - ph.p_offset) & PAGE_MASK_LOW) != 0:
            return ELF_ERR_BAD_SEGMENT
        if ph.p_filesz != 0 and (ph.p_offset > length or ph.p_filesz > length - ph.p_offset):
            return ELF_ERR_TRUNCATED
        vaddr = ph.p_vaddr + bias
        if vaddr < ph.p_vaddr or vaddr >= ELF_USER_END or ph.p_memsz > ELF_USER_END - vaddr:
            return ELF_ERR_SEGMENT_RANGE
        if page_down(vaddr) < ELF_MIN_VADDR:
            return ELF_ERR_SEGMENT_RANGE
        if plan.nloads == ELF_MAX_LOADS:
            return ELF_ERR_TOO_MANY_LOADS
        s = &plan.loads[plan.nloads]
        s.start = page_down(vaddr)
        s.end = page_up(vaddr + ph.p_memsz)
        if plan.nloads > 0:
            prev = &plan.loads[plan.nloads - 1]
            if s.start < prev.end:
                return ELF_ERR_OVERLAP
        if ph.p_filesz != 0:
            s.file_offset = page_down(ph.p_offset)
            s.file_size = ph.p_filesz + (ph.p_offset & PAGE_MASK_LOW)
        s.zero_start = s.start + s.file_size
        s.zero_size = s.end - s.zero_start
        s.vaddr = vaddr
        s.filesz = ph.p_filesz
        s.memsz = ph.p_memsz
        s.flags = ph.p_flags
        s.prot = flags_to_prot(ph.p_flags)
        plan.nloads += 1

    plan.lowest = plan.loads[0].start
    plan.highest = plan.loads[plan.nloads - 1].end
    plan.brk = plan.highest

    # AT_PHDR: PT_PHDR's address, else the program headers inside a PT_LOAD's file data.
    plan.phent = PHDR_SIZE
    plan.phnum = n
    if have_phdr:
        plan.phdr_addr = phdr_vaddr + bias
        for i in range(plan.nloads):
            s = &plan.loads[i]
            if range_inside(plan.phdr_addr, table_size, s.start, s.end):
                break
        else:
            return ELF_ERR_PHDR_NOT_MAPPED
    else:
        for i in range(plan.nloads):
            s = &plan.loads[i]
            if s.file_size != 0 and range_inside(eh.e_phoff, table_size, s.file_offset,
                                                 s.file_offset + s.file_size):
                plan.phdr_addr = s.start + (eh.e_phoff - s.file_offset)
                break
        else:
            return ELF_ERR_PHDR_NOT_MAPPED

    entry = eh.e_entry + bias
    for i in range(plan.nloads):
        s = &plan.loads[i]
        if (s.prot & PROT_EXEC) and entry >= s.vaddr and entry - s.vaddr < s.memsz:
            break
    else:
        return ELF_ERR_BAD_ENTRY
    plan.entry = entry

    plan.stack_prot = PROT_READ | PROT_WRITE
    if plan.has_gnu_stack and (plan.stack_flags & PF_X):
        plan.stack_prot |= PROT_EXEC
    return ELF_OK

cdef const char *elf_strerror(int code) noexcept nogil:
    if code == ELF_OK:
        return b"ok"
    if code == ELF_ERR_BAD_ARGUMENT:
        return b"bad argument"
    if code == ELF_ERR_TRUNCATED:
        return b"truncated ELF file"
    if code == ELF_ERR_BAD_MAGIC:
        return b"not an ELF file"
    if code == ELF_ERR_BAD_CLASS:
        return b"not a 64-bit ELF file"
    if code == ELF_ERR_BAD_ENDIAN:
        return b"not a little-endian ELF file"
    if code == ELF_ERR_BAD_VERSION:
        return b"unknown ELF version"
    if code == ELF_ERR_BAD_MACHINE:
        return b"not an x86_64 executable"
    if code == ELF_ERR_BAD_TYPE:
        return b"not an executable (ET_EXEC or ET_DYN)"
    if code == ELF_ERR_DYNAMIC:
        return b"dynamically linked (PT_INTERP): only static executables can run"
    if code == ELF_ERR_BAD_PHDRS:
        return b"bad program header table"
    if code == ELF_ERR_NO_LOAD:
        return b"no loadable segment"
    if code == ELF_ERR_TOO_MANY_LOADS:
        return b"too many loadable segments"
    if code == ELF_ERR_BAD_SEGMENT:
        return b"bad loadable segment (sizes, alignment or offset)"
    if code == ELF_ERR_SEGMENT_RANGE:
        return b"segment outside the user address range"
    if code == ELF_ERR_OVERLAP:
        return b"loadable segments overlap or are out of order"
    if code == ELF_ERR_BAD_ENTRY:
        return b"entry point outside the executable segments"
    if code == ELF_ERR_PHDR_NOT_MAPPED:
        return b"program headers are not mapped"
    return b"unknown ELF error"
