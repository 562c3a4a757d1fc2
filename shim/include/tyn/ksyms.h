/* The .ksyms table emitted by tyn.build.ksyms (sorted by address). */
#ifndef TYN_KSYMS_H
#define TYN_KSYMS_H
#include <stdint.h>

struct ksym { uint64_t address; const char *name; };
extern const uint64_t ksyms_count;
extern const struct ksym ksyms_table[];

#endif
