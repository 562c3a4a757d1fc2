# Host face of arch/: descriptor tables, trap dispatch, panic report, symbols, time math.
from libc.stdint cimport uint64_t
from libc.string cimport memset
from tyn.arch.gdt cimport gdt_init, gdt_descriptor, IST_STACKS
from tyn.arch.trap cimport trap_init, trap_dispatch, trap_set_handler, trap_gate, trap_unexpected_count
from tyn.arch.trapframe cimport trap_frame
from tyn.arch.panic cimport exception_name, print_backtrace
from tyn.arch.tsc cimport tsc_to_ns
from tyn.arch.kvmclock cimport kvmclock_scale_to_hz
from tyn.lib.symbols cimport ksym, symbol_lookup_in
from tyn.twins.hostsim cimport host_call_catching_halt

def gdt(ist_tops):
    cdef uint64_t tops[IST_STACKS]
    for i in range(IST_STACKS):
        tops[i] = ist_tops[i]
    gdt_init(tops)
    return [gdt_descriptor(i) for i in range(8)]

def idt_init():
    trap_init()

def gate(int vector):
    g = trap_gate(vector)
    offset = g.offset_low | (<uint64_t>g.offset_mid << 16) | (<uint64_t>g.offset_high << 32)
    return {"offset": offset, "selector": g.selector, "ist": g.ist, "type_attr": g.type_attr}

cdef trap_frame frame
cdef int handled

cdef void count_handler(trap_frame *f) noexcept nogil:
    global handled
    handled += 1

cdef void dispatch_frame(void *arg) noexcept nogil:
    trap_dispatch(&frame)

def dispatch(int vector, unsigned long long error_code=0, unsigned long long rip=0x1234,
             unsigned long long rbp=0):
    """trap_dispatch a synthetic frame; returns whether the CPU was halted (a panic)."""
    memset(&frame, 0, sizeof(frame))
    frame.vector = vector
    frame.error_code = error_code
    frame.rip = rip
    frame.rbp = rbp
    frame.cs = 8
    return bool(host_call_catching_halt(dispatch_frame, NULL))

def install_counting_handler(int vector):
    global handled
    handled = 0
    trap_set_handler(vector, count_handler)

def handled_count():
    return handled

def unexpected_count():
    return trap_unexpected_count()

def name(unsigned long long vector) -> bytes:
    return <bytes>exception_name(vector)

def to_ns(unsigned long long ticks, unsigned long long hz):
    return tsc_to_ns(ticks, hz)

def kvmclock_hz(unsigned int mul, int shift):
    return kvmclock_scale_to_hz(mul, shift)

def lookup(table, unsigned long long address):
    """symbol_lookup_in over [(address, name)...]; returns (name, offset) or None."""
    cdef ksym entries[64]
    names = [n for _, n in table]
    for i, (a, n) in enumerate(table):
        entries[i].address = a
        entries[i].name = names[i]
    cdef uint64_t offset = 0
    cdef const char *found = symbol_lookup_in(entries, len(table), address, &offset)
    return None if found == NULL else (<bytes>found, offset)
