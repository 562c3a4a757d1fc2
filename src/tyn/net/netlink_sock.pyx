# AF_NETLINK / NETLINK_ROUTE sockets (see netlink_sock.pxd).
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.mm.heap cimport kmalloc, kcalloc, kfree
from tyn.fs.vfs cimport POLLIN, POLLOUT, POLLERR, POLLRDNORM, POLLWRNORM
from tyn.sys.errno cimport *
from tyn.proc.sched cimport sched_current
from tyn.proc.task cimport thread
from tyn.net.socket cimport *
from tyn.net.sockaddr cimport AF_UNSPEC, sockaddr_family
from tyn.net.netlock cimport net_lock_acquire, net_lock_release
from tyn.net.wire_netlink cimport (AF_NETLINK, NETLINK_ROUTE, SOL_NETLINK, SOCKADDR_NL_SIZE,
                                   wire_sockaddr_nl_parse, wire_sockaddr_nl_emit)
from tyn.net.rtnetlink cimport (nl_dgram, nl_reply, nl_dgram_data, rtnetlink_input,
                                rtnetlink_dgram_copy, rtnetlink_reply_free)

cdef enum:
    # netlink_sock.flags
    NLF_PKTINFO = 1 << 0
    NLF_BROADCAST_ERROR = 1 << 1
    NLF_NO_ENOBUFS = 1 << 2
    NLF_CAP_ACK = 1 << 3
    NLF_EXT_ACK = 1 << 4
    NLF_STRICT_CHK = 1 << 5
    NLF_GROUPS_ALLOCATED = 1 << 6   # Linux's nlk->groups exists (ngroups reported)
    GROUP_WORD_BITS = 32
    GROUP_LIST_BYTES = 8            # ALIGN(BITS_TO_BYTES(RTNLGRP_COUNT), 4)

cdef struct netlink_sock:
    netlink_sock *next_bound        # the list of bound sockets (ports)
    socket *sock
    bint bound
    uint32_t portid
    uint64_t groups                 # memberships: bit g-1 for group g
    uint32_t dst_portid             # connect's peer (0: the kernel)
    uint32_t dst_group
    uint32_t flags                  # NLF_*
    nl_dgram *rx_head
    nl_dgram *rx_tail
    uint32_t rx_bytes

cdef sock_proto_ops netlink_ops
cdef netlink_sock *bound_list
cdef int32_t rover

cdef inline netlink_sock *nl_of(socket *sock) noexcept nogil:
    return <netlink_sock *>sock.proto

cdef uint64_t nl_lock(socket *sock) noexcept nogil:
    return net_lock_acquire()

cdef void nl_unlock(socket *sock, uint64_t flags) noexcept nogil:
    net_lock_release(flags)

# ------------------------------------------------------------------ ports

cdef netlink_sock *lookup(uint32_t portid) noexcept nogil:
    cdef netlink_sock *n = bound_list
    while n != NULL:
        if n.portid == portid:
            return n
        n = n.next_bound
    return NULL

cdef void insert(netlink_sock *nl, uint32_t portid) noexcept nogil:
    global bound_list
    nl.portid = portid
    nl.bound = True
    nl.next_bound = bound_list
    bound_list = nl

cdef int64_t autobind(netlink_sock *nl) noexcept nogil:
    # netlink_autobind: the process id, else the next free negative port.
    global rover
    cdef thread *t = sched_current()
    cdef int32_t portid = 0
    if t != NULL and t.proc != NULL:
        portid = t.proc.pid
    while portid == 0 or lookup(<uint32_t>portid) != NULL:
        portid = rover
        rover -= 1
        if rover >= 0:                  # wrapped through all negative ports
            rover = NETLINK_FIRST_ROVER
    insert(nl, <uint32_t>portid)
    return 0

cdef void unbind(netlink_sock *nl) noexcept nogil:
    global bound_list
    cdef netlink_sock **link = &bound_list
    while link[0] != NULL:
        if link[0] == nl:
            link[0] = nl.next_bound
            break
        link = &link[0].next_bound
    nl.bound = False

# ------------------------------------------------------------------ receive queue

cdef void refresh(socket *sock) noexcept nogil:
    cdef uint32_t ev = POLLOUT | POLLWRNORM
    if nl_of(sock).rx_head != NULL:
        ev |= POLLIN | POLLRDNORM
    sock.events = ev

cdef void enqueue(socket *sock, nl_dgram *first, nl_dgram *last, uint32_t bytes) noexcept nogil:
    cdef netlink_sock *nl = nl_of(sock)
    if nl.rx_tail != NULL:
        nl.rx_tail.next = first
    else:
        nl.rx_head = first
    nl.rx_tail = last
    nl.rx_bytes += bytes
    refresh(sock)
    socket_wake(sock, POLLIN)

cdef void overrun(socket *sock) noexcept nogil:
    if not (nl_of(sock).flags & NLF_NO_ENOBUFS):
        socket_set_error(sock, ENOBUFS)

cdef bint queue_full(socket *sock) noexcept nogil:
    return nl_of(sock).rx_bytes > <uint32_t>sock.opt.rcvbuf

# ------------------------------------------------------------------ ops

cdef int64_t nl_create(socket *sock, int32_t protocol, bint for_pair) noexcept nogil:
    cdef netlink_sock *nl
    cdef uint64_t flags
    if for_pair:
        return -EOPNOTSUPP
    if protocol != NETLINK_ROUTE:
        return -EPROTONOSUPPORT         # the only netlink protocol this kernel has
    nl = <netlink_sock *>kcalloc(1, sizeof(netlink_sock))
    if nl == NULL:
        return -ENOMEM
    nl.sock = sock
    flags = net_lock_acquire()
    sock.ops = &netlink_ops
    sock.proto = nl
    sock.state = SS_UNCONNECTED
    refresh(sock)
    net_lock_release(flags)
    return 0

cdef void nl_release(socket *sock) noexcept nogil:
    cdef uint64_t flags = net_lock_acquire()
    cdef netlink_sock *nl = nl_of(sock)
    cdef nl_reply q
    if nl != NULL:
        if nl.bound:
            unbind(nl)
        q.head = nl.rx_head
        rtnetlink_reply_free(&q)
        sock.proto = NULL
    net_lock_release(flags)
    kfree(nl)

cdef int64_t nl_bind(socket *sock, const uint8_t *addr, int32_t len) noexcept nogil:
    cdef uint32_t portid, groups
    cdef int64_t r = wire_sockaddr_nl_parse(addr, len, &portid, &groups)
    cdef uint64_t flags
    cdef netlink_sock *nl = nl_of(sock)
    if r < 0:
        return r
    flags = net_lock_acquire()
    if nl.bound:
        if portid != nl.portid:
            net_lock_release(flags)
            return -EINVAL
    elif portid != 0:
        if lookup(portid) != NULL:
            net_lock_release(flags)
            return -EADDRINUSE
        insert(nl, portid)
    else:
        autobind(nl)
    if groups != 0 or (nl.flags & NLF_GROUPS_ALLOCATED):
        nl.flags |= NLF_GROUPS_ALLOCATED
        nl.groups = (nl.groups & ~(<uint64_t>0xFFFFFFFF)) | groups
    net_lock_release(flags)
    return 0

cdef uint32_t first_group(uint32_t groups) noexcept nogil:
    # ffs(): the lowest group named in a nl_groups mask, 0 for none.
    cdef uint32_t g = 1
    if groups == 0:
        return 0
    while not (groups & 1):
        groups >>= 1
        g += 1
    return g

cdef int64_t nl_connect(socket *sock, const uint8_t *addr, int32_t len, uint32_t mflags) noexcept nogil:
    cdef int32_t family = sockaddr_family(addr, len)
    cdef uint32_t portid, groups
    cdef int64_t r
    cdef uint64_t flags
    cdef netlink_sock *nl = nl_of(sock)
    if family < 0:
        return family
    if family == AF_UNSPEC:
        flags = net_lock_acquire()
        sock.state = SS_UNCONNECTED
        nl.dst_portid = 0
        nl.dst_group = 0
        net_lock_release(flags)
        return 0
    r = wire_sockaddr_nl_parse(addr, len, &portid, &groups)
    if r < 0:
        return r
    flags = net_lock_acquire()
    if not nl.bound:
        autobind(nl)
    sock.state = SS_CONNECTED
    nl.dst_portid = portid
    nl.dst_group = first_group(groups)
    net_lock_release(flags)
    return 0

cdef int32_t nl_getname(socket *sock, uint8_t *addr, bint peer) noexcept nogil:
    cdef uint64_t flags = net_lock_acquire()
    cdef netlink_sock *nl = nl_of(sock)
    cdef int32_t n
    if peer:
        n = wire_sockaddr_nl_emit(addr, nl.dst_portid,
                                  (<uint32_t>1 << (nl.dst_group - 1)) if nl.dst_group != 0 else 0)
    else:
        n = wire_sockaddr_nl_emit(addr, nl.portid, <uint32_t>nl.groups)
    net_lock_release(flags)
    return n

cdef int64_t deliver_to_kernel(socket *sock, const uint8_t *buf, uint32_t len) noexcept nogil:
    # netlink_unicast_kernel: rtnetlink answers into a reply that joins our queue.
    cdef netlink_sock *nl = nl_of(sock)
    cdef nl_reply reply
    memset(&reply, 0, sizeof(nl_reply))
    if queue_full(sock):
        overrun(sock)
        return 0
    rtnetlink_input(buf, len, nl.portid, (nl.flags & NLF_CAP_ACK) != 0, &reply)
    if reply.failed:
        rtnetlink_reply_free(&reply)
        overrun(sock)
    elif reply.head != NULL:
        enqueue(sock, reply.head, reply.tail, reply.bytes)
    return 0

cdef int64_t deliver_to_port(socket *sock, uint32_t portid, const uint8_t *buf, uint32_t len) noexcept nogil:
    cdef netlink_sock *target = lookup(portid)
    cdef nl_dgram *d
    if target == NULL:
        return -ECONNREFUSED
    if queue_full(target.sock):
        return -EAGAIN
    d = rtnetlink_dgram_copy(buf, len, nl_of(sock).portid)
    if d == NULL:
        return -ENOBUFS
    enqueue(target.sock, d, d, len)
    return 0

cdef int64_t nl_sendmsg(socket *sock, sock_msg *m, uint32_t mflags) noexcept nogil:
    cdef netlink_sock *nl = nl_of(sock)
    cdef uint32_t dst_portid, dst_group, groups
    cdef uint8_t *buf
    cdef int64_t r
    cdef uint64_t flags
    if mflags & MSG_OOB:
        return -EOPNOTSUPP
    if m.name != NULL and m.namelen > 0:
        r = wire_sockaddr_nl_parse(m.name, m.namelen, &dst_portid, &groups)
        if r < 0:
            return r
        dst_group = first_group(groups)
    else:
        flags = net_lock_acquire()
        dst_portid = nl.dst_portid
        dst_group = nl.dst_group
        net_lock_release(flags)
    if m.total > <uint64_t>(sock.opt.sndbuf - NETLINK_SNDBUF_SLACK):
        return -EMSGSIZE
    buf = <uint8_t *>kmalloc(m.total if m.total > 0 else 1)
    if buf == NULL:
        return -ENOBUFS
    r = socket_msg_copy(m, 0, buf, m.total, False) if m.total > 0 else 0
    if r >= 0:
        flags = net_lock_acquire()
        if not nl.bound:
            autobind(nl)
        # A multicast copy (dst_group) reaches no one: no socket here listens for the
        # kernel's groups and the kernel sends none.  The unicast always happens.
        if dst_portid == 0:
            r = deliver_to_kernel(sock, buf, <uint32_t>m.total)
        else:
            r = deliver_to_port(sock, dst_portid, buf, <uint32_t>m.total)
        net_lock_release(flags)
    kfree(buf)
    return r if r < 0 else <int64_t>m.total

cdef bint can_recv(void *arg) noexcept nogil:
    return ((<socket *>arg).events & (POLLIN | POLLERR)) != 0 or (<socket *>arg).err != 0

cdef int64_t nl_recvmsg(socket *sock, sock_msg *m, uint32_t mflags) noexcept nogil:
    # netlink_recvmsg: one datagram; a pending error comes first (skb_recv_datagram).
    cdef uint64_t timeo = socket_rcvtimeo(sock, mflags)
    cdef uint64_t flags = net_lock_acquire()
    cdef netlink_sock *nl = nl_of(sock)
    cdef nl_dgram *d
    cdef uint8_t *copy = NULL
    cdef uint32_t full, cap, src, group = 0
    cdef bint pktinfo
    cdef int64_t r
    while True:
        if sock.err != 0:
            r = -socket_take_error(sock)
            net_lock_release(flags)
            return r
        if nl.rx_head != NULL:
            break
        net_lock_release(flags)
        r = socket_wait(can_recv, sock, &timeo)
        flags = net_lock_acquire()
        if r < 0:
            net_lock_release(flags)
            return r
    d = nl.rx_head
    full = d.len
    src = d.src_portid
    cap = full if full <= m.total else <uint32_t>m.total
    pktinfo = (nl.flags & NLF_PKTINFO) != 0
    if mflags & MSG_PEEK:
        copy = <uint8_t *>kmalloc(cap if cap > 0 else 1)
        if copy == NULL:
            net_lock_release(flags)
            return -ENOBUFS
        memcpy(copy, nl_dgram_data(d), cap)
        d = NULL
    else:
        nl.rx_head = d.next
        if nl.rx_head == NULL:
            nl.rx_tail = NULL
        nl.rx_bytes -= full
        refresh(sock)
    net_lock_release(flags)
    r = socket_msg_copy(m, 0, copy if copy != NULL else nl_dgram_data(d), cap, True) if cap > 0 else 0
    kfree(copy)
    kfree(d)
    if r < 0:
        return r
    if m.name != NULL:
        m.namelen = wire_sockaddr_nl_emit(m.name, src, 0)
    if pktinfo:
        # struct nl_pktinfo: the multicast group it came to (0: unicast)
        r = socket_put_cmsg(m, SOL_NETLINK, NETLINK_PKTINFO, &group, sizeof(uint32_t))
        if r < 0:
            return r
    if full > cap:
        m.msg_flags |= MSG_TRUNC
    if mflags & MSG_TRUNC:
        return full
    return cap

cdef uint32_t flag_of(int32_t name) noexcept nogil:
    if name == NETLINK_PKTINFO:
        return NLF_PKTINFO
    if name == NETLINK_BROADCAST_ERROR:
        return NLF_BROADCAST_ERROR
    if name == NETLINK_NO_ENOBUFS:
        return NLF_NO_ENOBUFS
    if name == NETLINK_CAP_ACK:
        return NLF_CAP_ACK
    if name == NETLINK_EXT_ACK:
        return NLF_EXT_ACK
    if name == NETLINK_GET_STRICT_CHK:
        return NLF_STRICT_CHK
    return 0

cdef int64_t nl_setsockopt(socket *sock, int32_t level, int32_t name, uint64_t uval, uint32_t ulen) noexcept nogil:
    # netlink_setsockopt: an int read only when optlen >= 4 (else 0).
    cdef int32_t val = 0
    cdef uint32_t flag
    cdef uint64_t flags
    cdef netlink_sock *nl = nl_of(sock)
    if level != SOL_NETLINK:
        return -ENOPROTOOPT
    if ulen >= sizeof(int32_t) and copy_from_user(&val, uval, sizeof(int32_t)) < 0:
        return -EFAULT
    flag = flag_of(name)
    if flag != 0:
        flags = net_lock_acquire()
        if val != 0:
            nl.flags |= flag
        else:
            nl.flags &= ~flag
        net_lock_release(flags)
        return 0
    if name == NETLINK_ADD_MEMBERSHIP or name == NETLINK_DROP_MEMBERSHIP:
        if val <= 0 or val > RTNLGRP_COUNT:
            return -EINVAL
        flags = net_lock_acquire()
        if not nl.bound:
            autobind(nl)
        nl.flags |= NLF_GROUPS_ALLOCATED
        if name == NETLINK_ADD_MEMBERSHIP:
            nl.groups |= <uint64_t>1 << (val - 1)
        else:
            nl.groups &= ~(<uint64_t>1 << (val - 1))
        net_lock_release(flags)
        return 0
    return -ENOPROTOOPT

cdef int64_t nl_getsockopt(socket *sock, int32_t level, int32_t name, uint64_t uval, uint64_t ulen) noexcept nogil:
    cdef int32_t len, val
    cdef uint32_t flag, word
    cdef int32_t pos, size
    cdef uint64_t flags
    cdef uint64_t groups
    cdef bint allocated
    if level != SOL_NETLINK:
        return -ENOPROTOOPT
    if copy_from_user(&len, ulen, sizeof(int32_t)) < 0:
        return -EFAULT
    if len < 0:
        return -EINVAL
    flags = net_lock_acquire()
    val = 1 if (nl_of(sock).flags & flag_of(name)) else 0
    groups = nl_of(sock).groups
    allocated = (nl_of(sock).flags & NLF_GROUPS_ALLOCATED) != 0
    net_lock_release(flags)
    if name == NETLINK_LIST_MEMBERSHIPS:
        size = GROUP_LIST_BYTES if allocated else 0
        pos = 0
        while pos < size and len - pos >= <int32_t>sizeof(uint32_t):
            word = <uint32_t>(groups >> (pos * 8))
            if copy_to_user(uval + <uint64_t>pos, &word, sizeof(uint32_t)) < 0:
                return -EFAULT
            pos += sizeof(uint32_t)
        if copy_to_user(ulen, &size, sizeof(int32_t)) < 0:
            return -EFAULT
        return 0
    if flag_of(name) == 0:
        return -ENOPROTOOPT
    if len < <int32_t>sizeof(int32_t):
        return -EINVAL
    len = sizeof(int32_t)
    if copy_to_user(ulen, &len, sizeof(int32_t)) < 0 or copy_to_user(uval, &val, sizeof(int32_t)) < 0:
        return -EFAULT
    return 0

cdef void netlink_init() noexcept nogil:
    global bound_list, rover
    bound_list = NULL
    rover = NETLINK_FIRST_ROVER
    memset(&netlink_ops, 0, sizeof(sock_proto_ops))
    netlink_ops.lock = nl_lock
    netlink_ops.unlock = nl_unlock
    netlink_ops.release = nl_release
    netlink_ops.bind = nl_bind
    netlink_ops.connect = nl_connect
    netlink_ops.sendmsg = nl_sendmsg
    netlink_ops.recvmsg = nl_recvmsg
    netlink_ops.getname = nl_getname
    netlink_ops.poll = NULL                 # sock.events, kept current under net_lock
    netlink_ops.setsockopt = nl_setsockopt
    netlink_ops.getsockopt = nl_getsockopt
    # no ioctl of its own: the interface ioctls (ifioctl) answer through the socket layer
    socket_register_family(AF_NETLINK, SOCK_RAW, 0, nl_create)
    socket_register_family(AF_NETLINK, SOCK_DGRAM, 0, nl_create)
