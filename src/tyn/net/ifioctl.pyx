# Interface ioctls (see ifioctl.pxd).  The ifreq is copied in, answered from the interfaces
# under net_lock, and copied out after the lock is let go.
from libc.stdint cimport uint8_t, uint16_t, int32_t, uint32_t, uint64_t, int64_t
from tyn.arch.cpu cimport memcpy, memset
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.mm.heap cimport kmalloc, kfree
from tyn.sys.errno cimport EFAULT, ENODEV, ENOTTY, EADDRNOTAVAIL, EOPNOTSUPP, ENOMEM
from tyn.net.sockaddr cimport AF_INET, SOCKADDR_IN_SIZE, sockaddr_in_emit
from tyn.net.netlock cimport net_lock_acquire, net_lock_release
from tyn.net.netif cimport netif, netif_first, NETIF_NAME_MAX
from tyn.net.wire_ethernet cimport ETH_ALEN
from tyn.net.ifinfo cimport *

cdef enum:
    ALIAS_SEPARATOR = 58            # ':' in "eth0:1"

cdef bint is_set_command(uint64_t cmd) noexcept nogil:
    return cmd in (SIOCSIFFLAGS, SIOCSIFADDR, SIOCSIFDSTADDR, SIOCSIFBRDADDR, SIOCSIFNETMASK,
                   SIOCSIFMETRIC, SIOCSIFMTU, SIOCSIFNAME, SIOCSIFHWADDR, SIOCSIFTXQLEN, SIOCSIFMAP)

cdef bint is_device_query(uint64_t cmd) noexcept nogil:
    return cmd in (SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFMETRIC, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX,
                   SIOCGIFTXQLEN, SIOCGIFMAP)

cdef bint is_address_query(uint64_t cmd) noexcept nogil:
    return cmd in (SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK)

cdef int cut_alias(uint8_t *ifr) noexcept nogil:
    # Linux looks devices up by the name before a ':' (an alias label); where it was, or -1.
    cdef int i = 0
    while i < IFNAMSIZ and ifr[i] != 0:
        if ifr[i] == ALIAS_SEPARATOR:
            ifr[i] = 0
            return i
        i += 1
    return -1

cdef int64_t device_query(uint64_t cmd, uint8_t *ifr) noexcept nogil:
    # dev_ifname / dev_ifsioc_locked / dev_get_mac_address, net_lock held.
    cdef netif *nif
    cdef int32_t index, v
    cdef uint16_t u16
    cdef int colon
    if cmd == SIOCGIFNAME:
        memcpy(&index, ifr + IFREQ_UNION, 4)
        nif = ifinfo_by_index(index)
        if nif == NULL:
            return -ENODEV
        memcpy(ifr, nif.name, NETIF_NAME_MAX)   # strcpy: the name and its NUL
        return 0
    colon = cut_alias(ifr)
    nif = ifinfo_by_name(<const char *>ifr)
    if colon >= 0:
        ifr[colon] = ALIAS_SEPARATOR
    if nif == NULL:
        return -ENODEV
    if cmd == SIOCGIFFLAGS:
        u16 = <uint16_t>ifinfo_flags(nif)       # ifr_flags is a short: IFF_LOWER_UP does not fit
        memcpy(ifr + IFREQ_UNION, &u16, 2)
    elif cmd == SIOCGIFHWADDR:
        u16 = ifinfo_dev_type(nif)
        memcpy(ifr + IFREQ_UNION, &u16, 2)
        memcpy(ifr + IFREQ_UNION + 2, nif.mac, ETH_ALEN)    # lo's is all zeros, as Linux's
    elif cmd == SIOCGIFMAP:
        memset(ifr + IFREQ_UNION, 0, IFMAP_SIZE)
    else:
        if cmd == SIOCGIFMTU:
            v = <int32_t>nif.mtu
        elif cmd == SIOCGIFINDEX:
            v = ifinfo_index(nif)
        elif cmd == SIOCGIFTXQLEN:
            v = IFINFO_TXQLEN
        else:                                   # SIOCGIFMETRIC
            v = 0
        memcpy(ifr + IFREQ_UNION, &v, 4)
    return 0

cdef int64_t address_query(uint64_t cmd, uint8_t *ifr) noexcept nogil:
    # devinet_ioctl's gets, net_lock held: the interface's (only) IPv4 address, whose label
    # is the interface's name, so an alias name finds the device but no address.
    cdef netif *nif
    cdef uint32_t value
    cdef int colon = cut_alias(ifr)
    nif = ifinfo_by_name(<const char *>ifr)
    if colon >= 0:
        ifr[colon] = ALIAS_SEPARATOR
    if nif == NULL:
        return -ENODEV
    if colon >= 0 or not ifinfo_has_addr(nif):
        return -EADDRNOTAVAIL
    if cmd == SIOCGIFADDR or cmd == SIOCGIFDSTADDR:
        value = nif.addr                        # ifa_local; ifa_address (the same off point-to-point)
    elif cmd == SIOCGIFBRDADDR:
        value = ifinfo_broadcast(nif)
    else:
        value = nif.netmask
    sockaddr_in_emit(ifr + IFREQ_UNION, value, 0)
    return 0

cdef int64_t ifreq_ioctl(uint64_t cmd, uint64_t arg) noexcept nogil:
    cdef uint8_t ifr[IFREQ_SIZE]
    cdef uint64_t flags
    cdef int64_t r
    if copy_from_user(ifr, arg, IFREQ_SIZE) < 0:
        return -EFAULT
    ifr[IFNAMSIZ - 1] = 0
    flags = net_lock_acquire()
    if is_address_query(cmd):
        r = address_query(cmd, ifr)
    else:
        r = device_query(cmd, ifr)
    net_lock_release(flags)
    if r == 0 and copy_to_user(arg, ifr, IFREQ_SIZE) < 0:
        return -EFAULT
    return r

cdef int64_t ifconf_ioctl(uint64_t arg) noexcept nogil:
    # dev_ifconf + inet_gifconf: one ifreq (name, sockaddr_in) per IPv4 address, as many as
    # fit whole in ifc_len; with no buffer, the length all of them need.
    cdef uint8_t ifc[IFCONF_SIZE]
    cdef int32_t room, total = 0
    cdef uint64_t ubuf, flags
    cdef uint32_t count = 0
    cdef uint8_t *out = NULL
    cdef netif *nif
    cdef int64_t r = 0
    if copy_from_user(ifc, arg, IFCONF_SIZE) < 0:
        return -EFAULT
    memcpy(&room, ifc, 4)
    memcpy(&ubuf, ifc + IFCONF_BUF, 8)
    flags = net_lock_acquire()
    nif = netif_first()
    while nif != NULL:
        if ifinfo_has_addr(nif):
            count += 1
        nif = nif.next
    if ubuf != 0 and count > 0:
        out = <uint8_t *>kmalloc(count * IFREQ_SIZE)
        if out == NULL:
            net_lock_release(flags)
            return -ENOMEM
    nif = netif_first()
    while nif != NULL:
        if ifinfo_has_addr(nif):
            if ubuf == 0:
                total += IFREQ_SIZE
            elif room - total >= IFREQ_SIZE:
                memset(out + total, 0, IFREQ_SIZE)
                memcpy(out + total, nif.name, NETIF_NAME_MAX)
                sockaddr_in_emit(out + total + IFREQ_UNION, nif.addr, 0)
                total += IFREQ_SIZE
        nif = nif.next
    net_lock_release(flags)
    if out != NULL:
        if total > 0 and copy_to_user(ubuf, out, <uint64_t>total) < 0:
            r = -EFAULT
        kfree(out)
    if r == 0 and copy_to_user(arg, &total, 4) < 0:
        r = -EFAULT
    return r

cdef int64_t ifioctl(int32_t family, uint64_t cmd, uint64_t arg) noexcept nogil:
    if cmd == SIOCGIFCONF:
        return ifconf_ioctl(arg)
    if is_device_query(cmd) or (family == AF_INET and is_address_query(cmd)):
        return ifreq_ioctl(cmd, arg)
    if is_set_command(cmd):
        return -EOPNOTSUPP
    return -ENOTTY
