# tmpfs: writable in-memory files and directories (see tmpfs.pxd).
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from tyn.fs.fsnode cimport *
from tyn.mm.heap cimport kmalloc, kfree, krealloc, HEAP_MAX_REQUEST
from tyn.mm.pmm cimport pmm_alloc_frame, PMM_NO_FRAME
from tyn.mm.frameref cimport frameref_put
from tyn.arch.cpu cimport memcpy, memset, phys_to_virt
from tyn.arch.uaccess cimport copy_to_user, copy_from_user, clear_user
from tyn.sys.errno cimport ENOMEM, ENOENT, EFAULT, ENOSPC, EFBIG, EINVAL

cdef enum:
    PAGE = TMPFS_PAGE
    PAGE_MASK = TMPFS_PAGE - 1

cdef tmpfs_clock_fn clock_fn
cdef uint64_t next_ino
cdef uint64_t frames_in_use
cdef tmpfs_shrink_fn shrink_hook

# MAX_LFS_FILESIZE (2^63 - 1)
cdef extern from *:
    """
    #define TMPFS_MAX_FILESIZE ((uint64_t)0x7fffffffffffffffULL)
    """
    const uint64_t TMPFS_MAX_FILESIZE

cdef void tmpfs_set_clock(tmpfs_clock_fn fn) noexcept nogil:
    global clock_fn
    clock_fn = fn

cdef void tmpfs_now(int64_t *sec, uint32_t *nsec) noexcept nogil:
    sec[0] = 0
    nsec[0] = 0
    if clock_fn != NULL:
        clock_fn(sec, nsec)

cdef void tmpfs_touch(fs_node *n, bint modify) noexcept nogil:
    cdef int64_t s
    cdef uint32_t ns
    tmpfs_now(&s, &ns)
    n.ctime_sec = s
    n.ctime_nsec = ns
    if modify:
        n.mtime_sec = s
        n.mtime_nsec = ns

cdef uint64_t tmpfs_frames_in_use() noexcept nogil:
    return frames_in_use

cdef char *copy_name(const char *name, uint32_t len) noexcept nogil:
    """A NUL-terminated heap copy of a directory entry's name, or NULL (out of memory)."""
    cdef char *copy = <char *>kmalloc(len + 1)
    if copy != NULL:
        memcpy(copy, name, len)
        copy[len] = 0
    return copy

cdef fs_node *new_node(uint32_t mode) noexcept nogil:
    global next_ino
    cdef fs_node *n = fsnode_alloc()
    if n == NULL:
        return NULL
    if next_ino == 0:
        next_ino = 1
    n.mode = mode
    n.fs = FS_TMPFS
    n.ino = next_ino
    next_ino += 1
    n.nlink = 2 if (mode & S_IFMT) == S_IFDIR else 1
    n.next_dseq = 2
    tmpfs_now(&n.mtime_sec, &n.mtime_nsec)
    n.atime_sec = n.ctime_sec = n.mtime_sec
    n.atime_nsec = n.ctime_nsec = n.mtime_nsec
    return n

cdef int64_t tmpfs_new_root(fs_node **out) noexcept nogil:
    cdef fs_node *n = new_node(S_IFDIR | TMPFS_ROOT_MODE)
    out[0] = n
    if n == NULL:
        return -ENOMEM
    n.parent = n
    return 0

cdef int64_t tmpfs_create(fs_node *dir, const char *name, uint32_t len, uint32_t mode,
                          const char *target, uint64_t tlen, fs_node **out) noexcept nogil:
    out[0] = NULL
    if dir.nlink == 0:
        return -ENOENT
    cdef char *copy = copy_name(name, len)
    if copy == NULL:
        return -ENOMEM
    cdef fs_node *n = new_node(mode)
    if n == NULL:
        kfree(copy)
        return -ENOMEM
    n.name = copy
    n.namelen = len
    n.flags |= FSNODE_OWNS_NAME
    if (mode & S_IFMT) == S_IFLNK:
        n.link = <char *>kmalloc(tlen + 1)
        if n.link == NULL:
            kfree(copy)
            kfree(n)
            return -ENOMEM
        memcpy(n.link, target, tlen)
        n.link[tlen] = 0
        n.size = tlen
    fsnode_link_child(dir, n)
    tmpfs_touch(dir, True)
    out[0] = n
    return 0

cdef int64_t tmpfs_create_unlinked(const char *name, uint32_t len, uint32_t mode,
                                   fs_node **out) noexcept nogil:
    out[0] = NULL
    cdef char *copy = copy_name(name, len)
    if copy == NULL:
        return -ENOMEM
    cdef fs_node *n = new_node(mode)
    if n == NULL:
        kfree(copy)
        return -ENOMEM
    n.name = copy
    n.namelen = len
    n.flags |= FSNODE_OWNS_NAME | FSNODE_NO_MOUNT
    n.nlink = 0                     # in no directory: the open file keeps it alive
    out[0] = n
    return 0

cdef int64_t tmpfs_create_tmpfile(uint32_t mode, bint linkable, fs_node **out) noexcept nogil:
    cdef fs_node *n = new_node(mode)
    out[0] = NULL
    if n == NULL:
        return -ENOMEM
    n.name = b""                    # Linux's d_tmpfile names it "#ino"; no lookup ever sees it
    n.namelen = 0
    n.nlink = 0                     # in no directory: the open file keeps it alive
    if linkable:
        n.flags |= FSNODE_LINKABLE
    out[0] = n
    return 0

cdef void free_pages_from(fs_node *n, uint64_t first) noexcept nogil:
    global frames_in_use
    cdef uint64_t i
    for i in range(first, n.npages):
        if n.pages[i] != 0:
            frameref_put(n.pages[i])        # a mapping may still own it
            frames_in_use -= 1
            n.pages[i] = 0

cdef void tmpfs_node_release(fs_node *n) noexcept nogil:
    if n.nlink != 0 or n.refs != 0 or n.fs != FS_TMPFS:
        return
    free_pages_from(n, 0)
    kfree(n.pages)
    kfree(n.link)
    if n.flags & FSNODE_OWNS_NAME:
        kfree(<void *>n.name)
    kfree(n)

cdef void tmpfs_remove(fs_node *entry) noexcept nogil:
    cdef fs_node *dir = entry.parent
    cdef fs_node *n = fsnode_inode(entry)
    fsnode_unlink_child(entry)
    if fsnode_is_dir(n):
        n.nlink = 0
    else:
        n.nlink -= 1
    tmpfs_touch(dir, True)
    tmpfs_touch(n, False)
    if entry != n:
        kfree(<void *>entry.name)        # a link entry owns nothing else
        kfree(entry)
    tmpfs_node_release(n)

cdef int64_t tmpfs_link(fs_node *n, fs_node *dir, const char *name, uint32_t len) noexcept nogil:
    cdef fs_node *entry
    cdef char *copy
    if dir.nlink == 0:
        return -ENOENT
    copy = copy_name(name, len)
    if copy == NULL:
        return -ENOMEM
    entry = fsnode_alloc()
    if entry == NULL:
        kfree(copy)
        return -ENOMEM
    entry.name = copy
    entry.namelen = len
    entry.flags = FSNODE_OWNS_NAME
    entry.fs = FS_TMPFS
    entry.mode = n.mode & S_IFMT        # the type never changes: getdents' d_type
    entry.ino = n.ino
    entry.inode = n
    fsnode_link_child(dir, entry)
    n.nlink += 1
    tmpfs_touch(dir, True)
    tmpfs_touch(n, False)
    return 0

cdef int64_t tmpfs_move(fs_node *n, fs_node *dir, const char *name, uint32_t len) noexcept nogil:
    cdef char *copy = copy_name(name, len)
    if copy == NULL:
        return -ENOMEM
    tmpfs_touch(n.parent, True)
    fsnode_unlink_child(n)
    if n.flags & FSNODE_OWNS_NAME:
        kfree(<void *>n.name)
    n.name = copy
    n.namelen = len
    n.flags |= FSNODE_OWNS_NAME
    fsnode_link_child(dir, n)
    tmpfs_touch(dir, True)
    tmpfs_touch(fsnode_inode(n), False)
    return 0

cdef uint64_t tmpfs_page_count(fs_node *n) noexcept nogil:
    cdef uint64_t i, c = 0
    for i in range(n.npages):
        if n.pages[i] != 0:
            c += 1
    return c

cdef bint grow_table(fs_node *n, uint64_t entries) noexcept nogil:
    cdef uint64_t *t
    if entries <= n.npages:
        return True
    if entries > HEAP_MAX_REQUEST // 8:
        return False
    t = <uint64_t *>krealloc(n.pages, entries * 8)
    if t == NULL:
        return False
    memset(t + n.npages, 0, (entries - n.npages) * 8)
    n.pages = t
    n.npages = entries
    return True

cdef uint64_t tmpfs_page_phys(fs_node *n, uint64_t index, bint alloc) noexcept nogil:
    global frames_in_use
    cdef uint64_t f
    if index < n.npages and n.pages[index] != 0:
        return n.pages[index]
    if not alloc or not grow_table(n, index + 1):
        return 0
    f = pmm_alloc_frame()
    if f == PMM_NO_FRAME:
        return 0
    memset(phys_to_virt(f), 0, PAGE)
    frames_in_use += 1
    n.pages[index] = f
    return f

cdef int64_t tmpfs_read(fs_node *n, uint64_t buf, uint64_t count, uint64_t off, bint user) noexcept nogil:
    cdef uint64_t done = 0, idx, in_page, chunk
    cdef int64_t r
    cdef const uint8_t *src
    if off >= n.size:
        return 0
    if count > n.size - off:
        count = n.size - off
    while done < count:
        idx = (off + done) >> 12
        in_page = (off + done) & PAGE_MASK
        chunk = PAGE - in_page
        if chunk > count - done:
            chunk = count - done
        if idx < n.npages and n.pages[idx] != 0:
            src = <const uint8_t *>phys_to_virt(n.pages[idx]) + in_page
            if user:
                r = copy_to_user(buf + done, src, chunk)
            else:
                memcpy(<void *>(buf + done), src, chunk)
                r = 0
        elif user:
            r = clear_user(buf + done, chunk)
        else:
            memset(<void *>(buf + done), 0, chunk)
            r = 0
        if r < 0:
            return <int64_t>done if done > 0 else -EFAULT
        done += chunk
    return <int64_t>done

cdef int64_t tmpfs_write(fs_node *n, uint64_t buf, uint64_t count, uint64_t off, bint user) noexcept nogil:
    cdef uint64_t done = 0, idx, in_page, chunk, f
    cdef int64_t r
    cdef uint8_t *dst
    if count == 0:
        return 0
    if off >= TMPFS_MAX_FILESIZE or count > TMPFS_MAX_FILESIZE - off:
        return -EFBIG
    if not grow_table(n, (off + count + PAGE_MASK) >> 12):
        return -ENOSPC
    while done < count:
        idx = (off + done) >> 12
        in_page = (off + done) & PAGE_MASK
        chunk = PAGE - in_page
        if chunk > count - done:
            chunk = count - done
        f = tmpfs_page_phys(n, idx, True)
        if f == 0:
            r = -ENOSPC
        else:
            dst = <uint8_t *>phys_to_virt(f) + in_page
            if user:
                r = copy_from_user(dst, buf + done, chunk)
                if r < 0:
                    r = -EFAULT
            else:
                memcpy(dst, <const void *>(buf + done), chunk)
                r = 0
        if r < 0:
            if done == 0:
                return r
            break
        done += chunk
        if off + done > n.size:
            n.size = off + done
    tmpfs_touch(n, True)
    return <int64_t>done

cdef int64_t tmpfs_truncate(fs_node *n, uint64_t size) noexcept nogil:
    cdef uint64_t keep, idx
    if size > TMPFS_MAX_FILESIZE:
        return -EFBIG
    if size < n.size:
        keep = (size + PAGE_MASK) >> 12
        if shrink_hook != NULL:
            shrink_hook(n, keep)        # as Linux: mappings lose the pages past the new end
        free_pages_from(n, keep)
        idx = size >> 12
        if (size & PAGE_MASK) != 0 and idx < n.npages and n.pages[idx] != 0:
            memset(<uint8_t *>phys_to_virt(n.pages[idx]) + (size & PAGE_MASK), 0, PAGE - (size & PAGE_MASK))
    n.size = size
    tmpfs_touch(n, True)
    return 0

cdef void tmpfs_set_shrink_hook(tmpfs_shrink_fn fn) noexcept nogil:
    global shrink_hook
    shrink_hook = fn

cdef void tmpfs_reset() noexcept nogil:
    global next_ino, frames_in_use, clock_fn
    next_ino = 1
    frames_in_use = 0
    clock_fn = NULL
