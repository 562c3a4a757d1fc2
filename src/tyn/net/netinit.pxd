# Bringing the IPv4 stack up: net_reset (all state to empty, lo up; tests call it too) and
# net_init (the kernel: an interface per registered netdev, configuration from the command
# line, the stack's kernel timer).
from libc.stdint cimport uint32_t

# Forget all stack state (interfaces, caches, pcbs, buffers, counters) and bring up lo.
# Devices stay registered.  Called with net_lock held.
cdef extern void net_reset() noexcept nogil
# Kernel bring-up, after the NIC drivers registered their netdevs; takes net_lock.  A
# kernel without a NIC gets lo only.  Returns the number of Ethernet interfaces.
cdef extern uint32_t net_init() noexcept nogil
# Re-arm the stack's kernel timer for netif_next_deadline_ns() (call with net_lock held
# after entering the stack from outside the driver and timer paths, e.g. a socket call).
cdef extern void net_timer_update() noexcept nogil

cdef enum:
    NET_WAIT_DEFAULT_S = 5          # net_wait=: how long init waits for a DHCP lease

# Kernel boot, before init: wait (sleeping) until the default interface is configured, at
# most net_wait= seconds, and say its address on the console.  Interrupts must work.
cdef extern void net_wait_for_address() noexcept nogil
