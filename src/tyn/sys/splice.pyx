# sendfile(2) with Linux's checks and their order (fs/read_write.c do_sendfile): the input
# must be readable and seekable (a file, not a pipe or socket: EINVAL), the output
# writable and not O_APPEND (EINVAL).  Bytes go through one kernel buffer, SENDFILE_CHUNK
# at a time: the output may be any file (a socket, a pipe, a tmpfs file).  A short write
# (a non-blocking socket filling up) ends the call; the input position (the file's, or
# *offset when given) advances by what was written, never by what was only read.
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.fs.vfs cimport (vfs_file, vfs_read, vfs_write, vfs_file_seekable, vfs_file_put, O_ACCMODE,
                         O_RDONLY, O_WRONLY, O_RDWR, O_PATH, O_APPEND, VFS_MAX_RW_COUNT)
from tyn.fs.fdtable cimport fdtable_fget
from tyn.fs.context cimport fs_context, fs_current
from tyn.mm.heap cimport kmalloc, kfree
from tyn.arch.uaccess cimport copy_from_user, copy_to_user
from tyn.sys.errno cimport EBADF, EINVAL, ESPIPE, EFAULT, ENOMEM


cdef inline bint readable(vfs_file *f) noexcept nogil:
    return not (f.flags & O_PATH) and ((f.flags & O_ACCMODE) == O_RDONLY or (f.flags & O_ACCMODE) == O_RDWR)


cdef inline bint writable(vfs_file *f) noexcept nogil:
    return not (f.flags & O_PATH) and ((f.flags & O_ACCMODE) == O_WRONLY or (f.flags & O_ACCMODE) == O_RDWR)


cdef int64_t copy_between(vfs_file *src, uint64_t *pos, vfs_file *dst, uint64_t count) noexcept nogil:
    cdef uint8_t *buf = <uint8_t *>kmalloc(SENDFILE_CHUNK if count > SENDFILE_CHUNK else (count or 1))
    cdef uint64_t done = 0, want
    cdef int64_t got, put
    if buf == NULL:
        return -ENOMEM
    while done < count:
        want = count - done
        if want > SENDFILE_CHUNK:
            want = SENDFILE_CHUNK
        got = vfs_read(src, <uint64_t>buf, want, pos, False)
        if got <= 0:
            if done == 0 and got < 0:
                done = <uint64_t>got        # an error before any byte: the call's result
            break
        put = vfs_write(dst, <uint64_t>buf, <uint64_t>got, &dst.pos, False)
        if put < 0:
            pos[0] -= <uint64_t>got         # nothing of this chunk went out
            if done == 0:
                done = <uint64_t>put
            break
        pos[0] -= <uint64_t>(got - put)     # only what was written counts as sent
        done += <uint64_t>put
        if put < got or <uint64_t>got < want:
            break                           # the output is full, or the input ended
    kfree(buf)
    return <int64_t>done


cdef int64_t sys_sendfile(uint64_t out_fd, uint64_t in_fd, uint64_t uoffset, uint64_t count) noexcept nogil:
    cdef fs_context *ctx = fs_current()
    cdef vfs_file *src
    cdef vfs_file *dst
    cdef int64_t off = 0
    cdef uint64_t pos
    cdef int64_t rc
    if uoffset != 0 and copy_from_user(&off, uoffset, sizeof(int64_t)) < 0:
        return -EFAULT
    if ctx == NULL:
        return -EBADF
    src = fdtable_fget(&ctx.fdt, <uint32_t>in_fd)
    if src == NULL:
        return -EBADF
    if not readable(src):
        vfs_file_put(src)
        return -EBADF
    if uoffset != 0 and not vfs_file_seekable(src):
        vfs_file_put(src)
        return -ESPIPE
    pos = <uint64_t>off if uoffset != 0 else src.pos
    if <int64_t>pos < 0:
        vfs_file_put(src)
        return -EINVAL
    if count > VFS_MAX_RW_COUNT:
        count = VFS_MAX_RW_COUNT
    dst = fdtable_fget(&ctx.fdt, <uint32_t>out_fd)
    if dst == NULL:
        vfs_file_put(src)
        return -EBADF
    if not writable(dst):
        rc = -EBADF
    elif not vfs_file_seekable(src) or (dst.flags & O_APPEND):
        rc = -EINVAL                        # no splice_read on the input / O_APPEND output
    else:
        rc = copy_between(src, &pos, dst, count)
        if rc > 0 or rc == 0:
            if uoffset != 0:
                off = <int64_t>pos
                if copy_to_user(uoffset, &off, sizeof(int64_t)) < 0:
                    rc = -EFAULT
            else:
                src.pos = pos
    vfs_file_put(dst)
    vfs_file_put(src)
    return rc
