/* Prints the initial stack as Linux built it: the [stack] mapping's end and a hex dump of
 * [initial rsp, end).  Used by tests/test_initstack.py to check proc/initstack against the
 * real kernel (run with ASLR off: setarch -R).  Nothing above the initial rsp is written by
 * the C runtime, so the dump is what execve left. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv, char **envp)
{
    unsigned long top = 0, lo, hi;
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 2;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
            top = hi;
    fclose(f);
    if (!top)
        return 3;
    unsigned char *rsp = (unsigned char *)argv - 8;
    printf("top %lx\nrsp %lx\ndump ", top, (unsigned long)rsp);
    for (unsigned char *p = rsp; p < (unsigned char *)top; p++)
        printf("%02x", *p);
    printf("\n");
    return 0;
}
