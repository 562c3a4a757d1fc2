/* Where the root filesystem (a newc cpio) lies: patched into the image by tyn.build.bootimage. */
#ifndef TYN_INITFS_H
#define TYN_INITFS_H
#include <stdint.h>

#define INITFS_MAGIC 0x5346494E59545F31ULL   /* "1_TYNIFS" */

struct initfs_descriptor { uint64_t magic, phys, size; };
extern struct initfs_descriptor initfs_descriptor;
#endif
