# The SACK sender (RFC 2018 §5, RFC 6675): the scoreboard of SACKed ranges above SND.UNA
# (pcb.sacked, at most TCP_SACK_SCOREBOARD_RANGES, sorted, merged) and RFC 6675's
# queries on it: IsLost (DupThresh 3), the pipe estimate (SetPipe) and NextSeg's
# retransmission rules.  Blocks are checked before they are believed: reversed or empty,
# beyond SND.NXT (snd_max: the highest sequence sent), or straddling SND.UNA are ignored
# and counted (sack_blocks_bad), blocks wholly at or below SND.UNA (stale, or a D-SACK) are
# ignored and counted apart (sack_blocks_old).  When the scoreboard is full the highest
# range is forgotten: loss is then judged on less evidence, never on more.
# State is the pcb's, under net_lock like the rest of it.
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport tcp_pcb, tcp_segment

# Take the SACK blocks of an acceptable ACK (before SND.UNA moves to seg.ack).  Returns
# the bytes newly SACKed (RFC 6675's "new SACK information").
cdef extern uint32_t tcp_scoreboard_update(tcp_pcb *pcb, const tcp_segment *seg) noexcept nogil
# SND.UNA advanced: forget what it covers.
cdef extern void tcp_scoreboard_ack(tcp_pcb *pcb) noexcept nogil
# Forget every SACKed range (after a retransmission timeout the receiver may have
# reneged, RFC 2018 §8); HighRxt back to SND.UNA.
cdef extern void tcp_scoreboard_clear(tcp_pcb *pcb) noexcept nogil
# RFC 6675 IsLost(seq): DupThresh discontiguous SACKed ranges above seq, or more than
# (DupThresh - 1) * SMSS SACKed bytes above it.
cdef extern bint tcp_scoreboard_is_lost(tcp_pcb *pcb, uint32_t seq) noexcept nogil
# RFC 6675 SetPipe(): bytes presumed in the network, from SND.UNA to SND.MAX (bytes
# retransmitted count twice during recovery, below HighRxt).
cdef extern uint32_t tcp_scoreboard_pipe(tcp_pcb *pcb) noexcept nogil
# During recovery (HighRxt set on entry), NextSeg() rule 1 (lost_only) or rule 3: the first unSACKed byte at or above HighRxt and
# below the highest SACKed byte (and lost, for rule 1); *len: up to max_len bytes of its
# hole.  False when there is none.
cdef extern bint tcp_scoreboard_next_hole(tcp_pcb *pcb, bint lost_only, uint32_t max_len,
                                          uint32_t *seq, uint32_t *len) noexcept nogil
# The first SACKed range ending after seq: True with its edges, False if none.
cdef extern bint tcp_scoreboard_range_after(tcp_pcb *pcb, uint32_t seq, uint32_t *left,
                                            uint32_t *right) noexcept nogil
# SACKed bytes between SND.UNA and seq: sent, but no longer in the network.
cdef extern uint32_t tcp_scoreboard_sacked_below(tcp_pcb *pcb, uint32_t seq) noexcept nogil
