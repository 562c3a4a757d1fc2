# The TCP pcb table: allocation under the global cap, the 4-tuple hash, listeners, local
# ports (SO_REUSEADDR, ephemeral allocation), and the module-wide state every tcp_*
# module shares: counters, tunables, the clock and the hooks to the outside.
# Protected by net_lock (held by every caller).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from tyn.net.netdev cimport netdev_tx_offload
from tyn.net.tcp_types cimport (tcp_pcb, tcp_stats, tcp_tunables, tcp_output_fn, tcp_event_fn,
                                tcp_route_fn, tcp_clock_fn)

# Forget every pcb (without freeing: for a fresh start) and restore the defaults.
cdef extern void tcp_pcb_init() noexcept nogil
cdef extern tcp_stats *tcp_pcb_stats() noexcept nogil
cdef extern tcp_tunables *tcp_pcb_tunables() noexcept nogil

# Time: the clock hook when set, else the latest time tcp_timers_run was given.
cdef extern uint64_t tcp_pcb_now() noexcept nogil
cdef extern void tcp_pcb_note_time(uint64_t now_ns) noexcept nogil
cdef extern void tcp_pcb_set_clock(tcp_clock_fn fn) noexcept nogil

# Hooks.
cdef extern void tcp_pcb_set_output(tcp_output_fn fn) noexcept nogil
cdef extern void tcp_pcb_set_event_hook(tcp_event_fn fn) noexcept nogil
cdef extern void tcp_pcb_set_route(tcp_route_fn fn) noexcept nogil
# Send a finished segment; 0 or -errno (counted).
# ttl 0: the default (IPDEFTTL).
# offload: what the device finishes (tcp_output_fn), or NULL.
cdef extern int tcp_pcb_transmit(uint32_t src, uint32_t dst, uint8_t tos, uint8_t ttl,
                                 const uint8_t *segment, uint32_t len,
                                 const netdev_tx_offload *offload) noexcept nogil
# Tell the socket layer about events (TCP_EVENT_* bits).
cdef extern void tcp_pcb_event(tcp_pcb *pcb, uint32_t events) noexcept nogil
# Source address, MSS and the device's transmit offloads towards dst (0 or -ENETUNREACH).
# Without a route hook the source stays as given, the MSS is Ethernet's, no offloads.
cdef extern int tcp_pcb_route(uint32_t dst, uint32_t *src, uint16_t *mss, uint32_t *offloads) noexcept nogil

# A zeroed pcb with the defaults, on the all-pcbs list; NULL at the cap (a TIME-WAIT pcb
# is recycled first) or when the heap is exhausted.
cdef extern tcp_pcb *tcp_pcb_alloc() noexcept nogil
# Unhash, free buffers, free.
cdef extern void tcp_pcb_free(tcp_pcb *pcb) noexcept nogil
cdef extern uint32_t tcp_pcb_count() noexcept nogil
cdef extern tcp_pcb *tcp_pcb_first() noexcept nogil

# Enter/leave the 4-tuple hash (connections) or the listener table (state LISTEN).
cdef extern void tcp_pcb_hash(tcp_pcb *pcb) noexcept nogil
cdef extern void tcp_pcb_unhash(tcp_pcb *pcb) noexcept nogil
cdef extern tcp_pcb *tcp_pcb_lookup(uint32_t local_addr, uint16_t local_port,
                                    uint32_t remote_addr, uint16_t remote_port) noexcept nogil
# The listener for (addr, port): an exact address before the wildcard.
cdef extern tcp_pcb *tcp_pcb_lookup_listener(uint32_t local_addr, uint16_t local_port) noexcept nogil

# Would binding (addr, port) with reuse conflict with a pcb other than self (Linux's
# SO_REUSEADDR rules: both reuse and the other is not listening; TIME-WAIT yields to reuse)?
cdef extern bint tcp_pcb_port_conflict(tcp_pcb *self, uint32_t addr, uint16_t port, bint reuse) noexcept nogil
# A free ephemeral port (search starting at a keyed hash of the destination); 0 if none.
cdef extern uint16_t tcp_pcb_ephemeral_port(tcp_pcb *self, uint32_t local_addr, uint32_t remote_addr,
                                            uint16_t remote_port) noexcept nogil

# Move pcb to CLOSED: timers off, out of the hash, send queue freed.  A half-open child
# or a pcb the socket has let go is freed (returns True); otherwise the socket learns err
# (positive errno, 0 for none) through so_error and an event.
cdef extern bint tcp_pcb_terminate(tcp_pcb *pcb, int err) noexcept nogil
# The window scale we offer: enough for the largest receive buffer allowed (Linux sizes
# it from tcp_rmem[2] the same way).
cdef extern uint8_t tcp_pcb_wscale() noexcept nogil
