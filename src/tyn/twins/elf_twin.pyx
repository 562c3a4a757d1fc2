# Host face of proc/elf for tests.
from libc.stdint cimport uint8_t, uint64_t
from tyn.proc.elf cimport *

OK = ELF_OK
ERRORS = {
    "BAD_ARGUMENT": ELF_ERR_BAD_ARGUMENT, "TRUNCATED": ELF_ERR_TRUNCATED, "BAD_MAGIC": ELF_ERR_BAD_MAGIC,
    "BAD_CLASS": ELF_ERR_BAD_CLASS, "BAD_ENDIAN": ELF_ERR_BAD_ENDIAN, "BAD_VERSION": ELF_ERR_BAD_VERSION,
    "BAD_MACHINE": ELF_ERR_BAD_MACHINE, "BAD_TYPE": ELF_ERR_BAD_TYPE, "DYNAMIC": ELF_ERR_DYNAMIC,
    "BAD_PHDRS": ELF_ERR_BAD_PHDRS, "NO_LOAD": ELF_ERR_NO_LOAD, "TOO_MANY_LOADS": ELF_ERR_TOO_MANY_LOADS,
    "BAD_SEGMENT": ELF_ERR_BAD_SEGMENT, "SEGMENT_RANGE": ELF_ERR_SEGMENT_RANGE, "OVERLAP": ELF_ERR_OVERLAP,
    "BAD_ENTRY": ELF_ERR_BAD_ENTRY, "PHDR_NOT_MAPPED": ELF_ERR_PHDR_NOT_MAPPED,
}
ERROR_NAMES = {v: k for k, v in ERRORS.items()}
MAX_LOADS = ELF_MAX_LOADS
MAX_PHNUM = ELF_MAX_PHNUM
MIN_VADDR = ELF_MIN_VADDR
USER_END = ELF_USER_END
DEFAULT_DYN_BASE = ELF_DEFAULT_DYN_BASE
PROT_R = PROT_READ
PROT_W = PROT_WRITE
PROT_X = PROT_EXEC


class ElfError(Exception):
    def __init__(self, code):
        self.code = code
        self.name = ERROR_NAMES.get(code, str(code))
        super().__init__(f"{self.name}: {strerror(code)}")


def strerror(int code) -> str:
    return elf_strerror(code).decode()


def parse(const uint8_t[:] data, unsigned long long bias_hint=0, bint null_data=False):
    """elf_parse over a bytes-like object: a dict describing the plan, or ElfError."""
    cdef elf_plan plan
    cdef const uint8_t *p = NULL
    cdef uint64_t n = data.shape[0]
    cdef uint8_t dummy = 0
    if not null_data:
        p = &data[0] if n else &dummy
    rc = elf_parse(p, n, bias_hint, &plan)
    if rc != ELF_OK:
        raise ElfError(rc)
    loads = []
    for i in range(plan.nloads):
        s = plan.loads[i]
        loads.append(dict(start=s.start, end=s.end, file_offset=s.file_offset, file_size=s.file_size,
                          zero_start=s.zero_start, zero_size=s.zero_size, vaddr=s.vaddr,
                          filesz=s.filesz, memsz=s.memsz, prot=s.prot, flags=s.flags))
    return dict(type=plan.type, bias=plan.bias, entry=plan.entry, phdr=plan.phdr_addr, phent=plan.phent,
                phnum=plan.phnum, has_gnu_stack=plan.has_gnu_stack, stack_flags=plan.stack_flags,
                stack_prot=plan.stack_prot, has_tls=plan.has_tls, lowest=plan.lowest,
                highest=plan.highest, brk=plan.brk, loads=loads)


def parse_code(const uint8_t[:] data, unsigned long long bias_hint=0) -> int:
    """Just the result code."""
    cdef elf_plan plan
    cdef uint8_t dummy = 0
    cdef uint64_t n = data.shape[0]
    return elf_parse(&data[0] if n else &dummy, n, bias_hint, &plan)
