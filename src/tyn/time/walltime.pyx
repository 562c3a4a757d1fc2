# Wall-clock time: an epoch offset fixed at boot, advanced by the TSC.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from tyn.arch.cpu cimport outb, inb
from tyn.arch.tsc cimport monotonic_ns, NSEC_PER_SEC

cdef enum:
    CMOS_ADDRESS_PORT = 0x70
    CMOS_DATA_PORT = 0x71
    CMOS_NMI_DISABLE = 0x80
    RTC_SECONDS = 0x00
    RTC_MINUTES = 0x02
    RTC_HOURS = 0x04
    RTC_DAY = 0x07
    RTC_MONTH = 0x08
    RTC_YEAR = 0x09
    RTC_STATUS_A = 0x0A
    RTC_STATUS_B = 0x0B
    RTC_UPDATE_IN_PROGRESS = 0x80
    RTC_BINARY_MODE = 0x04
    RTC_24_HOUR = 0x02
    RTC_PM_BIT = 0x80
    RTC_CENTURY_BASE = 2000
    SECONDS_PER_DAY = 86400
    SOURCE_NONE = 0
    SOURCE_CMDLINE = 1
    SOURCE_RTC = 2

cdef uint64_t boot_epoch_ns      # wall-clock time when monotonic_ns() was 0
cdef int source

cdef int64_t walltime_days_from_civil(int64_t year, uint64_t month, uint64_t day) noexcept nogil:
    """Howard Hinnant's days_from_civil: exact for all Gregorian dates."""
    cdef int64_t y = year - (1 if month <= 2 else 0)
    cdef int64_t era = (y if y >= 0 else y - 399) // 400
    cdef int64_t yoe = y - era * 400
    cdef int64_t mp = <int64_t>month + (-3 if month > 2 else 9)
    cdef int64_t doy = (153 * mp + 2) // 5 + <int64_t>day - 1
    cdef int64_t doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468

cdef uint8_t cmos_read(uint8_t register) noexcept nogil:
    outb(CMOS_ADDRESS_PORT, CMOS_NMI_DISABLE | register)
    return inb(CMOS_DATA_PORT)

cdef uint64_t bcd(uint8_t v, bint binary) noexcept nogil:
    return v if binary else (v >> 4) * 10 + (v & 0xF)

cdef uint64_t rtc_read_epoch_seconds() noexcept nogil:
    """Seconds since the epoch from the CMOS RTC, or 0 if there is none."""
    cdef uint8_t status_b, hour_raw
    cdef uint64_t sec, minute, hour, day, month, year
    cdef int spins = 0
    status_b = cmos_read(RTC_STATUS_B)
    if status_b == 0xFF:
        return 0                         # nothing answers on the CMOS ports
    while cmos_read(RTC_STATUS_A) & RTC_UPDATE_IN_PROGRESS and spins < 100000:
        spins += 1
    cdef bint binary = (status_b & RTC_BINARY_MODE) != 0
    sec = bcd(cmos_read(RTC_SECONDS), binary)
    minute = bcd(cmos_read(RTC_MINUTES), binary)
    hour_raw = cmos_read(RTC_HOURS)
    hour = bcd(hour_raw & ~RTC_PM_BIT, binary)
    if not (status_b & RTC_24_HOUR):
        hour = hour % 12 + (12 if hour_raw & RTC_PM_BIT else 0)
    day = bcd(cmos_read(RTC_DAY), binary)
    month = bcd(cmos_read(RTC_MONTH), binary)
    year = RTC_CENTURY_BASE + bcd(cmos_read(RTC_YEAR), binary)
    if month < 1 or month > 12 or day < 1 or day > 31 or hour > 23 or minute > 59 or sec > 60:
        return 0
    return (<uint64_t>walltime_days_from_civil(year, month, day) * SECONDS_PER_DAY
            + hour * 3600 + minute * 60 + sec)

cdef void walltime_init(uint64_t cmdline_epoch_ns) noexcept nogil:
    global boot_epoch_ns, source
    cdef uint64_t now = monotonic_ns(), rtc
    if cmdline_epoch_ns != 0:
        boot_epoch_ns = cmdline_epoch_ns - now
        source = SOURCE_CMDLINE
        return
    rtc = rtc_read_epoch_seconds()
    if rtc != 0:
        boot_epoch_ns = rtc * NSEC_PER_SEC - now
        source = SOURCE_RTC

cdef uint64_t walltime_boot_epoch_ns() noexcept nogil:
    return boot_epoch_ns

cdef uint64_t walltime_ns() noexcept nogil:
    return boot_epoch_ns + monotonic_ns()

cdef void walltime_timespec(int64_t *sec, uint32_t *nsec) noexcept nogil:
    cdef uint64_t ns = walltime_ns()
    sec[0] = <int64_t>(ns // NSEC_PER_SEC)
    nsec[0] = <uint32_t>(ns % NSEC_PER_SEC)

cdef const char *walltime_source() noexcept nogil:
    if source == SOURCE_CMDLINE:
        return b"command line"
    if source == SOURCE_RTC:
        return b"CMOS RTC"
    return b"none (the clock starts at 1970)"
