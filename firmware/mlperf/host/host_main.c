/*
 * The MLPerf Tiny mode on a PC: stdin/stdout as the serial port, the monotonic clock as
 * the microsecond timer. Tests build it with a model (a fake one, or generated C) to
 * drive the protocol from an independent client before and beside the real firmware.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tf_mlperf.h"
#include "tinyflow_model.h"

void tf_mlperf_write(const char *s, uint32_t n)
{
    fwrite(s, 1, n, stdout);
    fflush(stdout);
}

int tf_mlperf_getchar(void)
{
    int c = getchar();
    if (c == EOF)
        exit(0);   /* the host closed the port */
    return c;
}

uint32_t tf_mlperf_micros(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

void tf_mlperf_idle(void) {}

void tf_mlperf_timestamp_pin(void) {}

void tf_profile_layer(uint32_t layer) { (void)layer; }

int main(void)
{
    tf_mlperf_main();
    return 0;
}
