# The vDSO's frames, data page and mapping.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport phys_to_virt, memcpy, memset
from tyn.arch.tsc cimport tsc_hz, tsc_boot_value
from tyn.time.walltime cimport walltime_boot_epoch_ns
from tyn.lib.kprint cimport kputs, kput_udec
from tyn.mm.pmm cimport pmm_alloc_frames, PMM_NO_FRAME, PAGE_SIZE, PAGE_SHIFT
from tyn.mm.vma cimport (mm_space, vma_map_object, vma_protect, vma_object_ops, PROT_READ, PROT_EXEC,
                         MAP_SHARED, MAP_FIXED)

cdef extern from "tyn/vdso_data.h":
    struct vdso_data:
        uint32_t seq
        uint32_t tsc_usable
        uint64_t boot_tsc
        uint64_t tsc_hz
        uint64_t boot_epoch_ns

cdef extern from *:
    """
    extern const unsigned char vdso_image_start[], vdso_image_end[];
    """
    const uint8_t vdso_image_start[]
    const uint8_t vdso_image_end[]

cdef enum:
    DATA_PAGES = 1

cdef uint64_t frames               # data page, then the image's pages (contiguous)
cdef uint64_t image_pages
cdef vma_object_ops object_ops

cdef uint64_t object_page(void *obj, uint64_t index) noexcept nogil:
    if index >= DATA_PAGES + image_pages:
        return 0
    return frames + (index << PAGE_SHIFT)

cdef void object_ref(void *obj) noexcept nogil:
    pass                            # the frames are the kernel's for good

cdef bint vdso_init(bint tsc_user_mode) noexcept nogil:
    global frames, image_pages
    cdef uint64_t size = <uint64_t>(vdso_image_end - vdso_image_start)
    cdef vdso_data *data
    if size == 0:
        return False                # the host build has no image
    image_pages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT
    frames = pmm_alloc_frames(DATA_PAGES + image_pages, 1)
    if frames == PMM_NO_FRAME:
        frames = 0
        kputs(b"tyn: vdso: no memory for it; programs use system calls for the time\n")
        return False
    memset(phys_to_virt(frames), 0, (DATA_PAGES + image_pages) << PAGE_SHIFT)
    memcpy(<uint8_t *>phys_to_virt(frames) + (DATA_PAGES << PAGE_SHIFT), vdso_image_start, size)
    data = <vdso_data *>phys_to_virt(frames)
    data.boot_tsc = tsc_boot_value()
    data.tsc_hz = tsc_hz()
    data.boot_epoch_ns = walltime_boot_epoch_ns()
    data.tsc_usable = 1 if tsc_user_mode and data.tsc_hz != 0 else 0
    object_ops.page = object_page
    object_ops.hold = object_ref
    object_ops.release = object_ref
    kputs(b"tyn: vdso: ")
    kput_udec(size)
    if data.tsc_usable:
        kputs(b" bytes; clock_gettime/gettimeofday/time read the TSC in user mode\n")
    else:
        kputs(b" bytes; the TSC is not usable from user mode here (KVM: user and kernel rdtsc may"
              b" differ), so its calls are system calls\n")
    return True

cdef uint64_t vdso_address() noexcept nogil:
    return VDSO_ADDRESS if frames != 0 else 0

cdef int64_t vdso_map(mm_space *mm) noexcept nogil:
    cdef int64_t rc
    if frames == 0:
        return 0
    rc = vma_map_object(mm, VDSO_DATA_ADDRESS, (DATA_PAGES + image_pages) << PAGE_SHIFT, PROT_READ,
                        MAP_SHARED | MAP_FIXED, &object_ops, NULL, 0)
    if rc < 0:
        return rc
    rc = vma_protect(mm, VDSO_ADDRESS, image_pages << PAGE_SHIFT, PROT_READ | PROT_EXEC)
    if rc < 0:
        return rc
    return VDSO_ADDRESS
