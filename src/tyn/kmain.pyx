# The kernel's main line: bring up each subsystem in order, then idle.
from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from tyn.arch.cpu cimport linker_symbol, kernel_phys_end, phys_to_virt
from tyn.arch.tsc cimport (tsc_calibrate, tsc_hz, tsc_source_name, tsc_calibration_ns,
                          tsc_calibration_ppm)
from tyn.time.clock cimport clock_init, CLOCK_DEFAULT_HZ, CLOCK_MAX_HZ
from tyn.arch.gdt cimport gdt_init, IST_STACKS
from tyn.arch.power cimport power_exit
from tyn.arch.trap cimport trap_init
from tyn.arch.panic cimport panic
from tyn.boot.multiboot cimport boot_info, multiboot_parse
from tyn.drivers.serial cimport serial_init, serial_enable_rx_irq, serial_write, serial_set_receiver
from tyn.fs.tty cimport tty_init, tty_receive, TTY_MAX_DIMENSION
from tyn.drivers.ioapic cimport ioapic_init, IOAPIC_PHYS_BASE
from tyn.arch.trap cimport VECTOR_SERIAL
from tyn.drivers.virtio_net cimport virtio_net_init
from tyn.drivers.pci cimport pci_init
from tyn.drivers.virtio_rng cimport virtio_rng_seed
from tyn.lib.crng cimport crng_init, crng_seed_boot, crng_report
from tyn.lib.cmdline cimport cmdline_parse, cmdline_get, cmdline_get_u64, cmdline_report_unknown
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.selftest cimport selftest_run
from tyn.arch.fpu cimport fpu_init, fpu_uses_xsave, hypervisor_is_kvm, FPU_MODE_AUTO, FPU_MODE_XSAVE, FPU_MODE_FXSAVE
from tyn.lib.cmdline cimport cmdline_streq
from tyn.arch.percpu cimport percpu_early_init, percpu_init, percpu_has_smap, percpu_has_smep
from tyn.arch.trap cimport (trap_set_syscall_handler, trap_set_user_fault_handler,
                            trap_set_user_return_hook, trap_set_user_entry_hook,
                            trap_set_user_exit_hook, trap_set_user_return_work)
from tyn.proc.cputime cimport cputime_user_entry, cputime_user_exit
from tyn.proc.process cimport process_user_fault
from tyn.lib.kprofile cimport profile_enable
from tyn.proc.sched cimport sched_init, sched_tick, sched_user_return, sched_current
from tyn.sys.table cimport syscall_table_init, syscall_dispatch, syscall_trace, syscall_note_kernel_entry
from tyn.arch.cpu cimport rdtsc
from tyn.time.walltime cimport walltime_init, walltime_source, walltime_timespec
from tyn.arch.trap cimport trap_set_page_fault_resolver
from tyn.net.socket cimport socket_init
from tyn.net.unix cimport unix_init
from tyn.net.netinit cimport net_init, net_wait_for_address
from tyn.net.inet_sock cimport inet_init
from tyn.net.netlink_sock cimport netlink_init
from tyn.fs.resolvconf cimport resolvconf_init
from tyn.fs.vfs cimport vfs_init, vfs_set_random_source, vfs_set_clock, vfs_walk, vfs_root, vfs_lookup, VFS_FOLLOW
from tyn.lib.cmdline cimport cmdline_init_args
from tyn.proc.exec cimport exec_start_init
from tyn.proc.process cimport process_page_fault, process_set_limit
from tyn.proc.sched cimport sched_idle_loop, sched_current, sched_resched_pending
from tyn.proc.task cimport thread
from tyn.sys.info cimport info_set_hostname, info_random_bytes
from tyn.sys.signal cimport signal_deliver_pending
from tyn.sys.sigqueue cimport sigqueue_init
from tyn.sys.itimer cimport itimer_cpu_check, itimer_cpu_due
from tyn.boot.initfs cimport initfs_descriptor, INITFS_MAGIC
from tyn.mm.pmm cimport (pmm_range, pmm_init, pmm_set_ceiling, pmm_free_count, pmm_add_region, PMM_OK, PAGE_SIZE,
                         PMM_LOW_MEMORY_END)
from tyn.mm.heap cimport heap_init
from tyn.mm.memstat cimport memstat_set_boot
from tyn.mm.vdso cimport vdso_init

cdef extern from "tyn/smp_trampoline.h":
    const uint64_t SMP_TRAMPOLINE_PHYS
from tyn.mm.frameref cimport frameref_init
from tyn.mm.kstack cimport kstack_init, kstack_alloc, KSTACK_NONE
from tyn.mm.mm_check cimport mm_self_check
from tyn.mm.paging cimport paging_keep_spare_tables, paging_init_kernel_space, paging_map_mmio, PAGING_OK
from tyn.arch.lapic cimport lapic_xapic_phys
from tyn.arch.smp cimport smp_init
from tyn.arch.cpu cimport BOOT_IDENTITY_LIMIT

cdef extern from "tyn/version.h":
    const char *TYN_VERSION_STRING
    const char *TYN_BUILD_VARIANT

cdef extern from *:
    const int TYN_SELFTEST     # -D by tyn.build: 1 in the --selftest build

cdef enum:
    MIB = 1024 * 1024
    IST_STACK_PAGES = 4
    KHZ = 1000
    EXIT_STATUS_NO_INIT = 125       # what a shell says when a command cannot run (126) is taken
    NS_PER_US = 1000
    # Page tables, heap, stacks and the BEAM's own needs come out of this much beyond the image.
    WORKING_MEMORY_MIN = 32 * MIB
    RESERVED_RANGES = 2

cdef boot_info boot

cdef void banner() noexcept nogil:
    kputs(b"Tyn ")
    kputs(TYN_VERSION_STRING)
    kputs(b" (")
    kputs(TYN_BUILD_VARIANT)
    kputs(b") booting\n")

cdef uint64_t initfs_bytes() noexcept nogil:
    if initfs_descriptor.magic == INITFS_MAGIC:
        return initfs_descriptor.size
    return 0

cdef void check_minimum_ram() noexcept nogil:
    """Refuse to run in less RAM than this image needs, saying how much that is."""
    cdef uint64_t image_end = linker_symbol(kernel_phys_end)
    cdef uint64_t need
    if initfs_bytes():
        image_end = initfs_descriptor.phys + initfs_descriptor.size
    need = (image_end + WORKING_MEMORY_MIN + MIB - 1) // MIB
    if boot.usable_bytes // MIB + 1 < need:     # +1: RAM below 1 MiB is usable but never enough
        kputs(b"tyn: this image needs at least ")
        kput_udec(need)
        kputs(b" MiB of RAM (kernel and root filesystem up to ")
        kput_udec(image_end // MIB)
        kputs(b" MiB, plus 32 MiB working memory); this machine has ")
        kput_udec(boot.usable_bytes // MIB)
        kputs(b" MiB\n")
        panic(b"too little RAM")

cdef void start_memory() noexcept nogil:
    cdef pmm_range usable[64]
    cdef pmm_range reserved[RESERVED_RANGES]
    cdef int i, n_reserved = 1
    cdef uint64_t mmio
    check_minimum_ram()
    for i in range(boot.region_count):
        usable[i].base = boot.regions[i].base
        usable[i].length = boot.regions[i].length
    reserved[0].base = 0
    reserved[0].length = linker_symbol(kernel_phys_end)
    if initfs_bytes():
        reserved[1].base = initfs_descriptor.phys
        reserved[1].length = initfs_descriptor.size
        n_reserved = 2
    # Until paging_init_kernel_space, only what boot.S mapped is reachable.
    if pmm_init(usable, boot.region_count, reserved, n_reserved, BOOT_IDENTITY_LIMIT) != PMM_OK:
        panic(b"no room for the frame allocator's bitmaps")
    if paging_init_kernel_space() != PAGING_OK:
        panic(b"cannot build the kernel page tables")
    paging_keep_spare_tables(True)
    pmm_set_ceiling(0)
    if not frameref_init():
        panic(b"no memory for the frame owner counts")
    heap_init()
    kstack_init()
    if mm_self_check() != 0:
        panic(b"memory self-check failed")
    memstat_set_boot(boot.usable_bytes, linker_symbol(kernel_phys_end) - PMM_LOW_MEMORY_END, initfs_bytes())
    kputs(b"tyn: memory: ")
    kput_udec(pmm_free_count() * PAGE_SIZE // MIB)
    kputs(b" MiB free")
    if initfs_bytes():
        kputs(b", root filesystem ")
        kput_udec(initfs_bytes() // 1024)
        kputs(b" KiB")
    kputs(b"\n")

cdef bint start_clock() noexcept nogil:
    cdef int source = tsc_calibrate()
    cdef uint64_t hz = CLOCK_DEFAULT_HZ
    kputs(b"tyn: TSC ")
    kput_udec(tsc_hz() // KHZ)
    kputs(b" kHz (")
    kputs(tsc_source_name(source))
    if tsc_calibration_ns():
        kputs(b", measured in ")
        kput_udec(tsc_calibration_ns() // NS_PER_US)
        kputs(b" us to within ")
        kput_udec(tsc_calibration_ppm())
        kputs(b" ppm")
    kputs(b")\n")
    if cmdline_get_u64(b"hz", &hz) and (hz == 0 or hz > CLOCK_MAX_HZ):
        kputs(b"tyn: hz must be 1..10000; using 100\n")
        hz = CLOCK_DEFAULT_HZ
    return clock_init(<uint32_t>hz, paging_map_mmio(lapic_xapic_phys(), PAGE_SIZE))

cdef uint16_t console_dimension(const char *key) noexcept nogil:
    """tty_cols= / tty_rows= (tyn.run passes the host terminal's size); 0: the default."""
    cdef uint64_t v = 0
    if cmdline_get_u64(key, &v) and (v == 0 or v > TTY_MAX_DIMENSION):
        kputs(b"tyn: ")
        kputs(key)
        kputs(b" must be 1..65535; using the default\n")
        v = 0
    return <uint16_t>v

cdef void start_console_tty() noexcept nogil:
    """The console's tty (fs/tty): the line discipline between COM1 and the console files."""
    tty_init(serial_write, console_dimension(b"tty_cols"), console_dimension(b"tty_rows"))
    serial_set_receiver(tty_receive)

cdef void start_console_input() noexcept nogil:
    """COM1 receive interrupts (the local APIC is up): console reads sleep and poll/epoll
    on stdin wake when a byte arrives.  Without an I/O APIC the console stays polled."""
    if ioapic_init(paging_map_mmio(IOAPIC_PHYS_BASE, PAGE_SIZE)) and serial_enable_rx_irq(VECTOR_SERIAL):
        kputs(b"tyn: console input: COM1 interrupts through the I/O APIC\n")
    else:
        kputs(b"tyn: console input: polled (no I/O APIC)\n")

cdef void start_network() noexcept nogil:
    """NICs (virtio-net on virtio-mmio or PCI), each registered as a netdev; one line each."""
    pci_init()
    if virtio_net_init() == 0:
        kputs(b"tyn: network: no virtio-net device\n")

cdef void start_random() noexcept nogil:
    """Seed the generator: the CPU's RDSEED/RDRAND and timing jitter, then a virtio-rng
    device if the machine has one; one console line names the sources."""
    crng_seed_boot()
    virtio_rng_seed()
    crng_report()

cdef void return_to_user() noexcept nogil:
    sched_user_return()
    itimer_cpu_check(sched_current())
    signal_deliver_pending()

cdef void enter_from_user() noexcept nogil:
    cputime_user_entry(sched_current())

cdef void exit_to_user() noexcept nogil:
    cputime_user_exit(sched_current())

cdef void reclaim_low_memory() noexcept nogil:
    """Usable RAM below 1 MiB (the pmm never hands it out at boot: the loader's structures
    and the SMP trampoline live there) joins the pmm once init runs: the multiboot
    information was copied, and only the trampoline page (a CPU given up on may still
    park in it) and page 0 (the real-mode IVT) stay out."""
    cdef int i
    cdef uint64_t base, end, added = 0
    cdef int64_t n
    for i in range(boot.region_count):
        base = boot.regions[i].base
        end = base + boot.regions[i].length
        if base < PAGE_SIZE:
            base = PAGE_SIZE
        if end > PMM_LOW_MEMORY_END:
            end = PMM_LOW_MEMORY_END
        if base >= end:
            continue
        if base <= SMP_TRAMPOLINE_PHYS < end:
            n = pmm_add_region(base, SMP_TRAMPOLINE_PHYS - base)
            added += <uint64_t>n if n > 0 else 0
            base = SMP_TRAMPOLINE_PHYS + PAGE_SIZE
        if base < end:
            n = pmm_add_region(base, end - base)
            added += <uint64_t>n if n > 0 else 0
    kputs(b"tyn: memory: ")
    kput_udec(added * PAGE_SIZE // 1024)
    kputs(b" KiB below 1 MiB added to the free frames\n")

cdef void start_vdso() noexcept nogil:
    """vdso=auto (default): the vDSO reads the TSC in user mode unless under KVM, where
    (PVM) user-mode rdtsc need not be the kernel's; vdso=tsc / vdso=syscall force it."""
    cdef bint tsc_user_mode = not hypervisor_is_kvm()
    cdef const char *key = cmdline_get(b"vdso")
    if key != NULL:
        if cmdline_streq(key, b"tsc"):
            tsc_user_mode = True
        elif cmdline_streq(key, b"syscall"):
            tsc_user_mode = False
        elif not cmdline_streq(key, b"auto"):
            kputs(b"tyn: vdso= must be auto, tsc or syscall; using auto\n")
    vdso_init(tsc_user_mode)

cdef bint return_to_user_work() noexcept nogil:
    cdef thread *t = sched_current()
    return sched_resched_pending() or (t.signal_pending & ~t.signal_mask) != 0 or itimer_cpu_due(t)

cdef void start_processes() noexcept nogil:
    """What user programs need: per-CPU state, SYSCALL, FPU state, the scheduler."""
    cdef uint64_t epoch = 0
    cdef int fpu_mode = FPU_MODE_AUTO
    cdef const char *fpu = cmdline_get(b"fpu")
    if fpu != NULL:
        if cmdline_streq(fpu, b"xsave"):
            fpu_mode = FPU_MODE_XSAVE
        elif cmdline_streq(fpu, b"fxsave"):
            fpu_mode = FPU_MODE_FXSAVE
        elif not cmdline_streq(fpu, b"auto"):
            kputs(b"tyn: fpu= must be auto, xsave or fxsave; using auto\n")
    cdef uint64_t area = fpu_init(fpu_mode)
    cdef bint smap = not hypervisor_is_kvm()
    cdef const char *smap_key = cmdline_get(b"smap")
    if smap_key != NULL:
        if cmdline_streq(smap_key, b"on"):
            smap = True
        elif cmdline_streq(smap_key, b"off"):
            smap = False
        elif not cmdline_streq(smap_key, b"auto"):
            kputs(b"tyn: smap= must be auto, on or off; using auto\n")
    percpu_init(smap)
    syscall_table_init()
    sched_init()
    sigqueue_init()
    trap_set_syscall_handler(syscall_dispatch)
    trap_set_user_fault_handler(process_user_fault)
    trap_set_user_return_hook(return_to_user)
    trap_set_user_entry_hook(enter_from_user)
    trap_set_user_exit_hook(exit_to_user)
    trap_set_user_return_work(return_to_user_work)
    trap_set_page_fault_resolver(process_page_fault)
    cdef uint64_t strace = 0
    if cmdline_get_u64(b"strace", &strace):
        syscall_trace(strace != 0)
    cdef uint64_t profile = 0
    if cmdline_get_u64(b"profile", &profile):
        profile_enable(profile != 0)
    cmdline_get_u64(b"realtime", &epoch)
    walltime_init(epoch)
    kputs(b"tyn: user mode: FPU state ")
    kput_udec(area)
    kputs(b" bytes (XSAVE)" if fpu_uses_xsave() else b" bytes (FXSAVE)")
    kputs(b", SMEP ")
    kputs(b"on" if percpu_has_smep() else b"off")
    kputs(b", SMAP ")
    kputs(b"on" if percpu_has_smap() else b"off")
    kputs(b", wall clock from ")
    kputs(walltime_source())
    kputs(b"\n")

cdef void mount_root() noexcept nogil:
    """The root filesystem from the image (or an empty root with /tmp and /dev)."""
    cdef int64_t rc
    if initfs_bytes():
        rc = vfs_init(<const uint8_t *>phys_to_virt(initfs_descriptor.phys), initfs_descriptor.size)
    else:
        rc = vfs_init(NULL, 0)
    if rc < 0:
        panic(b"the root filesystem is not a valid newc cpio archive")
    vfs_set_random_source(info_random_bytes)
    vfs_set_clock(walltime_timespec)      # tmpfs timestamps (vfs_init starts without a clock)

cdef void start_sockets() noexcept nogil:
    """The socket layer and the protocol families it offers (net/)."""
    socket_init()
    unix_init()
    net_init()                  # the IPv4 stack on the NICs the drivers registered (or lo only)
    inet_init()
    netlink_init()              # AF_NETLINK / NETLINK_ROUTE: interface queries (getifaddrs)
    resolvconf_init()           # /etc/resolv.conf follows DHCP's / the command line's DNS

cdef void start_init() noexcept nogil:
    """Start the root filesystem's init program (proc/exec.pyx)."""
    cdef vfs_lookup res
    cdef uint64_t nproc = 0
    if cmdline_get_u64(b"nproc", &nproc):
        process_set_limit(<int>nproc if nproc > 0 else 1)
    if vfs_walk(vfs_root(), b"/etc/hostname", 13, VFS_FOLLOW, &res) == 0 and res.node != NULL \
            and res.node.data != NULL:
        info_set_hostname(<const char *>res.node.data, res.node.size)
    if exec_start_init(cmdline_init_args()) != 0:
        power_exit(EXIT_STATUS_NO_INIT)

cdef void kmain(uint64_t multiboot_magic, uint64_t multiboot_info_phys) noexcept nogil:
    syscall_note_kernel_entry(rdtsc())
    cdef uint64_t ist_tops[IST_STACKS]
    cdef int i
    cdef const char *test
    percpu_early_init()         # GS base: per-CPU state (and spinlocks) work from here on
    serial_init()
    crng_init()
    banner()
    if multiboot_parse(multiboot_magic, multiboot_info_phys, &boot) != 0:
        panic(b"no usable boot information")
    cmdline_parse(boot.cmdline, boot.cmdline_length)
    start_memory()

    for i in range(IST_STACKS):
        # Double fault, NMI and machine check each get a guarded stack of their own.
        ist_tops[i] = kstack_alloc(IST_STACK_PAGES)
        if ist_tops[i] == KSTACK_NONE:
            panic(b"no memory for the interrupt stacks")
    gdt_init(ist_tops)
    trap_init()
    start_console_tty()

    if start_clock():
        start_console_input()
    start_network()
    start_random()
    start_processes()
    start_vdso()
    smp_init()                  # the other CPUs come up and idle; everything runs here
    mount_root()
    start_sockets()

    if TYN_SELFTEST:
        test = cmdline_get(b"selftest")
        if test != NULL:
            selftest_run(test)
    if initfs_bytes() == 0:
        cmdline_report_unknown()
        kputs(b"tyn: no root filesystem in this image; powering off\n")
        power_exit(0)
    net_wait_for_address()
    start_init()
    cmdline_report_unknown()
    reclaim_low_memory()
    sched_idle_loop()
