# The SACK sender's scoreboard.  See tcp_scoreboard.pxd.
#
# Ranges are compared as offsets from SND.UNA: every range lies in [SND.UNA, SND.MAX],
# less than 2^31 bytes, so offsets order them without wrap-around.
from libc.stdint cimport uint32_t
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_lt, seq_le, seq_gt, seq_ge, seq_max
from tyn.net.tcp_pcb cimport tcp_pcb_stats


cdef inline uint32_t off(tcp_pcb *pcb, uint32_t seq) noexcept nogil:
    return seq - pcb.snd_una


# Merge [left, right) into the scoreboard; returns the bytes not SACKed before.
cdef uint32_t insert_range(tcp_pcb *pcb, uint32_t left, uint32_t right) noexcept nogil:
    cdef tcp_sack_block merged[TCP_SACK_SCOREBOARD_RANGES + 1]
    cdef uint32_t n = 0, i, covered = 0, lo, hi
    cdef uint32_t l = off(pcb, left), r = off(pcb, right)
    cdef uint32_t l0 = l, r0 = r
    cdef bint placed = False, dropped_new = False
    for i in range(pcb.sacked_count):
        lo = off(pcb, pcb.sacked[i].left)
        hi = off(pcb, pcb.sacked[i].right)
        if hi < l:                                  # wholly before (touching merges)
            merged[n] = pcb.sacked[i]
            n += 1
        elif lo > r:                                # wholly after
            if not placed:
                merged[n].left = pcb.snd_una + l
                merged[n].right = pcb.snd_una + r
                n += 1
                placed = True
            merged[n] = pcb.sacked[i]
            n += 1
        else:                                       # overlaps or touches: grow the new one
            if lo < r0 and hi > l0:
                covered += (hi if hi < r0 else r0) - (lo if lo > l0 else l0)
            l = lo if lo < l else l
            r = hi if hi > r else r
    if not placed:
        merged[n].left = pcb.snd_una + l
        merged[n].right = pcb.snd_una + r
        n += 1
        dropped_new = n > TCP_SACK_SCOREBOARD_RANGES
    if n > TCP_SACK_SCOREBOARD_RANGES:
        n = TCP_SACK_SCOREBOARD_RANGES              # the highest range goes
        tcp_pcb_stats().sack_scoreboard_full += 1
    for i in range(n):
        pcb.sacked[i] = merged[i]
    pcb.sacked_count = n
    if dropped_new:
        return 0
    return (r0 - l0) - covered


cdef uint32_t tcp_scoreboard_update(tcp_pcb *pcb, const tcp_segment *seg) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef uint32_t i, newly = 0, lower
    cdef uint32_t left, right
    if seg.sack_count == 0:
        return 0
    if not (pcb.flags & TF_SACK):
        st.sack_blocks_bad += seg.sack_count    # §2: not agreed, so not to be sent
        return 0
    lower = seq_max(pcb.snd_una, seg.ack)
    for i in range(seg.sack_count):
        left = seg.sack[i].left
        right = seg.sack[i].right
        if not seq_lt(left, right) or seq_gt(right, pcb.snd_max):
            st.sack_blocks_bad += 1
        elif seq_le(right, lower):
            st.sack_blocks_old += 1
        elif seq_lt(left, lower):
            st.sack_blocks_bad += 1             # part acknowledged, part not: not a block we sent
        else:
            st.sack_blocks_in += 1
            newly += insert_range(pcb, left, right)
    return newly


cdef void tcp_scoreboard_ack(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t i, n = 0, passed = 0
    cdef tcp_sack_block b
    for i in range(pcb.sacked_count):
        b = pcb.sacked[i]
        if seq_le(b.right, pcb.snd_una):
            passed += b.right - b.left
            continue
        if seq_lt(b.left, pcb.snd_una):
            passed += pcb.snd_una - b.left
            b.left = pcb.snd_una
        pcb.sacked[n] = b
        n += 1
    pcb.sacked_count = n
    if seq_lt(pcb.high_rxt, pcb.snd_una):
        pcb.high_rxt = pcb.snd_una
    # Bytes the SACKs kept us from resending: covered while repairing holes.
    if pcb.flags & TF_IN_RECOVERY or seq_lt(pcb.snd_nxt, pcb.snd_max):
        tcp_pcb_stats().sack_bytes_not_resent += passed


cdef void tcp_scoreboard_clear(tcp_pcb *pcb) noexcept nogil:
    pcb.sacked_count = 0
    pcb.high_rxt = pcb.snd_una


# Offset below which every unSACKed byte is lost (IsLost is monotone: fewer SACKed bytes
# lie above a higher byte); 0 when none is.
cdef uint32_t lost_below(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t bytes_above = 0, ranges_above = 0
    cdef int i = <int>pcb.sacked_count - 1
    while i >= 0:
        bytes_above += pcb.sacked[i].right - pcb.sacked[i].left
        ranges_above += 1
        if ranges_above >= TCP_DUPACK_THRESHOLD or bytes_above > (TCP_DUPACK_THRESHOLD - 1) * <uint32_t>pcb.mss:
            return off(pcb, pcb.sacked[i].left)
        i -= 1
    return 0


cdef bint tcp_scoreboard_is_lost(tcp_pcb *pcb, uint32_t seq) noexcept nogil:
    cdef uint32_t bytes_above = 0, ranges_above = 0, i, o = off(pcb, seq), lo, hi
    for i in range(pcb.sacked_count):
        lo = off(pcb, pcb.sacked[i].left)
        hi = off(pcb, pcb.sacked[i].right)
        if hi <= o + 1:
            continue
        ranges_above += 1
        bytes_above += hi - (lo if lo > o else o + 1)
    return (ranges_above >= TCP_DUPACK_THRESHOLD
            or bytes_above > (TCP_DUPACK_THRESHOLD - 1) * <uint32_t>pcb.mss)


cdef uint32_t tcp_scoreboard_pipe(tcp_pcb *pcb) noexcept nogil:
    cdef uint32_t lost = lost_below(pcb)
    cdef uint32_t rxt = 0
    cdef uint32_t end = off(pcb, pcb.snd_max)
    cdef uint32_t pipe = 0, a = 0, b, i
    if pcb.flags & TF_IN_RECOVERY and seq_gt(pcb.high_rxt, pcb.snd_una):
        rxt = off(pcb, pcb.high_rxt)            # HighRxt means something in recovery only
    for i in range(pcb.sacked_count + 1):
        b = off(pcb, pcb.sacked[i].left) if i < pcb.sacked_count else end
        if a < b:
            # The hole [a, b): its bytes at or above `lost` are presumed in flight, and
            # those below HighRxt were sent once more (RFC 6675 SetPipe (a), (b)).
            if b > lost:
                pipe += b - (a if a > lost else lost)
            if rxt > a:
                pipe += (b if b < rxt else rxt) - a
        if i < pcb.sacked_count:
            a = off(pcb, pcb.sacked[i].right)
    return pipe


cdef bint tcp_scoreboard_next_hole(tcp_pcb *pcb, bint lost_only, uint32_t max_len,
                                   uint32_t *seq, uint32_t *len) noexcept nogil:
    cdef uint32_t start = off(pcb, pcb.high_rxt) if seq_gt(pcb.high_rxt, pcb.snd_una) else 0
    cdef uint32_t lost = lost_below(pcb)
    cdef uint32_t a = 0, b, s, i
    for i in range(pcb.sacked_count):        # holes below the highest SACKed byte only
        b = off(pcb, pcb.sacked[i].left)
        s = a if a > start else start
        if s < b:
            if lost_only and s >= lost:
                return False
            seq[0] = pcb.snd_una + s
            len[0] = b - s if b - s < max_len else max_len
            return True
        a = off(pcb, pcb.sacked[i].right)
    return False


cdef bint tcp_scoreboard_range_after(tcp_pcb *pcb, uint32_t seq, uint32_t *left,
                                     uint32_t *right) noexcept nogil:
    cdef uint32_t i
    for i in range(pcb.sacked_count):
        if seq_gt(pcb.sacked[i].right, seq):
            left[0] = pcb.sacked[i].left
            right[0] = pcb.sacked[i].right
            return True
    return False


cdef uint32_t tcp_scoreboard_sacked_below(tcp_pcb *pcb, uint32_t seq) noexcept nogil:
    cdef uint32_t i, n = 0, o = off(pcb, seq), lo, hi
    for i in range(pcb.sacked_count):
        lo = off(pcb, pcb.sacked[i].left)
        hi = off(pcb, pcb.sacked[i].right)
        if lo >= o:
            break
        n += (hi if hi < o else o) - lo
    return n
