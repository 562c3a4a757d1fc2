# TCP header parse/emit (RFC 9293 §3.1) with options (MSS, window scale, SACK-permitted,
# SACK blocks, timestamps; RFC 7323, RFC 2018) and the pseudo-header checksum.  A parse/emit pair in
# smoltcp's manner: no protocol state here.
from libc.stdint cimport uint8_t, uint32_t
from tyn.net.tcp_types cimport tcp_segment

# Parse segment (len bytes from src to dst, host-order addresses) into seg, verifying the
# checksum unless checksum_ok (the device vouched for it).  WIRE_TCP_OK or a WIRE_TCP_ERR_* code.  Unknown options are skipped,
# and so is a SACK option whose length is not 2 + 8n (1 <= n <= 4), flagged in
# seg.sack_malformed for the caller to count; seg.payload points into segment.
cdef extern int wire_tcp_parse(uint32_t src, uint32_t dst, const uint8_t *segment, uint32_t len,
                               tcp_segment *seg, bint checksum_ok) noexcept nogil
# Bytes the options of seg need (a multiple of 4).
cdef extern uint32_t wire_tcp_options_len(const tcp_segment *seg) noexcept nogil
# Bytes a SACK option of that many blocks takes with its NOP NOP (0 for none).
cdef extern uint32_t wire_tcp_sack_len(uint32_t blocks) noexcept nogil
# How many SACK blocks fit beside seg's other options (at most TCP_MAX_SACK_BLOCKS: 4
# alone, 3 with timestamps).
cdef extern uint32_t wire_tcp_sack_blocks_fit(const tcp_segment *seg) noexcept nogil
# Write seg's header (options from its has_* fields; reserved bits zero, checksum zero) at
# out; returns the header length.  out has room for TCP_MAX_HEADER_LEN bytes.
cdef extern uint32_t wire_tcp_emit(const tcp_segment *seg, uint8_t *out) noexcept nogil
# Fill in the checksum of the len-byte segment at out (header + payload).
cdef extern void wire_tcp_fill_checksum(uint32_t src, uint32_t dst, uint8_t *out, uint32_t len) noexcept nogil
# Put only the pseudo-header's sum (folded, not complemented) in the checksum field: the
# partial checksum a device with NETDEV_OFFLOAD_CSUM finishes (virtio 1.0 §5.1.6.2).
cdef extern void wire_tcp_fill_pseudo_checksum(uint32_t src, uint32_t dst, uint8_t *out, uint32_t len) noexcept nogil
