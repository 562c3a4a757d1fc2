# TCP (RFC 9293): the constants and data structures shared by the tcp_* modules.
#
# Ownership and locking: every structure here (pcbs, their buffers, the pcb table, the
# counters and tunables) belongs to the network stack and is protected by net_lock
# (net/netlock.pxd).  All tcp_* entry points are called with net_lock held and never
# take a lock themselves; callbacks (output, events) run with it still held.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.net.wire_ipv4 cimport IPPROTO_TCP      # defined once, with the other protocol numbers
from tyn.net.netdev cimport netdev_tx_offload

cdef enum:
    # Header (RFC 9293 §3.1).
    TCP_HEADER_LEN = 20
    TCP_MAX_HEADER_LEN = 60
    TCP_MAX_OPTIONS_LEN = 40
    TCP_DATA_OFFSET_MIN = 5             # in 32-bit words

    # Control bits (byte 13).
    TCP_FIN = 0x01
    TCP_SYN = 0x02
    TCP_RST = 0x04
    TCP_PSH = 0x08
    TCP_ACK = 0x10
    TCP_URG = 0x20
    TCP_ECE = 0x40
    TCP_CWR = 0x80

    # Option kinds and lengths (IANA; RFC 9293, RFC 7323, RFC 2018).
    TCPOPT_EOL = 0
    TCPOPT_NOP = 1
    TCPOPT_MSS = 2
    TCPOPT_WINDOW = 3
    TCPOPT_SACK_PERM = 4
    TCPOPT_SACK = 5
    TCPOPT_TIMESTAMP = 8
    TCPOLEN_MSS = 4
    TCPOLEN_WINDOW = 3
    TCPOLEN_SACK_PERM = 2
    TCPOLEN_TIMESTAMP = 10
    TCPOLEN_SACK_BASE = 2               # kind, length; then 8 bytes per block (RFC 2018 §3)
    TCPOLEN_SACK_PERBLOCK = 8
    TCP_MAX_SACK_BLOCKS = 4             # what 40 option bytes hold (NOP NOP + 2 + 4 * 8 = 36)
    TCP_MAX_WSCALE = 14                 # RFC 7323 §2.3
    TCP_MAX_WINDOW_FIELD = 65535

    # MSS: RFC 9293 MUST-15 default when the peer sends none; our advertisement when the
    # route gives no MTU is Ethernet's (1500 - 20 IPv4 - 20 TCP).
    TCP_DEFAULT_MSS = 536
    TCP_MSS_ETHERNET = 1460
    TCP_MIN_MSS = 88                    # Linux's TCP_MIN_MSS: a peer MSS below is raised
    TCP_MAX_SEGMENT = 65535             # largest segment we build (loopback MTU 65536)
    TCP_IPV4_OVERHEAD = 40              # IPv4 + TCP headers without options
    TCP_CHECKSUM_OFFSET = 16            # of the checksum field in the header
    # Data of one segment the device cuts up (NETDEV_OFFLOAD_TSO4): the IP datagram stays
    # within 65535 bytes whatever the options (Linux: GSO_MAX_SIZE 65536).
    TCP_TSO_MAX_DATA = TCP_MAX_SEGMENT - (TCP_IPV4_OVERHEAD - TCP_HEADER_LEN) - TCP_MAX_HEADER_LEN

    # States (RFC 9293 §3.3.2), in RFC order.
    TCP_CLOSED = 0
    TCP_LISTEN = 1
    TCP_SYN_SENT = 2
    TCP_SYN_RECEIVED = 3
    TCP_ESTABLISHED = 4
    TCP_FIN_WAIT_1 = 5
    TCP_FIN_WAIT_2 = 6
    TCP_CLOSE_WAIT = 7
    TCP_CLOSING = 8
    TCP_LAST_ACK = 9
    TCP_TIME_WAIT = 10
    TCP_STATE_COUNT = 11

    # tcp_pcb.flags
    TF_NODELAY = 1 << 0                 # TCP_NODELAY: Nagle off
    TF_KEEPALIVE = 1 << 1               # SO_KEEPALIVE
    TF_REUSEADDR = 1 << 2               # SO_REUSEADDR
    TF_ACK_NOW = 1 << 3                 # an ACK must go out with the next output
    TF_ACK_DELAYED = 1 << 4             # an ACK is owed; the delayed-ACK timer is running
    TF_FIN_QUEUED = 1 << 5              # shutdown(SHUT_WR)/close: FIN after the queued data
    TF_FIN_SENT = 1 << 6
    TF_RD_SHUTDOWN = 1 << 7             # shutdown(SHUT_RD)
    TF_USER_CLOSED = 1 << 8             # the socket let go: the stack frees the pcb when done
    TF_IN_RECOVERY = 1 << 9             # NewReno fast recovery (RFC 6582)
    TF_WSCALE = 1 << 10                 # window scaling agreed (both SYNs carried it)
    TF_RTT_TIMING = 1 << 11             # one segment is being timed (rtt_seq)
    TF_EOF = 1 << 12                    # the peer's FIN was received in order
    TF_PASSIVE = 1 << 13                # opened from a listener (SYN-RECEIVED returns to LISTEN)
    TF_OOO_FIN = 1 << 14                # a FIN arrived beyond a hole, at ooo_fin_seq
    TF_BOUND = 1 << 15
    TF_ACCEPT_QUEUED = 1 << 16          # on its listener's accept queue
    TF_SEND_WSCALE = 1 << 17            # offer window scaling in our SYN
    TF_FORCE_SEND = 1 << 18             # persist timer: send into a small window
    TF_SEND_TSTAMP = 1 << 19            # offer timestamps in our SYN (RFC 7323 §3.2)
    TF_TSTAMP = 1 << 20                 # timestamps agreed: every segment but RST carries them
    TF_RCVBUF_LOCK = 1 << 21            # SO_RCVBUF was set: no autotuning (tcp_rcvspace)
    TF_SNDBUF_LOCK = 1 << 22            # SO_SNDBUF was set: no autotuning (tcp_sndspace)
    TF_SEND_SACK = 1 << 23              # offer SACK-permitted in our SYN (RFC 2018 §2)
    TF_SACK = 1 << 24                   # SACK agreed (both SYNs carried SACK-permitted)
    TF_DSACK = 1 << 25                  # a D-SACK block (RFC 2883) goes first in the next ACK

    TCPOLEN_TSTAMP_ALIGNED = 12         # NOP, NOP, TSopt: what each segment's payload room loses
    TCP_PAWS_IDLE_MS = 24 * 24 * 3600 * 1000    # RFC 7323 §5.5: TS.Recent older than 24 days is invalid

    # shutdown(how), Linux's values.
    SHUT_RD = 0
    SHUT_WR = 1
    SHUT_RDWR = 2

    # tcp_recv flags (Linux's).
    MSG_PEEK = 0x02

    # Readiness events passed to the event hook, besides the POLL* bits.
    TCP_EVENT_IN = 0x001                # POLLIN: data, EOF, or a connection to accept
    TCP_EVENT_OUT = 0x004               # POLLOUT: send space, or connect completed
    TCP_EVENT_ERR = 0x008               # POLLERR: a pending error (SO_ERROR)
    TCP_EVENT_HUP = 0x010               # POLLHUP
    TCP_EVENT_SOFT_ERR = 0x10000        # soft_error changed (an ICMP error on a connection)
    TCP_EVENT_SEND_DONE = 0x20000       # our FIN was acknowledged (SO_LINGER's close waits for it)

    # Memory: buffers are chains of chunks of this many bytes (one 4 KiB heap block
    # with the heap's 32-byte header and ours).
    TCP_CHUNK_BYTES = 4048

    TCP_HASH_BUCKETS = 1024             # established/connecting pcbs by 4-tuple
    TCP_SOMAXCONN = 4096                # Linux's net.core.somaxconn

    # Tunable defaults (tcp_tunables), Linux's where Linux has one.
    TCP_MAX_PCBS_DEFAULT = 8192
    TCP_MEM_LIMIT_DEFAULT = 64 << 20
    TCP_WMEM_DEFAULT = 65536            # the start; grows with cwnd (tcp_sndspace) unless SO_SNDBUF
    TCP_RMEM_DEFAULT = 131072           # net.ipv4.tcp_rmem[1]
    TCP_BUF_MIN = 4096                  # tcp_rmem[0] / tcp_wmem[0]
    TCP_BUF_MAX = 4194304               # tcp_wmem[2]
    TCP_OOO_MAX_SEGS = 64
    TCP_SYN_RETRIES = 6                 # net.ipv4.tcp_syn_retries
    TCP_SYNACK_RETRIES = 5              # net.ipv4.tcp_synack_retries
    TCP_RETRIES2 = 15                   # net.ipv4.tcp_retries2
    TCP_KEEPIDLE_S = 7200               # net.ipv4.tcp_keepalive_time
    TCP_KEEPINTVL_S = 75                # net.ipv4.tcp_keepalive_intvl
    TCP_KEEPCNT = 9                     # net.ipv4.tcp_keepalive_probes
    TCP_FIN_TIMEOUT_S = 60              # net.ipv4.tcp_fin_timeout (orphaned FIN-WAIT-2)
    TCP_TIME_WAIT_MS = 60000            # Linux's TCP_TIMEWAIT_LEN (2 MSL with MSL = 30 s)
    TCP_DELACK_MS = 40                  # Linux's TCP_DELACK_MIN; RFC 9293 allows up to 500
    TCP_INVALID_RATELIMIT_MS = 500      # net.ipv4.tcp_invalid_ratelimit: challenge ACKs
    TCP_EPHEMERAL_LOW = 32768           # net.ipv4.ip_local_port_range
    TCP_EPHEMERAL_HIGH = 60999

    # RFC 6298 and RFC 6928.
    TCP_RTO_INITIAL_MS = 1000
    TCP_RTO_MIN_MS = 1000
    TCP_RTO_MAX_MS = 60000
    TCP_RTO_GRANULARITY_US = 1000       # G: our clock is finer; 1 ms keeps 4*RTTVAR sane
    TCP_INITIAL_WINDOW_SEGS = 10        # RFC 6928 IW10
    TCP_INITIAL_WINDOW_BYTES = 14600
    TCP_DUPACK_THRESHOLD = 3            # RFC 5681 §3.2; RFC 6675's DupThresh
    # The sender's scoreboard (tcp_scoreboard): SACKed ranges kept per pcb, merged.  A
    # receiver reports at most 4 blocks per ACK, so 8 ranges hold two ACKs' worth of holes.
    TCP_SACK_SCOREBOARD_RANGES = 8

    # Wire parse results.
    WIRE_TCP_OK = 0
    WIRE_TCP_ERR_SHORT = -1             # shorter than a header, or data offset past the end
    WIRE_TCP_ERR_OFFSET = -2            # data offset < 5
    WIRE_TCP_ERR_CHECKSUM = -3
    WIRE_TCP_ERR_OPTIONS = -4           # an option length of 0/1, or running past the header

# One SACK block (RFC 2018 §3): the data [left, right) was received; host order.
cdef struct tcp_sack_block:
    uint32_t left
    uint32_t right

# A parsed (or to-be-emitted) segment header; ports and numbers in host order.
cdef struct tcp_segment:
    uint16_t src_port
    uint16_t dst_port
    uint32_t seq
    uint32_t ack
    uint32_t header_len             # bytes, options included
    uint8_t flags
    uint16_t window                 # as on the wire (unscaled)
    uint16_t urgent
    bint has_mss
    uint16_t mss
    bint has_wscale
    uint8_t wscale
    bint sack_permitted
    bint has_timestamp
    uint32_t ts_val
    uint32_t ts_ecr
    uint8_t sack_count              # SACK option blocks (0: none)
    tcp_sack_block sack[TCP_MAX_SACK_BLOCKS]
    bint sack_malformed             # a SACK option with a bad length (ignored)
    const uint8_t *payload
    uint32_t payload_len
    uint8_t ip_tos                  # the TOS byte of the datagram it came in (replies copy it)

# One piece of a byte queue.
cdef struct tcp_chunk:
    tcp_chunk *next
    uint32_t start                  # first valid byte in data
    uint32_t end                    # one past the last valid byte
    uint8_t data[TCP_CHUNK_BYTES]

# A FIFO of bytes (the send queue: unacknowledged + unsent; the receive queue: in order,
# not yet read).
cdef struct tcp_bytequeue:
    tcp_chunk *head
    tcp_chunk *tail
    uint32_t len

# A received segment beyond a hole.  Segments in the list are sorted and never overlap.
cdef struct tcp_ooo_seg:
    tcp_ooo_seg *next
    uint32_t seq
    uint32_t len
    uint8_t *data                   # follows the struct in the same allocation

# Copies between the stack's buffers and the caller's memory: memcpy for kernel buffers,
# copy_from_user/copy_to_user for user ones (0 or -EFAULT).  NULL means memcpy.
ctypedef int64_t (*tcp_copy_fn)(void *dst, const void *src, uint64_t n) noexcept nogil

# Output: the agreed signature of ipv4_output_with (tos, ttl: the pcb's IP_TOS/IP_TTL,
# the default TTL resolved).
# offload (NULL: a finished segment) asks the device to finish the checksum or to cut the
# segment up, offsets counted from the segment's start: ipv4_output_offload's signature.
ctypedef int (*tcp_output_fn)(uint32_t src, uint32_t dst, uint8_t protocol, uint8_t tos, uint8_t ttl,
                              const uint8_t *payload, uint32_t len,
                              const netdev_tx_offload *offload) noexcept nogil
# Route lookup for connect and MSS: the source address to use towards dst and the MTU of
# the interface, and the transmit offloads of its device (NETDEV_OFFLOAD_*; 0 for loopback
# and devices without); 0 or -ENETUNREACH.
ctypedef int (*tcp_route_fn)(uint32_t dst, uint32_t *src, uint32_t *mtu, uint32_t *offloads) noexcept nogil
# The monotonic clock in ns.
ctypedef uint64_t (*tcp_clock_fn)() noexcept nogil
# Fills 16 secret bytes (the ISS key of RFC 6528).
ctypedef void (*tcp_secret_fn)(uint8_t *key, uint32_t len) noexcept nogil

# The protocol control block: one connection (or listener).  State (sequence variables,
# timers, congestion control) is here; the bytes live in the queues (tcp_buffers).
cdef struct tcp_pcb:
    tcp_pcb *next                   # all pcbs (tcp_pcb.pyx), doubly linked
    tcp_pcb *prev
    tcp_pcb *hash_next              # the 4-tuple bucket (SYN-SENT and later)
    int state
    uint32_t flags
    uint32_t local_addr
    uint32_t remote_addr
    uint16_t local_port
    uint16_t remote_port
    int hashed                      # which table (tcp_pcb.pyx), 0 = none

    # Send sequence space (RFC 9293 §3.3.1).  snd_max: highest sequence sent (snd_nxt
    # falls back to snd_una on a retransmission timeout).
    uint32_t iss
    uint32_t snd_una
    uint32_t snd_nxt
    uint32_t snd_max
    uint32_t snd_wnd                # scaled
    uint32_t max_snd_wnd
    uint32_t snd_wl1
    uint32_t snd_wl2
    uint8_t snd_wscale
    uint8_t rcv_wscale
    uint16_t mss                    # sender MSS: the peer's, capped by ours
    uint16_t adv_mss                # what our SYN advertised
    uint16_t peer_mss
    uint32_t tx_offloads            # NETDEV_OFFLOAD_* of the route's device (set with adv_mss)

    # Receive sequence space.
    uint32_t irs
    uint32_t rcv_nxt
    uint32_t rcv_adv                # right edge of the window last advertised
    uint32_t last_ack_sent

    # Congestion control (RFC 5681, RFC 6582).
    uint32_t cwnd
    uint32_t ssthresh
    uint32_t recover
    uint32_t dupacks
    uint32_t bytes_acked            # congestion avoidance byte counting

    # Round-trip time (RFC 6298), microseconds.
    uint32_t srtt_us
    uint32_t rttvar_us
    uint32_t rto_ms
    uint32_t rtt_seq
    uint64_t rtt_start_ns

    # Timestamps (RFC 7323 §4.3, §5): the peer's latest TSval that we echo, when it came,
    # and this connection's offset of our TSval clock (milliseconds).
    uint32_t ts_recent
    uint64_t ts_recent_ns
    uint32_t ts_offset

    # SACK (RFC 2018, RFC 6675), used when TF_SACK.  Sender: the scoreboard, SACKed
    # ranges above SND.UNA, sorted and disjoint (tcp_scoreboard), and HighRxt, one past the
    # highest byte retransmitted in this recovery.  Receiver: a sequence number inside each
    # of the out-of-order blocks most recently reported, newest first, and the duplicate
    # range to report once (dsack, when TF_DSACK) (tcp_sack).
    tcp_sack_block sacked[TCP_SACK_SCOREBOARD_RANGES]
    uint32_t sacked_count
    uint32_t high_rxt
    uint32_t sack_recent[TCP_MAX_SACK_BLOCKS]
    uint32_t sack_recent_count
    tcp_sack_block dsack

    # Timers: absolute deadlines in ns, 0 = not armed.
    uint64_t rexmt_deadline         # retransmission (also SYN, SYN-ACK, FIN)
    uint64_t persist_deadline       # zero-window probe
    uint64_t delack_deadline
    uint64_t keepalive_deadline
    uint64_t close_deadline         # TIME-WAIT, or an orphan's FIN-WAIT-2
    uint32_t rexmt_shift            # retransmissions of the same data (backoff)
    uint32_t persist_shift
    uint32_t keepalive_probes       # unanswered probes
    uint64_t last_rx_ns
    uint64_t last_challenge_ns      # RFC 5961 rate limit

    # Buffers.
    tcp_bytequeue sndq
    tcp_bytequeue rcvq
    tcp_ooo_seg *ooo
    uint32_t ooo_bytes
    uint32_t ooo_count
    uint32_t ooo_fin_seq
    uint32_t sndbuf
    uint32_t rcvbuf

    # Receive buffer autotuning (tcp_rcvspace): the window being timed (ends at rcv_rtt_seq),
    # the receiver's round trip (0: none yet), and what the reader took since
    # rcv_space_start_ns against what it took in the last round trip (rcv_space).
    uint32_t rcv_rtt_seq
    uint64_t rcv_rtt_start_ns
    uint64_t rcv_rtt_ns
    uint32_t rcv_space
    uint32_t rcv_space_copied
    uint64_t rcv_space_start_ns

    # Keepalive tunables (seconds / probes), Linux's defaults.
    uint32_t keep_idle_s
    uint32_t keep_intvl_s
    uint32_t keep_cnt

    # Listener: children in SYN-RECEIVED and established ones waiting for accept.
    tcp_pcb *listener               # for a child
    tcp_pcb *accept_next            # on the listener's accept queue
    tcp_pcb *accept_head
    tcp_pcb *accept_tail
    uint32_t backlog
    uint32_t syn_queue_len
    uint32_t accept_queue_len

    # The socket's view.
    int so_error                    # pending error, positive errno (SO_ERROR)
    uint8_t ip_tos                  # IP_TOS byte of every segment sent (ECN bits kept clear)
    uint8_t ip_ttl                  # IP_TTL; 0 = the default (IPDEFTTL)
    int soft_error                  # the last ICMP soft error (Linux's sk_err_soft): reported
                                    #   by SO_ERROR and instead of ETIMEDOUT on a timeout;
                                    #   cleared when new data is acknowledged
    void *user                      # the socket layer's pointer (tcp_pcb_set_user)

# Readiness hook: called (net_lock held) when events (TCP_EVENT_* bits) happen on pcb.
ctypedef void (*tcp_event_fn)(tcp_pcb *pcb, void *user, uint32_t events) noexcept nogil

# Counters: every drop and notable event.
cdef struct tcp_stats:
    uint64_t segs_in
    uint64_t segs_out
    uint64_t bad_header             # short, bad data offset
    uint64_t bad_checksum
    uint64_t bad_options
    uint64_t bad_flags              # SYN+RST, port 0
    uint64_t no_pcb                 # answered with RST (or dropped if RST)
    uint64_t rst_out
    uint64_t listen_overflow        # SYN dropped: backlog full
    uint64_t listen_drops           # other segments to a listener dropped
    uint64_t pcb_cap_drops          # SYN or socket refused: pcb cap reached
    uint64_t mem_drops              # data dropped: global buffer cap reached
    uint64_t rcvbuf_drops           # data dropped: beyond receive space
    uint64_t ooo_queued
    uint64_t ooo_drops              # out-of-order queue full
    uint64_t out_of_window          # unacceptable segments (answered with an ACK)
    uint64_t challenge_acks
    uint64_t challenge_acks_suppressed
    uint64_t rst_ignored            # out of window, or in TIME-WAIT (RFC 1337)
    uint64_t bad_ack_dropped        # ACK too old, or in SYN-SENT not acceptable
    uint64_t paws_rejected          # RFC 7323 §5.3 R1: an old TSval (answered with an ACK)
    uint64_t syn_in_time_wait_reused
    uint64_t time_wait_recycled     # TIME-WAIT pcb reused at the pcb cap
    uint64_t active_opens
    uint64_t passive_opens
    uint64_t established
    uint64_t conn_refused
    uint64_t conn_reset             # by a peer's RST
    uint64_t conn_aborted           # by us (abort, data after close, unread data at close)
    uint64_t timeouts               # retransmission or keepalive gave up
    uint64_t synack_giveups
    uint64_t retransmits            # RTO
    uint64_t syn_retransmits
    uint64_t fast_retransmits
    uint64_t partial_ack_retransmits
    uint64_t dupacks_in
    uint64_t delayed_acks
    uint64_t persist_probes
    uint64_t keepalive_probes
    uint64_t data_segs_out
    uint64_t data_bytes_out
    uint64_t tso_segs_out           # data segments left to the device to cut up (TSO4)
    uint64_t data_segs_in
    uint64_t data_bytes_in
    uint64_t output_errors          # the output hook failed
    uint64_t icmp_no_pcb            # ICMP errors about no connection (or a listener / TIME-WAIT)
    uint64_t icmp_out_of_window     # quoted sequence not in [snd_una, snd_max] (RFC 5927)
    uint64_t icmp_hard_errors       # connections aborted by an ICMP error
    uint64_t icmp_soft_errors       # errors recorded as soft_error
    uint64_t icmp_frag_needed_ignored  # we send without DF: no path MTU discovery
    uint64_t iss_unkeyed            # ISS made without a secret source set
    uint64_t ephemeral_exhausted
    uint64_t pcbs_allocated
    uint64_t pcbs_freed
    uint64_t rcvbuf_grown           # receive buffers enlarged by autotuning
    uint64_t sndbuf_grown           # send buffers enlarged by autotuning
    uint64_t sack_blocks_out        # SACK blocks in the ACKs we sent (D-SACK blocks included)
    uint64_t dsack_blocks_out       # D-SACK blocks sent (RFC 2883: data received twice)
    uint64_t sack_blocks_in         # SACK blocks taken into a scoreboard
    uint64_t sack_blocks_bad        # ignored: reversed, beyond SND.NXT, or SACK not agreed
    uint64_t sack_blocks_old        # ignored: at or below SND.UNA (stale, or a D-SACK)
    uint64_t sack_options_bad       # SACK options with a bad length (ignored)
    uint64_t sack_scoreboard_full   # a range forgotten: the scoreboard was full
    uint64_t sack_recoveries        # loss recoveries driven by SACK (RFC 6675)
    uint64_t sack_retransmits       # segments resent from a hole during SACK recovery
    uint64_t sack_bytes_not_resent  # SACKed bytes later covered by SND.UNA, never resent

# Tunables: Linux's sysctl defaults unless said otherwise.
cdef struct tcp_tunables:
    uint32_t max_pcbs               # global cap on pcbs
    uint64_t mem_limit              # global cap on buffered bytes (chunks + out of order)
    uint32_t sndbuf_default
    uint32_t rcvbuf_default
    uint32_t buf_min
    uint32_t buf_max
    uint32_t ooo_max_segs
    uint32_t syn_retries
    uint32_t synack_retries
    uint32_t retries2
    uint32_t keep_idle_s
    uint32_t keep_intvl_s
    uint32_t keep_cnt
    uint32_t fin_timeout_s
    uint32_t time_wait_ms
    uint32_t delack_ms
    uint32_t challenge_interval_ms
    uint16_t ephemeral_low
    uint16_t ephemeral_high
    uint32_t timestamps             # net.ipv4.tcp_timestamps: offer RFC 7323 timestamps (0: off)
    uint32_t sack                   # net.ipv4.tcp_sack: offer and accept SACK (0: off)
