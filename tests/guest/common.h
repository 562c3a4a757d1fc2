/* Shared helpers for the Linux-ABI differential programs (tests/guest/NAME.c).
 *
 * Every line a program prints must be the same on Linux and on Tyn: print results and
 * relations ("t2>t1: 1"), never addresses, times, pids or anything else that legitimately
 * differs between two runs or two kernels.  The exit status is 0 when the program ran to
 * the end (failed expectations are printed, not fatal), so a diff shows what differs. */
#ifndef TYN_GUEST_COMMON_H
#define TYN_GUEST_COMMON_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static inline const char *errname(int e)
{
    static char buf[24];
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case EDEADLK: return "EDEADLK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EOVERFLOW: return "EOVERFLOW";
    case ENOTSOCK: return "ENOTSOCK";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ETIMEDOUT: return "ETIMEDOUT";
    default:
        snprintf(buf, sizeof buf, "errno%d", e);
        return buf;
    }
}

/* A call returning -1 + errno on failure: "label: N" or "label: ERRNAME". */
#define R(label, expr) do { \
        errno = 0; \
        long r_ = (long)(expr); \
        if (r_ == -1) printf("%s: %s\n", (label), errname(errno)); \
        else printf("%s: %ld\n", (label), r_); \
    } while (0)
/* Same, but a non-negative result prints as "ok" (values that legitimately differ). */
#define OK(label, expr) do { \
        errno = 0; \
        long r_ = (long)(expr); \
        if (r_ == -1) printf("%s: %s\n", (label), errname(errno)); \
        else printf("%s: ok\n", (label)); \
    } while (0)
/* A call returning 0 or an error number (pthread_*): "label: 0" or "label: ERRNAME". */
#define P(label, expr) do { int e_ = (expr); printf("%s: %s\n", (label), errname(e_)); } while (0)
/* A relation or value that must agree: "label: V". */
#define V(label, expr) printf("%s: %ld\n", (label), (long)(expr))
#define SECTION(name) printf("== %s\n", (name))

#endif
