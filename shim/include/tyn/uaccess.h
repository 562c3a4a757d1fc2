/*
 * User memory access.  Kernel code never dereferences a user pointer: it copies
 * through these, which return 0 or -EFAULT (bad range, unmapped, no permission).
 * Kernel build: shim/uaccess.S (faults inside the copy loops are turned into
 * -EFAULT by the page-fault handler resuming at uaccess_fault).  Host build: arch_host.c
 * checks against the simulated user windows tests register.
 */
#ifndef TYN_UACCESS_H
#define TYN_UACCESS_H
#include <stddef.h>
#include <stdint.h>

#define USER_ADDRESS_LIMIT 0x0000800000000000ULL   /* first non-user (non-canonical) address */

int64_t copy_from_user(void *dst, uint64_t user_src, size_t n);
int64_t copy_to_user(uint64_t user_dst, const void *src, size_t n);
int64_t clear_user(uint64_t user_dst, size_t n);
/* Copies a NUL-terminated string of at most max-1 bytes (plus NUL) into dst.
 * Returns its length, -EFAULT, or -ENAMETOOLONG if no NUL within max bytes. */
int64_t strncpy_from_user(char *dst, uint64_t user_src, size_t max);
/* The fault-fixup window of shim/uaccess.S and whether SMAP's stac/clac are in use. */
extern char uaccess_begin[], uaccess_end[], uaccess_fault[];
extern uint8_t uaccess_smap;
/* Bracket user accesses with stac/clac from now on (CR4.SMAP is being enabled). */
static inline void uaccess_use_smap(void) { uaccess_smap = 1; }
#endif
