# Bringing up the application processors (see smp.pxd).
#
# The boot CPU starts the APs one at a time; `params` in the trampoline page and the
# handshake state below belong to the AP being started.  ap_state[cpu] is written by that
# AP (CALLED_IN, TSC_READY, ONLINE) and read by the boot CPU; tsc_lock orders the TSC
# check's shared last reading.
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport (rdtsc, cpuid, rdmsr, cpu_relax, cpu_idle, irq_enable, irq_disable, memcpy,
                           memset, phys_to_virt, atomic_store_release, linker_symbol, MSR_EFER, EFER_NXE)
from tyn.arch.percpu cimport percpu_init_cpu, percpu_of, percpu_cpu_index, NR_CPUS
from tyn.arch.gdt cimport gdt_init_cpu, IST_STACKS
from tyn.arch.trap cimport trap_load_idt, trap_set_handler, VECTOR_AP_TIMER_PROOF
from tyn.arch.trapframe cimport trap_frame
from tyn.arch.fpu cimport fpu_init_cpu
from tyn.arch.lapic cimport (lapic_enable_this_cpu, lapic_id, lapic_send_ipi, lapic_eoi, lapic_is_x2apic,
                            lapic_timer_oneshot, lapic_timer_deadline_mode, lapic_timer_set_deadline,
                            APIC_DM_INIT, APIC_DM_STARTUP, APIC_INT_ASSERT, APIC_INT_LEVELTRIG)
from tyn.arch.tsc cimport tsc_hz, tsc_to_ns
from tyn.time.clock cimport clock_uses_tsc_deadline, clock_timer_hz, clock_init_cpu
from tyn.proc.sched cimport sched_ap_main, sched_cpus_online
from tyn.boot.acpi cimport acpi_madt_info, acpi_find_madt, acpi_error_name, ACPI_OK
from tyn.mm.kstack cimport kstack_alloc, KSTACK_NONE
from tyn.mm.pmm cimport pmm_alloc_frame, pmm_free_frame, PMM_NO_FRAME, PAGE_SIZE
from tyn.mm.paging cimport (paging_kernel_root, paging_map_direct, PAGING_OK, PT_ENTRIES, PTE_PRESENT,
                            PTE_WRITE, PTE_HUGE)
from tyn.lib.spinlock cimport spinlock, spinlock_init, spinlock_acquire, spinlock_release, SPINLOCK_RANK_SMP_BOOT
from tyn.lib.kprint cimport kputs, kput_udec

cdef extern from "tyn/smp_trampoline.h" nogil:
    const uint64_t SMP_TRAMPOLINE_PHYS
    const uint64_t SMP_TRAMPOLINE_PARAMS
    cdef struct smp_trampoline_params:
        uint32_t apic_id, boot_cr3, efer, cpu_index
        uint64_t kernel_cr3, stack_top, entry
    const char smp_trampoline_start[]
    const char smp_trampoline_end[]
    void smp_ap_entry64()

cdef enum:
    AP_KSTACK_PAGES = 4
    IST_STACK_PAGES = 4
    NS_PER_US = 1000
    US_PER_SEC = 1000000
    # INIT, 10 ms, STARTUP, 200 us, STARTUP (Intel MP spec B.4; the one 10 ms covers all APs).
    INIT_DELAY_US = 10000
    SIPI_DELAY_US = 200
    IPI_SEND_TIMEOUT_NS = 10000000
    # How long an AP may take: to reach smp_ap_main, then to finish its set-up.  Generous:
    # under the nested KVM here every kernel instruction is emulated.
    CALLIN_TIMEOUT_US = 1000000
    ONLINE_TIMEOUT_US = 2000000
    TIMER_PROOF_DELAY_NS = 100000
    TIMER_PROOF_TIMEOUT_US = 100000
    # The TSC check: each side loops this long (its own TSC) or this many times.
    TSC_CHECK_US = 2000
    TSC_CHECK_MAX_ROUNDS = 100000
    TSC_GO_TIMEOUT_US = 1000000
    CPUID_EXT_MAX = 0x80000000
    CPUID_POWER_MGMT = 0x80000007
    CPUID_EDX_INVARIANT_TSC = 1 << 8
    EFER_LME = 1 << 8
    BOOT_ROOT_LIMIT = 0x100000000       # the trampoline loads CR3 in 32-bit mode
    XAPIC_MAX_ID = 0xFF                 # the trampoline checks CPUID's 8-bit initial APIC ID
    # ap_state values
    AP_OFF = 0
    AP_CALLED_IN = 1
    AP_TSC_READY = 2
    AP_ONLINE = 3
    AP_FAILED = 4

cdef volatile uint32_t ap_state[NR_CPUS]
cdef uint64_t ist_tops[NR_CPUS][IST_STACKS]
cdef volatile uint64_t timer_proofs[NR_CPUS]
cdef uint32_t online
cdef spinlock tsc_lock
cdef volatile uint64_t last_tsc               # tsc_lock
cdef uint64_t max_warp                        # tsc_lock
cdef uint64_t tsc_rounds                      # tsc_lock
cdef volatile uint32_t tsc_go                 # the AP the boot CPU is checking against
cdef bint tsc_sync_ok

cdef inline uint64_t us_to_tsc(uint64_t us) noexcept nogil:
    return us * (tsc_hz() // US_PER_SEC)

cdef void delay_us(uint64_t us) noexcept nogil:
    cdef uint64_t start = rdtsc(), span = us_to_tsc(us)
    while rdtsc() - start < span:
        cpu_relax()

cdef bint wait_state(uint32_t cpu, uint32_t state, uint64_t timeout_us) noexcept nogil:
    """Wait until the AP reaches `state` (or beyond); False on timeout."""
    cdef uint64_t start = rdtsc(), span = us_to_tsc(timeout_us)
    while ap_state[cpu] < state:
        if rdtsc() - start > span:
            return False
        cpu_relax()
    return True

cdef const uint8_t *map_phys(uint64_t phys, uint64_t length) noexcept nogil:
    """ACPI tables through the direct map (firmware tables may lie outside usable RAM)."""
    if paging_map_direct(phys & ~(<uint64_t>PAGE_SIZE - 1),
                         (phys & (PAGE_SIZE - 1)) + length) != PAGING_OK:
        return NULL
    return <const uint8_t *>phys_to_virt(phys)

# ------------------------------------------------------------------ the TSC check

cdef void tsc_check_side() noexcept nogil:
    """Both CPUs loop: under tsc_lock, read the TSC and compare with the last reading either
    CPU made.  In-sync TSCs never step backwards; the largest backwards step is the warp."""
    global last_tsc, max_warp, tsc_rounds
    cdef uint64_t start = rdtsc(), span = us_to_tsc(TSC_CHECK_US), prev, now, flags
    cdef uint32_t i
    for i in range(TSC_CHECK_MAX_ROUNDS):
        flags = spinlock_acquire(&tsc_lock)
        prev = last_tsc
        now = rdtsc()
        last_tsc = now
        if prev > now and prev - now > max_warp:
            max_warp = prev - now
        tsc_rounds += 1
        spinlock_release(&tsc_lock, flags)
        if now - start > span:
            break

cdef bint tsc_invariant() noexcept nogil:
    cdef uint32_t r[4]
    cpuid(CPUID_EXT_MAX, 0, r)
    if r[0] < CPUID_POWER_MGMT:
        return False
    cpuid(CPUID_POWER_MGMT, 0, r)
    return (r[3] & CPUID_EDX_INVARIANT_TSC) != 0

# ------------------------------------------------------------------ the AP side

cdef void timer_proof_tick(trap_frame *frame) noexcept nogil:
    timer_proofs[percpu_cpu_index()] += 1
    lapic_eoi()

cdef bint prove_timer(uint32_t cpu) noexcept nogil:
    """One interrupt from this CPU's local APIC timer, set up as the boot CPU's."""
    cdef uint64_t start, count
    if clock_uses_tsc_deadline():
        lapic_timer_deadline_mode(VECTOR_AP_TIMER_PROOF)
        lapic_timer_set_deadline(rdtsc() + us_to_tsc(TIMER_PROOF_DELAY_NS // NS_PER_US))
    elif clock_timer_hz() != 0:
        count = clock_timer_hz() * TIMER_PROOF_DELAY_NS // (US_PER_SEC * NS_PER_US)
        lapic_timer_oneshot(<uint32_t>count, VECTOR_AP_TIMER_PROOF)
    else:
        return False
    start = rdtsc()
    irq_enable()
    while timer_proofs[cpu] == 0 and rdtsc() - start < us_to_tsc(TIMER_PROOF_TIMEOUT_US):
        cpu_relax()
    irq_disable()
    return timer_proofs[cpu] != 0

cdef void smp_ap_main(uint32_t cpu) noexcept nogil:
    percpu_init_cpu(cpu, percpu_of(cpu).apic_id)
    atomic_store_release(&ap_state[cpu], AP_CALLED_IN)
    gdt_init_cpu(cpu, ist_tops[cpu])
    trap_load_idt()
    fpu_init_cpu()
    lapic_enable_this_cpu()
    prove_timer(cpu)
    atomic_store_release(&ap_state[cpu], AP_TSC_READY)
    cdef uint64_t start = rdtsc()
    while tsc_go != cpu and rdtsc() - start < us_to_tsc(TSC_GO_TIMEOUT_US):
        cpu_relax()
    if tsc_go == cpu:
        tsc_check_side()
    clock_init_cpu()                    # the scheduler's timer on this CPU
    atomic_store_release(&ap_state[cpu], AP_ONLINE)
    if sched_cpus_online() > 0:
        sched_ap_main(cpu)              # this CPU runs threads from now on; never returns
    while True:
        cpu_idle()                      # sti; hlt: no scheduler (start-up tests)

# ------------------------------------------------------------------ the boot CPU side

cdef uint64_t build_boot_root() noexcept nogil:
    """Tables for the trampoline: the kernel's upper half plus the first 2 MiB identity-
    mapped (the trampoline page).  Below 4 GiB; PMM_NO_FRAME if not possible."""
    cdef uint64_t pml4 = pmm_alloc_frame(), pdpt = pmm_alloc_frame(), pd = pmm_alloc_frame()
    cdef uint64_t *t
    if pml4 == PMM_NO_FRAME or pdpt == PMM_NO_FRAME or pd == PMM_NO_FRAME or \
            pml4 >= BOOT_ROOT_LIMIT or pdpt >= BOOT_ROOT_LIMIT or pd >= BOOT_ROOT_LIMIT:
        if pml4 != PMM_NO_FRAME:
            pmm_free_frame(pml4)
        if pdpt != PMM_NO_FRAME:
            pmm_free_frame(pdpt)
        if pd != PMM_NO_FRAME:
            pmm_free_frame(pd)
        return PMM_NO_FRAME
    t = <uint64_t *>phys_to_virt(pml4)
    memcpy(t, phys_to_virt(paging_kernel_root()), PAGE_SIZE)
    t[0] = pdpt | PTE_PRESENT | PTE_WRITE
    t = <uint64_t *>phys_to_virt(pdpt)
    memset(t, 0, PAGE_SIZE)
    t[0] = pd | PTE_PRESENT | PTE_WRITE
    t = <uint64_t *>phys_to_virt(pd)
    memset(t, 0, PAGE_SIZE)
    t[0] = PTE_PRESENT | PTE_WRITE | PTE_HUGE
    return pml4

cdef void free_boot_root(uint64_t pml4) noexcept nogil:
    cdef uint64_t pdpt = (<uint64_t *>phys_to_virt(pml4))[0] & ~(<uint64_t>PAGE_SIZE - 1)
    cdef uint64_t pd = (<uint64_t *>phys_to_virt(pdpt))[0] & ~(<uint64_t>PAGE_SIZE - 1)
    pmm_free_frame(pd)
    pmm_free_frame(pdpt)
    pmm_free_frame(pml4)

cdef bint alloc_stacks(uint32_t cpu, uint64_t *kstack_top) noexcept nogil:
    cdef int i
    for i in range(IST_STACKS):
        ist_tops[cpu][i] = kstack_alloc(IST_STACK_PAGES)
        if ist_tops[cpu][i] == KSTACK_NONE:
            return False
    kstack_top[0] = kstack_alloc(AP_KSTACK_PAGES)
    return kstack_top[0] != KSTACK_NONE

cdef void report_cpu(uint32_t cpu, uint32_t apic_id, const char *what) noexcept nogil:
    kputs(b"tyn: smp: CPU ")
    kput_udec(cpu)
    kputs(b" (APIC ID ")
    kput_udec(apic_id)
    kputs(b") ")
    kputs(what)
    kputs(b"; skipped\n")

cdef bint start_ap(uint32_t cpu, uint32_t apic_id, smp_trampoline_params *params) noexcept nogil:
    """STARTUP IPIs to one AP (INIT already sent), then its set-up and TSC check."""
    global tsc_go, tsc_sync_ok
    cdef uint64_t kstack_top
    if not alloc_stacks(cpu, &kstack_top):
        report_cpu(cpu, apic_id, b"has no memory for its stacks")
        return False
    percpu_of(cpu).apic_id = apic_id
    params.apic_id = apic_id
    params.cpu_index = cpu
    params.stack_top = kstack_top
    ap_state[cpu] = AP_OFF
    lapic_send_ipi(apic_id, APIC_DM_STARTUP | <uint32_t>(SMP_TRAMPOLINE_PHYS // PAGE_SIZE), IPI_SEND_TIMEOUT_NS)
    if not wait_state(cpu, AP_CALLED_IN, SIPI_DELAY_US):
        lapic_send_ipi(apic_id, APIC_DM_STARTUP | <uint32_t>(SMP_TRAMPOLINE_PHYS // PAGE_SIZE),
                       IPI_SEND_TIMEOUT_NS)
        if not wait_state(cpu, AP_CALLED_IN, CALLIN_TIMEOUT_US):
            # Back to wait-for-SIPI; if it runs the trampoline later anyway, the APIC ID
            # check parks it.  Its stacks are not reused.
            lapic_send_ipi(apic_id, APIC_DM_INIT | APIC_INT_ASSERT | APIC_INT_LEVELTRIG, IPI_SEND_TIMEOUT_NS)
            ap_state[cpu] = AP_FAILED
            report_cpu(cpu, apic_id, b"did not answer INIT/SIPI")
            return False
    if not wait_state(cpu, AP_TSC_READY, ONLINE_TIMEOUT_US):
        report_cpu(cpu, apic_id, b"started but did not finish its set-up")
        return False
    if timer_proofs[cpu] == 0 and (clock_uses_tsc_deadline() or clock_timer_hz() != 0):
        report_cpu(cpu, apic_id, b"raised no local APIC timer interrupt")
    tsc_go = cpu
    tsc_check_side()
    if not wait_state(cpu, AP_ONLINE, ONLINE_TIMEOUT_US):
        report_cpu(cpu, apic_id, b"did not finish the TSC check")
        return False
    return True

cdef void report_tsc() noexcept nogil:
    kputs(b"tyn: smp: TSC ")
    kputs(b"invariant" if tsc_invariant() else b"not invariant (CPUID 80000007h)")
    if online < 2:
        kputs(b"\n")
        return
    if max_warp == 0:
        kputs(b", in sync across CPUs: max skew 0 cycles in ")
    else:
        kputs(b", NOT in sync across CPUs: a CPU read up to ")
        kput_udec(max_warp)
        kputs(b" cycles (")
        kput_udec(tsc_to_ns(max_warp, tsc_hz()))
        kputs(b" ns) behind another, in ")
    kput_udec(tsc_rounds)
    kputs(b" handshakes\n")

cdef void smp_init() noexcept nogil:
    global online, tsc_sync_ok
    cdef acpi_madt_info madt
    cdef int rc
    cdef uint32_t i, cpu, bsp_id = lapic_id(), aps = 0
    cdef uint64_t boot_root, t0, trampoline_size, elapsed_us
    cdef smp_trampoline_params *params
    online = 1
    tsc_sync_ok = True
    percpu_of(0).apic_id = bsp_id
    spinlock_init(&tsc_lock, b"smp_tsc_check", SPINLOCK_RANK_SMP_BOOT)
    rc = acpi_find_madt(map_phys, &madt)
    if rc != ACPI_OK:
        kputs(b"tyn: smp: 1 CPU (no ACPI MADT: ")
        kputs(acpi_error_name(rc))
        kputs(b")\n")
        return
    for i in range(madt.cpu_count):
        if madt.cpus[i].apic_id != bsp_id:
            aps += 1
    t0 = rdtsc()
    if aps > 0:
        trampoline_size = linker_symbol(smp_trampoline_end) - linker_symbol(smp_trampoline_start)
        boot_root = build_boot_root()
        if boot_root == PMM_NO_FRAME or tsc_hz() == 0 or trampoline_size > SMP_TRAMPOLINE_PARAMS:
            kputs(b"tyn: smp: cannot start APs (no page tables below 4 GiB or no TSC frequency)\n")
            aps = 0
        else:
            memcpy(phys_to_virt(SMP_TRAMPOLINE_PHYS), smp_trampoline_start, trampoline_size)
            params = <smp_trampoline_params *>phys_to_virt(SMP_TRAMPOLINE_PHYS + SMP_TRAMPOLINE_PARAMS)
            params.boot_cr3 = <uint32_t>boot_root
            params.efer = EFER_LME | (<uint32_t>(rdmsr(MSR_EFER) & EFER_NXE))
            params.kernel_cr3 = paging_kernel_root()
            params.entry = <uint64_t>smp_ap_entry64
            params.apic_id = XAPIC_MAX_ID + 1           # nobody, until start_ap names a CPU
            trap_set_handler(VECTOR_AP_TIMER_PROOF, timer_proof_tick)
            for i in range(madt.cpu_count):
                if madt.cpus[i].apic_id != bsp_id:
                    lapic_send_ipi(madt.cpus[i].apic_id, APIC_DM_INIT | APIC_INT_ASSERT | APIC_INT_LEVELTRIG,
                                   IPI_SEND_TIMEOUT_NS)
            delay_us(INIT_DELAY_US)
            cpu = 1
            for i in range(madt.cpu_count):
                if madt.cpus[i].apic_id == bsp_id:
                    continue
                if madt.cpus[i].apic_id > XAPIC_MAX_ID:
                    report_cpu(cpu, madt.cpus[i].apic_id, b"has an APIC ID the trampoline cannot check")
                elif start_ap(cpu, madt.cpus[i].apic_id, params):
                    online += 1
                cpu += 1
            params.apic_id = XAPIC_MAX_ID + 1
            free_boot_root(boot_root)
    elapsed_us = tsc_to_ns(rdtsc() - t0, tsc_hz()) // NS_PER_US
    kputs(b"tyn: smp: ")
    kput_udec(online)
    kputs(b" CPU (MADT: " if online == 1 else b" CPUs (MADT: ")
    kput_udec(madt.cpu_count)
    if madt.cpus_dropped:
        kputs(b", ")
        kput_udec(madt.cpus_dropped)
        kputs(b" more than the kernel keeps")
    kputs(b")")
    if aps > 0:
        kputs(b", APs up in ")
        kput_udec(elapsed_us)
        kputs(b" us")
    kputs(b"\n")
    tsc_sync_ok = max_warp == 0
    report_tsc()

cdef uint32_t smp_cpus_online() noexcept nogil:
    return online

cdef bint smp_tsc_in_sync() noexcept nogil:
    return tsc_sync_ok

cdef uint64_t smp_tsc_max_warp() noexcept nogil:
    return max_warp
