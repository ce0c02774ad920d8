/*
 * Reading a host file into memory through semihosting, for virtual boards only: QEMU runs
 * with -semihosting-config enable=on,target=native, and a SYS_READ moves a whole input in
 * one trap, where the emulated UART moves one byte per QEMU main-loop turn (about 20 kB/s).
 * Real boards answer -1 and the host falls back to the serial link.
 */
#include <stdint.h>
#include <string.h>

#include "../bsp.h"

#if TF_VIRTUAL
static int32_t semihost(uint32_t op, const uint32_t *args)
{
    register uint32_t r0 __asm("r0") = op;
    register const uint32_t *r1 __asm("r1") = args;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}
#endif

int32_t tf_host_read_file(const char *path, uint32_t len, uint8_t *dst, uint32_t cap)
{
#if TF_VIRTUAL
    char name[256];
    if (len == 0 || len >= sizeof name)
        return -1;
    memcpy(name, path, len);
    name[len] = 0;  /* QEMU reads the name as a C string */
    const uint32_t open_args[3] = {(uint32_t)(uintptr_t)name, 1u /* "rb" */, len};
    int32_t h = semihost(0x01u, open_args);           /* SYS_OPEN */
    if (h < 0)
        return -1;
    const uint32_t read_args[3] = {(uint32_t)h, (uint32_t)(uintptr_t)dst, cap};
    int32_t left = semihost(0x06u, read_args);        /* SYS_READ: bytes not read */
    const uint32_t close_args[1] = {(uint32_t)h};
    (void)semihost(0x02u, close_args);                /* SYS_CLOSE */
    if (left < 0 || (uint32_t)left > cap)
        return -1;
    return (int32_t)(cap - (uint32_t)left);
#else
    (void)path;
    (void)len;
    (void)dst;
    (void)cap;
    return -1;
#endif
}
