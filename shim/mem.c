/* memcpy-class primitives: gcc emits calls to these even in freestanding code. */
#include <stddef.h>
#include <stdint.h>

/* Bulk in 8-byte units: a string instruction that a hypervisor has to emulate (PVM traps
 * writes to frames it tracks as page tables) then costs an eighth of the iterations. */
void *memcpy(void *dst, const void *src, size_t n) {
    void *ret = dst;
    size_t words = n >> 3, tail = n & 7;
    __asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(words) :: "memory");
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(tail) :: "memory");
    return ret;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    d += n - 1;
    s += n - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) :: "memory");
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    void *ret = dst;
    uint64_t pattern = 0x0101010101010101ULL * (uint8_t)c;
    size_t words = n >> 3, tail = n & 7;
    __asm__ volatile("rep stosq" : "+D"(dst), "+c"(words) : "a"(pattern) : "memory");
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(tail) : "a"(pattern) : "memory");
    return ret;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}
