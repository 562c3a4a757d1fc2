# Deliberate faults, to prove the panic path end to end (tests/test_panic.py).
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport compiler_barrier
from tyn.arch.power cimport power_exit
from tyn.lib.cmdline cimport cmdline_streq, cmdline_parse_u64
from tyn.lib.kprint cimport kputs
from tyn.arch.cpu cimport phys_to_virt, memcpy, memset, memcmp, RFLAGS_IF, RFLAGS_RESERVED_1
from tyn.arch.gdt cimport SEL_USER_CODE, SEL_USER_DATA, SEGMENT_RPL_USER
from tyn.arch.trapframe cimport trap_frame
from tyn.mm.pmm cimport pmm_alloc_frame, PAGE_SIZE
from tyn.mm.paging cimport paging_map, PTE_PRESENT, PTE_WRITE, PTE_USER, PTE_NX
from tyn.proc.process cimport process_create
from tyn.proc.sched cimport sched_make_runnable, sched_idle_loop
from tyn.proc.task cimport process, thread, task_new_thread
from tyn.arch.cpu cimport irq_enable, irq_disable, cpu_idle
from tyn.arch.tsc cimport monotonic_ns, tsc_hz
from tyn.drivers.pit cimport pit_measure_tsc_hz, PIT_HZ
from tyn.time.clock cimport clock_slice_ns
from tyn.time.ktimer cimport ktimer, ktimer_init, ktimer_arm
from tyn.lib.kprint cimport kput_udec
from tyn.net.netdev cimport netdev, netdev_first, netdev_print_mac
from tyn.net.wire_ethernet cimport ETH_ALEN, ETH_HLEN
from tyn.drivers.virtio_net cimport VIRTIO_NET_FRAME_MAX
from tyn.net.netlock cimport net_lock_acquire, net_lock_release

cdef enum:
    # In the user half, where the kernel maps nothing.
    UNMAPPED_ADDRESS = 0x00007000DEAD0000
    USER_CODE_ADDRESS = 0x400000
    USER_STACK_PAGE = 0x7FFF0000
    USER_CODE_BYTES = 21
    RECURSION_FRAME_BYTES = 128
    CHECK_TICKS = 10
    NS_PER_US = 1000
    KHZ = 1000
    # A long, tight PIT window: an independent check of the boot-time TSC figure.
    CHECK_PIT_MIN_TICKS = PIT_HZ // 10
    CHECK_PIT_MAX_TICKS = PIT_HZ // 2
    CHECK_PIT_PPM = 20
    # selftest=netreflect: frames of this EtherType are commands, not reflected.
    ETH_P_802_EX1 = 0x88B5              # IEEE 802 local experimental EtherType 1
    ETH_TYPE_OFFSET = 12
    NETREFLECT_COMMAND_BYTES = 4        # "stat": print the counters; "exit": and power off

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

cdef void map_user_page(process *p, uint64_t va, const char *content, size_t length, uint64_t flags) noexcept nogil:
    cdef uint64_t frame = pmm_alloc_frame()
    memset(phys_to_virt(frame), 0, PAGE_SIZE)
    memcpy(phys_to_virt(frame), content, length)
    paging_map(p.page_root, va, frame, PTE_PRESENT | PTE_USER | flags)

cdef void run_user_program() noexcept nogil:
    """Ring 3 end to end: getpid() through SYSCALL, then exit_group(pid + 40)."""
    # mov $39,%eax; syscall; mov %eax,%edi; add $40,%edi; mov $231,%eax; syscall
    cdef const char *code = b"\xb8\x27\x00\x00\x00\x0f\x05\x89\xc7\x83\xc7\x28\xb8\xe7\x00\x00\x00\x0f\x05\xeb\xfe"
    cdef process *p = process_create()
    cdef trap_frame regs
    cdef thread *t
    map_user_page(p, USER_CODE_ADDRESS, code, USER_CODE_BYTES, 0)
    map_user_page(p, USER_STACK_PAGE, b"", 0, PTE_WRITE | PTE_NX)
    memset(&regs, 0, sizeof(regs))
    regs.rip = USER_CODE_ADDRESS
    regs.cs = SEL_USER_CODE | SEGMENT_RPL_USER
    regs.ss = SEL_USER_DATA | SEGMENT_RPL_USER
    regs.rsp = USER_STACK_PAGE + PAGE_SIZE
    regs.rflags = RFLAGS_IF | RFLAGS_RESERVED_1
    t = task_new_thread(p, &regs)
    sched_make_runnable(t)
    sched_idle_loop()

cdef volatile bint timer_fired

cdef void on_check_timer(ktimer *t) noexcept nogil:
    global timer_fired
    timer_fired = True

cdef void check_clock() noexcept nogil:
    """Kernel timers 1/hz apart timed with the TSC (how late each fired), and the TSC
    measured against the PIT."""
    global timer_fired
    cdef ktimer t
    cdef uint64_t t0, deadline, late, latest = 0, window_tsc = 0, error_ppm = 0, hz
    cdef int i
    ktimer_init(&t, on_check_timer, NULL)
    t0 = monotonic_ns()
    deadline = t0
    for i in range(CHECK_TICKS):
        deadline += clock_slice_ns()
        timer_fired = False
        ktimer_arm(&t, deadline)
        irq_enable()
        while not timer_fired:
            cpu_idle()              # only the timer's interrupt can end this
        irq_disable()
        late = monotonic_ns() - deadline
        if late > latest:
            latest = late
    kputs(b"tyn: selftest clock: ")
    kput_udec(CHECK_TICKS)
    kputs(b" timers of ")
    kput_udec(clock_slice_ns() // NS_PER_US)
    kputs(b" us in ")
    kput_udec((monotonic_ns() - t0) // NS_PER_US)
    kputs(b" us, the latest ")
    kput_udec(latest // NS_PER_US)
    kputs(b" us late\n")
    hz = pit_measure_tsc_hz(CHECK_PIT_MIN_TICKS, CHECK_PIT_MAX_TICKS, CHECK_PIT_PPM, &window_tsc, &error_ppm)
    kputs(b"tyn: selftest clock: TSC ")
    kput_udec(hz // KHZ)
    kputs(b" kHz against the PIT (within ")
    kput_udec(error_ppm)
    kputs(b" ppm), boot figure ")
    kput_udec(tsc_hz() // KHZ)
    kputs(b" kHz\n")
    power_exit(0)

cdef uint8_t reflected[VIRTIO_NET_FRAME_MAX]   # under net_lock
cdef uint64_t net_commands                  # command frames received (counted in rx_packets too)

cdef void print_net_counters(netdev *dev) noexcept nogil:
    kputs(b"tyn: netreflect: ")
    kputs(dev.name)
    kputs(b" rx_packets ")
    kput_udec(dev.rx_packets)
    kputs(b" rx_bytes ")
    kput_udec(dev.rx_bytes)
    kputs(b" rx_drops ")
    kput_udec(dev.rx_drops)
    kputs(b" tx_packets ")
    kput_udec(dev.tx_packets)
    kputs(b" tx_bytes ")
    kput_udec(dev.tx_bytes)
    kputs(b" tx_drops ")
    kput_udec(dev.tx_drops)
    kputs(b" commands ")
    kput_udec(net_commands)
    kputs(b"\n")

cdef void reflect_frame(netdev *dev, const uint8_t *frame, uint32_t length, uint32_t rx_flags) noexcept nogil:
    """Send the frame back with its MAC addresses swapped (net_lock held by the driver)."""
    global net_commands
    cdef const uint8_t *command = frame + ETH_HLEN
    if (frame[ETH_TYPE_OFFSET] << 8 | frame[ETH_TYPE_OFFSET + 1]) == ETH_P_802_EX1:
        net_commands += 1
        if length >= ETH_HLEN + NETREFLECT_COMMAND_BYTES:
            if memcmp(command, b"stat", NETREFLECT_COMMAND_BYTES) == 0:
                print_net_counters(dev)
            elif memcmp(command, b"exit", NETREFLECT_COMMAND_BYTES) == 0:
                print_net_counters(dev)
                power_exit(0)
        return
    if length > VIRTIO_NET_FRAME_MAX:
        return                          # a coalesced (GSO) frame: larger than one can send back
    memcpy(reflected, frame + ETH_ALEN, ETH_ALEN)
    memcpy(reflected + ETH_ALEN, frame, ETH_ALEN)
    memcpy(reflected + 2 * ETH_ALEN, frame + 2 * ETH_ALEN, length - 2 * ETH_ALEN)
    dev.transmit(dev, reflected, length, NULL)

cdef void net_reflect() noexcept nogil:
    """Reflect every frame the first NIC receives; idle (interrupts only) in between."""
    global net_commands
    cdef netdev *dev = netdev_first()
    cdef uint64_t flags
    if dev == NULL:
        kputs(b"tyn: selftest netreflect: no network device\n")
        power_exit(1)
        return
    flags = net_lock_acquire()
    net_commands = 0
    dev.receive = reflect_frame
    dev.receive_done = NULL
    net_lock_release(flags)
    kputs(b"tyn: selftest netreflect: ")
    kputs(dev.name)
    kputs(b" MAC ")
    netdev_print_mac(dev.mac)
    kputs(b" ready\n")
    while True:
        cpu_idle()                      # sti; hlt: only the NIC's interrupts wake it

cdef void selftest_run(const char *name) noexcept nogil:
    cdef uint64_t status
    kputs(b"tyn: selftest ")
    kputs(name)
    kputs(b"\n")
    if cmdline_streq(name, b"pagefault"):
        fault_page()
    elif cmdline_streq(name, b"usermode"):
        run_user_program()
    elif cmdline_streq(name, b"clock"):
        check_clock()
    elif cmdline_streq(name, b"netreflect"):
        net_reflect()
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
        kputs(b"tyn: unknown selftest (pagefault, divide, stackoverflow, usermode, clock, netreflect, exit:N)\n")
