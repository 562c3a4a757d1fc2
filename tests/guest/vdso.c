/* The vDSO (AT_SYSINFO_EHDR): an ELF shared object exporting __vdso_clock_gettime,
 * __vdso_gettimeofday and __vdso_time (LINUX_2.6), whose answers agree with the system
 * calls: MONOTONIC interleaved with the system call never goes back, REALTIME agrees with
 * gettimeofday and time, clocks it does not compute still work (the system call behind
 * it), an unknown clock is -EINVAL.  musl's clock_gettime uses it when it is there. */
#include "common.h"
#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <time.h>
#include <sys/time.h>

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);

static uintptr_t base;
static const Elf64_Sym *symtab;
static const char *strtab;
static const Elf64_Half *versym;
static const Elf64_Verdef *verdef;
static uint32_t nsyms;

static int setup(void)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    uintptr_t bias = 0;
    int loads = 0;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_type != ET_DYN)
        return 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && loads++ == 0)
            bias = base + ph[i].p_offset - ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
    }
    if (!dyn)
        return 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: symtab = (const Elf64_Sym *)(bias + dyn->d_un.d_ptr); break;
        case DT_STRTAB: strtab = (const char *)(bias + dyn->d_un.d_ptr); break;
        case DT_HASH: nsyms = ((const uint32_t *)(bias + dyn->d_un.d_ptr))[1]; break;
        case DT_VERSYM: versym = (const Elf64_Half *)(bias + dyn->d_un.d_ptr); break;
        case DT_VERDEF: verdef = (const Elf64_Verdef *)(bias + dyn->d_un.d_ptr); break;
        }
    }
    base = bias;
    return symtab && strtab && nsyms && versym && verdef;
}

static const char *version_name(Elf64_Half index)
{
    const Elf64_Verdef *d = verdef;
    for (;;) {
        if ((d->vd_ndx & 0x7fff) == (index & 0x7fff))
            return strtab + ((const Elf64_Verdaux *)((const char *)d + d->vd_aux))->vda_name;
        if (!d->vd_next)
            return "";
        d = (const Elf64_Verdef *)((const char *)d + d->vd_next);
    }
}

static void *lookup(const char *name)
{
    for (uint32_t i = 0; i < nsyms; i++) {
        const Elf64_Sym *s = &symtab[i];
        if (s->st_shndx != SHN_UNDEF && ELF64_ST_TYPE(s->st_info) == STT_FUNC &&
            !strcmp(strtab + s->st_name, name) && !strcmp(version_name(versym[i]), "LINUX_2.6"))
            return (void *)(base + s->st_value);
    }
    return NULL;
}

static int64_t ns_of(const struct timespec *ts) { return ts->tv_sec * 1000000000LL + ts->tv_nsec; }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    SECTION("image");
    base = getauxval(AT_SYSINFO_EHDR);
    V("AT_SYSINFO_EHDR", base != 0);
    if (!base)
        return 0;
    V("ELF shared object with dynamic symbols", setup());
    gettime_fn vgettime = (gettime_fn)lookup("__vdso_clock_gettime");
    gettimeofday_fn vgettimeofday = (gettimeofday_fn)lookup("__vdso_gettimeofday");
    time_fn vtime = (time_fn)lookup("__vdso_time");
    V("__vdso_clock_gettime", vgettime != NULL);
    V("__vdso_gettimeofday", vgettimeofday != NULL);
    V("__vdso_time", vtime != NULL);
    if (!vgettime || !vgettimeofday || !vtime)
        return 0;

    SECTION("monotonic");
    struct timespec a, b, c;
    int backwards = 0, errors = 0;
    for (int i = 0; i < 2000; i++) {
        errors += syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a) != 0;
        errors += vgettime(CLOCK_MONOTONIC, &b) != 0;
        errors += syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &c) != 0;
        backwards += ns_of(&b) < ns_of(&a) || ns_of(&c) < ns_of(&b);
    }
    V("errors", errors);
    V("syscall <= vdso <= syscall, 2000 times", backwards == 0);
    V("nsec in range", b.tv_nsec >= 0 && b.tv_nsec < 1000000000L);
    V("monotonic raw", vgettime(CLOCK_MONOTONIC_RAW, &b));
    V("monotonic coarse", vgettime(CLOCK_MONOTONIC_COARSE, &b));
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &a);
    V("boottime", vgettime(CLOCK_BOOTTIME, &b));
    V("boottime not before monotonic", ns_of(&b) >= ns_of(&a));

    SECTION("realtime");
    struct timeval tv;
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &a);
    V("vdso realtime", vgettime(CLOCK_REALTIME, &b));
    V("vdso gettimeofday", vgettimeofday(&tv, NULL));
    time_t t1 = 0, t2 = vtime(&t1);
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &c);
    V("realtime between syscalls", ns_of(&a) <= ns_of(&b) && ns_of(&b) <= ns_of(&c));
    V("gettimeofday between", tv.tv_sec * 1000000LL + tv.tv_usec >= ns_of(&a) / 1000 &&
      tv.tv_sec * 1000000LL + tv.tv_usec <= ns_of(&c) / 1000);
    V("time stored and returned", t1 == t2);
    V("time between", t2 >= a.tv_sec && t2 <= c.tv_sec);
    V("gettimeofday NULL tv", vgettimeofday(NULL, NULL));
    V("time NULL", vtime(NULL) >= t2);

    SECTION("fallbacks");
    V("process cputime", vgettime(CLOCK_PROCESS_CPUTIME_ID, &a));
    V("thread cputime", vgettime(CLOCK_THREAD_CPUTIME_ID, &a));
    V("unknown clock", vgettime(99, &a));
    V("libc clock_gettime", clock_gettime(CLOCK_MONOTONIC, &a));
    return 0;
}
