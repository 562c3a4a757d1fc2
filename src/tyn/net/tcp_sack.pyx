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


cdef void tcp_sack_fill(tcp_pcb *pcb, tcp_segment *seg) noexcept nogil:
    cdef tcp_sack_block blocks[TCP_MAX_SACK_BLOCKS]
    cdef uint32_t n, fit, i
    seg.sack_count = 0
    if not (pcb.flags & TF_SACK) or pcb.ooo == NULL:
        pcb.sack_recent_count = 0
        return
    n = current_blocks(pcb, blocks)
    fit = wire_tcp_sack_blocks_fit(seg)
    if n > fit:
        n = fit
    for i in range(n):
        seg.sack[i] = blocks[i]
    seg.sack_count = <uint8_t>n
    tcp_pcb_stats().sack_blocks_out += n


cdef uint32_t tcp_sack_option_len(tcp_pcb *pcb) noexcept nogil:
    cdef tcp_sack_block blocks[TCP_MAX_SACK_BLOCKS]
    cdef tcp_segment probe
    cdef uint32_t n, fit
    if not (pcb.flags & TF_SACK) or pcb.ooo == NULL:
        return 0
    n = current_blocks(pcb, blocks)
    memset(&probe, 0, sizeof(probe))
    probe.has_timestamp = (pcb.flags & TF_TSTAMP) != 0     # what a data segment carries besides
    fit = wire_tcp_sack_blocks_fit(&probe)
    return wire_tcp_sack_len(n if n < fit else fit)
