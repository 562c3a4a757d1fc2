# ICMP errors about our TCP segments (see tcp_icmp.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t
from tyn.net.byteorder cimport get_be16, get_be32
from tyn.net.tcp_types cimport *
from tyn.net.tcp_seq cimport seq_le
from tyn.net.tcp_pcb cimport tcp_pcb_stats, tcp_pcb_lookup, tcp_pcb_terminate, tcp_pcb_event
from tyn.net.wire_icmp cimport (ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, ICMP_PARAMETERPROB,
                                ICMP_NET_UNREACH, ICMP_HOST_UNREACH, ICMP_FRAG_NEEDED)

cdef enum:
    QUOTED_SEQ_END = 8                  # ports and sequence number: what RFC 792 quotes


cdef bint drops_request(uint8_t type, uint8_t code) noexcept nogil:
    # The errors that end a connection still in a listener's SYN queue (tcp_req_err).
    return (type == ICMP_TIME_EXCEEDED or type == ICMP_PARAMETERPROB
            or (type == ICMP_DEST_UNREACH and (code == ICMP_NET_UNREACH or code == ICMP_HOST_UNREACH)))


cdef void tcp_icmp_error(uint32_t src, uint32_t dst, const uint8_t *quoted, uint32_t len,
                         uint8_t type, uint8_t code, uint32_t info, int32_t err,
                         bint hard) noexcept nogil:
    cdef tcp_stats *st = tcp_pcb_stats()
    cdef tcp_pcb *pcb
    cdef uint32_t seq
    if len < QUOTED_SEQ_END:
        st.icmp_no_pcb += 1
        return
    seq = get_be32(quoted + 4)
    pcb = tcp_pcb_lookup(src, get_be16(quoted), dst, get_be16(quoted + 2))
    if pcb == NULL or pcb.state == TCP_LISTEN or pcb.state == TCP_CLOSED or pcb.state == TCP_TIME_WAIT:
        st.icmp_no_pcb += 1
        return
    if pcb.state == TCP_SYN_RECEIVED and pcb.flags & TF_PASSIVE:
        if seq != pcb.iss:
            st.icmp_out_of_window += 1
        elif drops_request(type, code):
            st.icmp_hard_errors += 1
            tcp_pcb_terminate(pcb, err)
        return
    if not (seq_le(pcb.snd_una, seq) and seq_le(seq, pcb.snd_max)):
        st.icmp_out_of_window += 1
        return
    if type == ICMP_DEST_UNREACH and code == ICMP_FRAG_NEEDED:
        st.icmp_frag_needed_ignored += 1
        return
    if pcb.state == TCP_SYN_SENT or pcb.state == TCP_SYN_RECEIVED:
        st.icmp_hard_errors += 1
        tcp_pcb_terminate(pcb, err)
        return
    st.icmp_soft_errors += 1
    pcb.soft_error = err
    tcp_pcb_event(pcb, TCP_EVENT_SOFT_ERR)
