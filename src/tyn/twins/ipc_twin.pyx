# Host face of tyn.fs.pipe, tyn.fs.eventfd and the sockets (tyn.sys.socket_syscall, tyn.net.unix): their syscall handlers (called
# like sysfs_twin.call, in the context sysfs_twin.mount set up) and readiness of an fd.
from libc.stdint cimport uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport vfs_file, vfs_poll
from tyn.fs.fdtable cimport fdtable_get
from tyn.fs.context cimport fs_current
from tyn.fs.bytering cimport bytering, bytering_used, bytering_room
from tyn.fs.pipe cimport sys_pipe, sys_pipe2, pipe_inode, pipe_file_is_pipe
from tyn.fs.eventfd cimport sys_eventfd, sys_eventfd2
from tyn.sys.socket_syscall cimport (sys_socket, sys_socketpair, sys_bind, sys_listen, sys_accept,
                                     sys_accept4, sys_connect, sys_sendto, sys_recvfrom, sys_sendmsg,
                                     sys_recvmsg, sys_shutdown, sys_getsockname, sys_getpeername,
                                     sys_setsockopt, sys_getsockopt)
from tyn.net.socket cimport socket_init, socket_of_file
from tyn.net.unix cimport unix_init

ctypedef int64_t (*fn6)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) noexcept nogil

cdef dict FUNCS = {
    "pipe": <uint64_t><void *>sys_pipe, "pipe2": <uint64_t><void *>sys_pipe2,
    "eventfd": <uint64_t><void *>sys_eventfd, "eventfd2": <uint64_t><void *>sys_eventfd2,
    "socket": <uint64_t><void *>sys_socket, "socketpair": <uint64_t><void *>sys_socketpair,
    "sendto": <uint64_t><void *>sys_sendto, "recvfrom": <uint64_t><void *>sys_recvfrom,
    "sendmsg": <uint64_t><void *>sys_sendmsg, "recvmsg": <uint64_t><void *>sys_recvmsg,
    "shutdown": <uint64_t><void *>sys_shutdown, "getsockname": <uint64_t><void *>sys_getsockname,
    "getpeername": <uint64_t><void *>sys_getpeername, "setsockopt": <uint64_t><void *>sys_setsockopt,
    "getsockopt": <uint64_t><void *>sys_getsockopt,
    "bind": <uint64_t><void *>sys_bind, "listen": <uint64_t><void *>sys_listen,
    "accept": <uint64_t><void *>sys_accept, "accept4": <uint64_t><void *>sys_accept4,
    "connect": <uint64_t><void *>sys_connect,
}

def reset_sockets():
    """The socket layer as the kernel boots it: the registry holding AF_UNIX only."""
    socket_init()
    unix_init()

reset_sockets()

def names():
    return sorted(FUNCS)

def call(str name, *args):
    """sys_<name>(args...) with each argument reduced mod 2^64 (negative ints allowed)."""
    cdef uint64_t a[6]
    cdef fn6 f = <fn6><void *><uint64_t>FUNCS[name]
    if len(args) > 6:
        raise TypeError("at most 6 arguments")
    for i in range(6):
        a[i] = (args[i] & 0xFFFFFFFFFFFFFFFF) if i < len(args) else 0
    return f(a[0], a[1], a[2], a[3], a[4], a[5])

cdef vfs_file *file_at(int fd) except NULL:
    cdef vfs_file *f = fdtable_get(&fs_current().fdt, <uint64_t>fd)
    if f == NULL:
        raise ValueError(f"fd {fd} is not open")
    return f

def poll(int fd):
    """The readiness bits (POLL*) of the file at fd."""
    return vfs_poll(file_at(fd))

def refs(int fd):
    """References to the open file at fd."""
    return file_at(fd).refs

def pipe_fill(int fd):
    """(used, room) of the ring of the pipe open at fd."""
    cdef vfs_file *f = file_at(fd)
    cdef pipe_inode *p
    if not pipe_file_is_pipe(f):
        raise ValueError("not a pipe")
    p = <pipe_inode *>f.priv
    return bytering_used(&p.ring), bytering_room(&p.ring)

def is_socket(int fd):
    return socket_of_file(file_at(fd)) != NULL
