# The kernel's main line: bring up each subsystem in order, then idle.
from libc.stdint cimport uint32_t, uint64_t
from tyn.arch.cpu cimport linker_symbol, kernel_phys_end, irq_enable, irq_disable, cpu_idle
from tyn.arch.tsc cimport tsc_calibrate, tsc_hz, tsc_source_name, monotonic_ns
from tyn.time.clock cimport clock_init, clock_ticks, CLOCK_DEFAULT_HZ, CLOCK_MAX_HZ
from tyn.arch.gdt cimport gdt_init, IST_STACKS
from tyn.arch.power cimport power_exit
from tyn.arch.trap cimport trap_init
from tyn.arch.panic cimport panic
from tyn.boot.multiboot cimport boot_info, multiboot_parse
from tyn.drivers.serial cimport serial_init
from tyn.lib.cmdline cimport cmdline_parse, cmdline_get, cmdline_get_u64, cmdline_report_unknown
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.selftest cimport selftest_run

cdef extern from "tyn/version.h":
    const char *TYN_VERSION_STRING
    const char *TYN_BUILD_VARIANT

cdef extern from *:
    const int TYN_SELFTEST     # -D by tyn.build: 1 in the --selftest build

cdef enum:
    MIB = 1024 * 1024
    IST_STACK_BYTES = 16384
    KHZ = 1000
    NS_PER_MS = 1000000
    TIMER_CHECK_TICKS = 10

cdef boot_info boot
cdef char ist_stacks[IST_STACKS][IST_STACK_BYTES]

cdef void banner() noexcept nogil:
    kputs(b"Tyn ")
    kputs(TYN_VERSION_STRING)
    kputs(b" (")
    kputs(TYN_BUILD_VARIANT)
    kputs(b") booting\n")

cdef void start_clock() noexcept nogil:
    cdef int source = tsc_calibrate()
    cdef uint64_t hz = CLOCK_DEFAULT_HZ, start, t0
    kputs(b"tyn: TSC ")
    kput_udec(tsc_hz() // KHZ)
    kputs(b" kHz (")
    kputs(tsc_source_name(source))
    kputs(b")\n")
    if cmdline_get_u64(b"hz", &hz) and (hz == 0 or hz > CLOCK_MAX_HZ):
        kputs(b"tyn: hz must be 1..10000; using 100\n")
        hz = CLOCK_DEFAULT_HZ
    if not clock_init(<uint32_t>hz, 0):
        return
    # Prove the tick: idle (HLT) until it has fired a few times.
    t0 = monotonic_ns()
    start = clock_ticks()
    irq_enable()
    while clock_ticks() - start < TIMER_CHECK_TICKS:
        cpu_idle()
    irq_disable()
    kputs(b"tyn: timer: ")
    kput_udec(TIMER_CHECK_TICKS)
    kputs(b" ticks in ")
    kput_udec((monotonic_ns() - t0) // NS_PER_MS)
    kputs(b" ms\n")

cdef void kmain(uint64_t multiboot_magic, uint64_t multiboot_info_phys) noexcept nogil:
    cdef uint64_t ist_tops[IST_STACKS]
    cdef int i
    cdef const char *test
    serial_init()
    banner()
    if multiboot_parse(multiboot_magic, multiboot_info_phys, &boot) != 0:
        panic(b"no usable boot information")
    cmdline_parse(boot.cmdline, boot.cmdline_length)
    kputs(b"tyn: ")
    kput_udec(boot.usable_bytes // MIB)
    kputs(b" MiB usable RAM\n")

    for i in range(IST_STACKS):
        ist_tops[i] = <uint64_t>&ist_stacks[i][IST_STACK_BYTES]
    gdt_init(ist_tops)
    trap_init()

    start_clock()

    if TYN_SELFTEST:
        test = cmdline_get(b"selftest")
        if test != NULL:
            selftest_run(test)
    cmdline_report_unknown()
    kputs(b"tyn: no root filesystem in this image; powering off\n")
    power_exit(0)
