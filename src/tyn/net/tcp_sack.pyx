# SACK negotiation and the receiver's blocks.  See tcp_sack.pxd.
from libc.stdint cimport uint32_t
from tyn.arch.cpu cimport memset
from tyn.net.tcp_types cimport *
from tyn.net.tcp_pcb cimport tcp_pcb_tunables, tcp_pcb_stats
from tyn.net.tcp_buffers cimport tcp_ooo_block
from tyn.net.wire_tcp cimport wire_tcp_sack_blocks_fit, wire_tcp_sack_len


cdef void tcp_sack_offer(tcp_pcb *pcb) noexcept nogil:
    if tcp_pcb_tunables().sack != 0:
        pcb.flags |= TF_SEND_SACK
    else:
        pcb.flags &= ~(<uint32_t>(TF_SEND_SACK | TF_SACK))

cdef void tcp_sack_take_syn(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    if seg.sack_permitted and (pcb.flags & TF_SEND_SACK or
                               (pcb.flags & TF_PASSIVE and tcp_pcb_tunables().sack != 0)):
        pcb.flags |= TF_SEND_SACK | TF_SACK
    else:
        pcb.flags &= ~(<uint32_t>(TF_SEND_SACK | TF_SACK))   # §2: only when both SYNs offered it
    pcb.sacked_count = 0
    pcb.sack_recent_count = 0


# The blocks of the recently reported list as the queue holds them now, newest first:
# blocks filled in (now in order) or merged into a newer one drop out.  Each entry is
# kept as its block's last byte, which stays inside the block as it grows or drains.
cdef uint32_t current_blocks(tcp_pcb *pcb, tcp_sack_block *blocks) noexcept nogil:
    cdef uint32_t i, j, n = 0
    cdef tcp_sack_block b
    cdef bint seen
    for i in range(pcb.sack_recent_count):
        if not tcp_ooo_block(pcb.ooo, pcb.sack_recent[i], &b):
            continue
        seen = False
        for j in range(n):
            if blocks[j].left == b.left:
                seen = True
                break
        if seen:
            continue
        blocks[n] = b
        pcb.sack_recent[n] = b.right - 1
        n += 1
    pcb.sack_recent_count = n
    return n


cdef void tcp_sack_note_ooo(tcp_pcb *pcb, uint32_t seq) noexcept nogil:
    cdef tcp_sack_block blocks[TCP_MAX_SACK_BLOCKS]
    cdef uint32_t i = TCP_MAX_SACK_BLOCKS - 1
    if not (pcb.flags & TF_SACK):
        return
    while i > 0:                        # the oldest falls off a full list
        pcb.sack_recent[i] = pcb.sack_recent[i - 1]
        i -= 1
    pcb.sack_recent[0] = seq
    if pcb.sack_recent_count < TCP_MAX_SACK_BLOCKS:
        pcb.sack_recent_count += 1
    current_blocks(pcb, blocks)


cdef void tcp_sack_note_duplicate(tcp_pcb *pcb, uint32_t seq, uint32_t len) noexcept nogil:
    if not (pcb.flags & TF_SACK) or len == 0:
        return
    pcb.dsack.left = seq
    pcb.dsack.right = seq + len
    pcb.flags |= TF_DSACK


# What the next ACK reports: the D-SACK block if one is owed, then the out-of-order
# blocks, as many as fit.
cdef uint32_t blocks_to_send(tcp_pcb *pcb, uint32_t fit, tcp_sack_block *out) noexcept nogil:
    cdef tcp_sack_block blocks[TCP_MAX_SACK_BLOCKS]
    cdef uint32_t n = 0, k, i
    if not (pcb.flags & TF_SACK):
        return 0
    if pcb.flags & TF_DSACK and fit > 0:
        out[0] = pcb.dsack
        n = 1
    if pcb.ooo == NULL:
        pcb.sack_recent_count = 0
        return n
    k = current_blocks(pcb, blocks)
    for i in range(k):
        if n == fit:
            break
        out[n] = blocks[i]
        n += 1
    return n


cdef void tcp_sack_fill(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    cdef uint32_t n = blocks_to_send(pcb, wire_tcp_sack_blocks_fit(seg), seg.sack)
    seg.sack_count = <uint8_t>n
    tcp_pcb_stats().sack_blocks_out += n
    if pcb.flags & TF_DSACK and n > 0:
        pcb.flags &= ~TF_DSACK                  # reported once (RFC 2883 §4)
        tcp_pcb_stats().dsack_blocks_out += 1


cdef uint32_t tcp_sack_option_len(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_sack_block blocks[TCP_MAX_SACK_BLOCKS]
    cdef tcp_segment probe
    if not (pcb.flags & TF_SACK) or (pcb.ooo == NULL and not (pcb.flags & TF_DSACK)):
        return 0
    memset(&probe, 0, sizeof(probe))
    probe.has_timestamp = (pcb.flags & TF_TSTAMP) != 0     # what a data segment carries besides
    return wire_tcp_sack_len(blocks_to_send(pcb, wire_tcp_sack_blocks_fit(&probe), blocks))
