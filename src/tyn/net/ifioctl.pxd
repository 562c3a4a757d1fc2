# The interface ioctls on sockets (Linux's dev_ifconf, dev_ioctl and devinet_ioctl): what
# inet_drv's getiflist/ifget and musl's if_nametoindex/if_indextoname ask.
#
# Linux answers them for a socket of any family once the protocol's own ioctl did not
# know the command (sock_do_ioctl after -ENOIOCTLCMD): SIOCGIFCONF (the IPv4 addresses)
# and the device queries (name, index, flags, MTU, hardware address, metric, map, queue
# length).  The IPv4 address queries (address, broadcast, destination, netmask) belong to
# AF_INET (inet_ioctl), so other families get ENOTTY for them.  The socket layer calls
# ifioctl when a protocol answered -ENOTTY.  Errors as Linux: EFAULT (the ifreq/ifconf
# unreadable or unwritable), ENODEV (no such interface), EADDRNOTAVAIL (no IPv4 address).
# Interfaces cannot be changed from user space (SIOCSIF*: EOPNOTSUPP).
from libc.stdint cimport int32_t, uint64_t, int64_t

cdef enum:
    SIOCGIFNAME = 0x8910
    SIOCGIFCONF = 0x8912
    SIOCGIFFLAGS = 0x8913
    SIOCSIFFLAGS = 0x8914
    SIOCGIFADDR = 0x8915
    SIOCSIFADDR = 0x8916
    SIOCGIFDSTADDR = 0x8917
    SIOCSIFDSTADDR = 0x8918
    SIOCGIFBRDADDR = 0x8919
    SIOCSIFBRDADDR = 0x891a
    SIOCGIFNETMASK = 0x891b
    SIOCSIFNETMASK = 0x891c
    SIOCGIFMETRIC = 0x891d
    SIOCSIFMETRIC = 0x891e
    SIOCGIFMTU = 0x8921
    SIOCSIFMTU = 0x8922
    SIOCSIFNAME = 0x8923
    SIOCSIFHWADDR = 0x8924
    SIOCGIFHWADDR = 0x8927
    SIOCGIFINDEX = 0x8933
    SIOCGIFTXQLEN = 0x8942
    SIOCSIFTXQLEN = 0x8943
    SIOCGIFMAP = 0x8970
    SIOCSIFMAP = 0x8971
    IFREQ_SIZE = 40                 # struct ifreq: ifr_name[16] + a 24-byte union
    IFREQ_UNION = 16                # offset of ifr_addr / ifr_flags / ifr_mtu / ...
    IFMAP_SIZE = 24                 # struct ifmap
    IFCONF_SIZE = 16                # struct ifconf: int ifc_len, (pad), char *ifc_buf
    IFCONF_BUF = 8
    SA_DATA_SIZE = 14               # sizeof(sockaddr.sa_data)

# cmd on a socket of family (arg: the user's ifreq or ifconf): 0, -errno, or -ENOTTY when
# cmd is not an interface ioctl for this family.  Takes net_lock itself.
cdef extern int64_t ifioctl(int32_t family, uint64_t cmd, uint64_t arg) noexcept nogil
