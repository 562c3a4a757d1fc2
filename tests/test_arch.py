"""arch/: GDT/TSS encoding, IDT gates, trap dispatch and the panic report, symbols, TSC math."""
import pytest

from tyn.twins import arch_twin as arch, machine, console_twin

SEL_KERNEL_CODE, SEL_KERNEL_DATA, SEL_USER_CODE32, SEL_USER_DATA, SEL_USER_CODE, SEL_TSS = 8, 16, 24, 32, 40, 48


@pytest.fixture(autouse=True)
def fresh():
    machine.reset()
    console_twin.init()


def access(d):
    return (d >> 40) & 0xFF


def flags(d):
    return (d >> 52) & 0xF


def test_gdt_segments():
    d = arch.gdt([0x1000, 0x2000, 0x3000])
    assert d[0] == 0
    kc, kd, uc32, ud, uc = (d[s >> 3] for s in (SEL_KERNEL_CODE, SEL_KERNEL_DATA, SEL_USER_CODE32,
                                                  SEL_USER_DATA, SEL_USER_CODE))
    dpl = lambda x: (access(x) >> 5) & 3
    present = lambda x: access(x) & 0x80
    executable = lambda x: access(x) & 0x08
    long_mode = lambda x: flags(x) & 0x2
    assert all(present(x) for x in (kc, kd, uc32, ud, uc))
    assert (dpl(kc), dpl(kd), dpl(ud), dpl(uc)) == (0, 0, 3, 3)
    assert executable(kc) and executable(uc) and not executable(kd) and not executable(ud)
    assert long_mode(kc) and long_mode(uc) and not long_mode(uc32)
    # SYSRET's layout: user data right below 64-bit user code, kernel data right after kernel code.
    assert SEL_USER_CODE - SEL_USER_DATA == 8 and SEL_KERNEL_DATA - SEL_KERNEL_CODE == 8


def test_tss_descriptor_points_at_a_104_byte_tss():
    d = arch.gdt([1, 2, 3])
    low, high = d[SEL_TSS >> 3], d[(SEL_TSS >> 3) + 1]
    assert access(low) == 0x89                      # present, 64-bit TSS available
    assert (low & 0xFFFF) == 103
    base = ((low >> 16) & 0xFFFFFF) | (((low >> 56) & 0xFF) << 24) | (high << 32)
    assert base != 0


def test_idt_gates_use_the_stubs_and_ist_for_critical_vectors():
    arch.idt_init()
    # Present 64-bit interrupt gates; only int3 (#BP) may be raised from ring 3 (DPL 3, as
    # Linux: a program's int3 gets SIGTRAP, every other vector from user mode #GP).
    BREAKPOINT, KERNEL_ONLY, USER_ALLOWED = 3, 0x8E, 0xEE
    for v in range(256):
        g = arch.gate(v)
        assert g["selector"] == SEL_KERNEL_CODE
        assert g["type_attr"] == (USER_ALLOWED if v == BREAKPOINT else KERNEL_ONLY), v
    assert arch.gate(8)["ist"] == 1 and arch.gate(2)["ist"] == 2 and arch.gate(18)["ist"] == 3
    assert arch.gate(14)["ist"] == 0 and arch.gate(32)["ist"] == 0


def test_registered_handler_gets_its_vector():
    arch.idt_init()
    arch.install_counting_handler(40)
    assert not arch.dispatch(40)
    assert arch.handled_count() == 1


def test_unregistered_interrupt_is_counted_not_fatal():
    arch.idt_init()
    before = arch.unexpected_count()
    assert not arch.dispatch(77)
    assert arch.unexpected_count() == before + 1
    assert b"unexpected interrupt vector 77" in machine.console()
    assert not arch.dispatch(0xFF)                  # spurious: silent
    assert arch.unexpected_count() == before + 1


def test_kernel_exception_panics_with_a_report_and_exit_127():
    arch.idt_init()
    assert arch.dispatch(14, error_code=0x2, rip=0xFFFFFFFF80101234)
    out = machine.console().decode()
    assert "PANIC: exception 14 #PF page fault, error code 0x2 (write, page not present, kernel mode)" in out
    assert "RIP=0xffffffff80101234" in out
    for reg in ("CR2", "CR3", "RAX", "R15", "RSP", "CS ", "SS "):
        assert reg in out
    assert "backtrace:" in out
    assert machine.exit_status() == 127


@pytest.mark.parametrize("vector,name", [(0, b"#DE divide error"), (8, b"#DF double fault"),
                                         (13, b"#GP general protection"), (31, b"reserved exception")])
def test_exception_names(vector, name):
    assert arch.name(vector) == name


def test_symbol_lookup():
    table = [(0x1000, b"a"), (0x1100, b"b"), (0x2000, b"c")]
    assert arch.lookup(table, 0x0FFF) is None
    assert arch.lookup(table, 0x1000) == (b"a", 0)
    assert arch.lookup(table, 0x10FF) == (b"a", 0xFF)
    assert arch.lookup(table, 0x1100) == (b"b", 0)
    assert arch.lookup(table, 0x2005) == (b"c", 5)
    assert arch.lookup(table, 0x2000 + 0x10001) is None     # too far past the last symbol
    assert arch.lookup([], 0x1000) is None


@pytest.mark.parametrize("ticks,hz", [(0, 10**9), (2_500_000_000, 2_500_000_000), (1, 3),
                                      (2**64 - 1, 2_400_000_000), (123456789012345, 1_193_182)])
def test_tsc_to_ns_is_exact_floor(ticks, hz):
    assert arch.to_ns(ticks, hz) == ticks * 10**9 // hz


@pytest.mark.parametrize("hz", [1_193_182, 62_500_000, 1_000_000_000, 2_445_424_000, 3_999_999_000, 5_000_000_000])
def test_kvmclock_scale_gives_back_the_tsc_frequency(hz):
    """KVM's scale (kvm_get_time_scale: shift so the ratio 1e9/hz lands in [0.5, 1), then
    mul = ratio * 2^32) turned back into Hz, within the scale's own precision."""
    shift, ratio = 0, 10**9 / hz
    while ratio >= 1:
        ratio, shift = ratio / 2, shift + 1
    while ratio < 0.5:
        ratio, shift = ratio * 2, shift - 1
    mul = int(ratio * 2**32)
    got = arch.kvmclock_hz(mul, shift)
    assert abs(got - hz) <= hz / 2**30 + 1


def test_kvmclock_scale_rejects_nonsense():
    assert arch.kvmclock_hz(0, 0) == 0
    assert arch.kvmclock_hz(1 << 31, 40) == 0
