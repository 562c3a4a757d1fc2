# Deliberate faults, to prove the panic path end to end (tests/test_panic.py).
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport compiler_barrier
from tyn.arch.power cimport power_exit
from tyn.lib.cmdline cimport cmdline_streq, cmdline_parse_u64
from tyn.lib.kprint cimport kputs

cdef enum:
    # In the user half, where the kernel maps nothing.
    UNMAPPED_ADDRESS = 0x00007000DEAD0000
    RECURSION_FRAME_BYTES = 128

cdef volatile uint64_t zero
cdef volatile uint64_t dividend
cdef volatile uint64_t quotient

cdef void fault_page() noexcept nogil:
    (<volatile uint64_t *>UNMAPPED_ADDRESS)[0] = 1

cdef void fault_divide() noexcept nogil:
    global quotient
    # All volatile: gcc must emit a real division and keep it (an unused quotient is dropped).
    quotient = dividend // zero

cdef int (*recurse_through)(int depth) noexcept nogil

cdef int fault_recurse(int depth) noexcept nogil:
    """Runs off the end of the stack into its guard page (-> #PF -> #DF on the IST stack)."""
    cdef volatile char frame[RECURSION_FRAME_BYTES]
    frame[depth % RECURSION_FRAME_BYTES] = <char>depth
    # Through a pointer: gcc cannot inline recursion levels into one huge frame.
    cdef int r = recurse_through(depth + 1)
    compiler_barrier()
    return r + frame[0]

cdef void selftest_run(const char *name) noexcept nogil:
    cdef uint64_t status
    kputs(b"tyn: selftest ")
    kputs(name)
    kputs(b"\n")
    if cmdline_streq(name, b"pagefault"):
        fault_page()
    elif cmdline_streq(name, b"divide"):
        fault_divide()
    elif cmdline_streq(name, b"stackoverflow"):
        global recurse_through
        recurse_through = fault_recurse
        fault_recurse(0)
    elif name[0] == 101 and name[1] == 120 and name[2] == 105 and name[3] == 116 and name[4] == 58:
        # "exit:N"
        if cmdline_parse_u64(name + 5, &status):
            power_exit(<int>status)
        kputs(b"tyn: selftest exit:N needs a number\n")
    else:
        kputs(b"tyn: unknown selftest (pagefault, divide, stackoverflow, exit:N)\n")
