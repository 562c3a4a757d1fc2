# Fatal errors: a report with everything needed to debug, then exit QEMU.
from libc.stdint cimport uint64_t
from tyn.arch.cpu cimport read_cr2, read_cr3, read_rbp, irq_disable, PHYS_MAP_BASE
from tyn.arch.power cimport power_exit, EXIT_STATUS_PANIC
from tyn.arch.trapframe cimport trap_frame
from tyn.lib.kprint cimport kputs, kput_hex, kput_hex_width, kput_udec
from tyn.lib.symbols cimport symbol_lookup

cdef enum:
    VECTOR_PAGE_FAULT = 14
    REG_DIGITS = 16

cdef int panicking

cdef const char *exception_name(uint64_t vector) noexcept nogil:
    if vector == 0: return b"#DE divide error"
    if vector == 1: return b"#DB debug"
    if vector == 2: return b"NMI"
    if vector == 3: return b"#BP breakpoint"
    if vector == 4: return b"#OF overflow"
    if vector == 5: return b"#BR bound range exceeded"
    if vector == 6: return b"#UD invalid opcode"
    if vector == 7: return b"#NM device not available"
    if vector == 8: return b"#DF double fault"
    if vector == 9: return b"coprocessor segment overrun"
    if vector == 10: return b"#TS invalid TSS"
    if vector == 11: return b"#NP segment not present"
    if vector == 12: return b"#SS stack-segment fault"
    if vector == 13: return b"#GP general protection"
    if vector == 14: return b"#PF page fault"
    if vector == 16: return b"#MF x87 floating-point error"
    if vector == 17: return b"#AC alignment check"
    if vector == 18: return b"#MC machine check"
    if vector == 19: return b"#XM SIMD floating-point"
    if vector == 20: return b"#VE virtualization"
    if vector == 21: return b"#CP control protection"
    if vector == 28: return b"#HV hypervisor injection"
    if vector == 29: return b"#VC VMM communication"
    if vector == 30: return b"#SX security"
    if vector < 32: return b"reserved exception"
    return b"interrupt"

cdef void print_address(uint64_t address) noexcept nogil:
    cdef uint64_t offset = 0
    cdef const char *name = symbol_lookup(address, &offset)
    kput_hex_width(address, REG_DIGITS)
    if name != NULL:
        kputs(b" <")
        kputs(name)
        kputs(b"+")
        kput_hex(offset)
        kputs(b">")

cdef void print_repeats(int repeats) noexcept nogil:
    if repeats > 0:
        kputs(b"     ... the same frame ")
        kput_udec(<uint64_t>repeats)
        kputs(b" more times\n")

cdef void print_backtrace(uint64_t rbp, int max_frames) noexcept nogil:
    """Walk the frame-pointer chain (the kernel is built with -fno-omit-frame-pointer).

    Runs of the same return address (deep recursion) print once with a count.
    """
    cdef uint64_t *frame
    cdef uint64_t next_rbp, previous = 0
    cdef int depth = 0, repeats = 0
    kputs(b"backtrace:\n")
    while depth < max_frames:
        # Only follow plausible kernel stack frames: aligned, in the kernel half, growing up.
        if rbp == 0 or (rbp & 7) != 0 or rbp < PHYS_MAP_BASE:
            break
        frame = <uint64_t *>rbp
        if frame[1] == 0:
            break
        if frame[1] == previous:
            repeats += 1
        else:
            print_repeats(repeats)
            repeats = 0
            kputs(b"  #")
            kput_udec(<uint64_t>depth)
            kputs(b" ")
            print_address(frame[1])
            kputs(b"\n")
            depth += 1
        previous = frame[1]
        next_rbp = frame[0]
        if next_rbp <= rbp:
            break
        rbp = next_rbp
    print_repeats(repeats)

cdef void put_register(const char *name, uint64_t value) noexcept nogil:
    kputs(name)
    kputs(b"=")
    kput_hex_width(value, REG_DIGITS)

cdef bint enter_panic() noexcept nogil:
    """False if we are already panicking (a fault inside the report): leave at once."""
    global panicking
    irq_disable()
    panicking += 1
    if panicking > 1:
        kputs(b"\ntyn: fault while printing the panic report\n")
        power_exit(EXIT_STATUS_PANIC)
        return False
    return True

cdef void leave_panic() noexcept nogil:
    kputs(b"tyn: kernel panic, exit status ")
    kput_udec(EXIT_STATUS_PANIC)
    kputs(b"\n")
    power_exit(EXIT_STATUS_PANIC)

cdef void panic(const char *message) noexcept nogil:
    if not enter_panic():
        return
    kputs(b"\ntyn: PANIC: ")
    kputs(message)
    kputs(b"\n")
    print_backtrace(read_rbp(), BACKTRACE_MAX_FRAMES)
    leave_panic()

cdef void panic_exception(trap_frame *f) noexcept nogil:
    if not enter_panic():
        return
    kputs(b"\ntyn: PANIC: exception ")
    kput_udec(f.vector)
    kputs(b" ")
    kputs(exception_name(f.vector))
    kputs(b", error code ")
    kput_hex(f.error_code)
    if f.vector == VECTOR_PAGE_FAULT:
        kputs(b" (")
        kputs(b"write" if f.error_code & PF_WRITE else b"read")
        if f.error_code & PF_INSTRUCTION_FETCH:
            kputs(b", instruction fetch")
        kputs(b", protection violation" if f.error_code & PF_PRESENT else b", page not present")
        kputs(b", user mode" if f.error_code & PF_USER else b", kernel mode")
        if f.error_code & PF_RESERVED_BIT:
            kputs(b", reserved bit set")
        kputs(b")")
    kputs(b"\n  RIP=")
    print_address(f.rip)
    kputs(b"\n")
    put_register(b"  CR2", read_cr2()); put_register(b" CR3", read_cr3())
    put_register(b" RFLAGS", f.rflags); kputs(b"\n")
    put_register(b"  RAX", f.rax); put_register(b" RBX", f.rbx); put_register(b" RCX", f.rcx); kputs(b"\n")
    put_register(b"  RDX", f.rdx); put_register(b" RSI", f.rsi); put_register(b" RDI", f.rdi); kputs(b"\n")
    put_register(b"  RBP", f.rbp); put_register(b" RSP", f.rsp); put_register(b" R8 ", f.r8); kputs(b"\n")
    put_register(b"  R9 ", f.r9); put_register(b" R10", f.r10); put_register(b" R11", f.r11); kputs(b"\n")
    put_register(b"  R12", f.r12); put_register(b" R13", f.r13); put_register(b" R14", f.r14); kputs(b"\n")
    put_register(b"  R15", f.r15); put_register(b" CS ", f.cs); put_register(b" SS ", f.ss); kputs(b"\n")
    kputs(b"  #0 ")
    print_address(f.rip)
    kputs(b" (faulting instruction)\n")
    print_backtrace(f.rbp, BACKTRACE_MAX_FRAMES)
    leave_panic()
