/*
 * The MLPerf Tiny mode's hooks on a tinyflow board: console and cycle counter from the
 * board support (firmware/boards/bsp.h). Linked instead of firmware/protocol/ when the
 * firmware is built for MLPerf Tiny, so it also supplies the two symbols the protocol
 * layer would: tf_report_fault() and tf_profile_layer().
 */
#include <stdint.h>

#include "bsp.h"
#include "tf_mlperf.h"
#include "tinyflow_model.h"

static int timer_running;

void tf_mlperf_write(const char *s, uint32_t n) { bsp_console_write((const uint8_t *)s, n); }

int tf_mlperf_getchar(void) { return console_getc(); }

void tf_mlperf_idle(void) { bsp_wait(); }

#ifndef TF_VIRTUAL
#define TF_VIRTUAL 0
#endif
#ifndef TF_ICOUNT_SHIFT
#define TF_ICOUNT_SHIFT 0
#endif

/* a * num / den without overflowing 64 bits for the values met here */
static uint64_t scale(uint64_t a, uint64_t num, uint64_t den)
{
    return (a / den) * num + (a % den) * num / den;
}

/* The cycle counter runs from the first timestamp on and is never stopped.
 *
 * On QEMU (-icount shift=N) the counter is virtual time: one instruction is 2^N ns
 * whatever the board's clock. Converted here to executed instructions, then to
 * microseconds at the board's clock, so MLPerf timings on a virtual board read as on an
 * ideal core running one instruction per cycle -- the same convention as `tinyflow eval`. */
uint32_t tf_mlperf_micros(void)
{
    if (!timer_running) {
        tf_timer_start();
        timer_running = 1;
    }
    uint64_t c = tf_cycles();
    uint64_t hz = tf_cycles_hz();
#if TF_VIRTUAL
    c = scale(c, 1000000000u, hz) >> TF_ICOUNT_SHIFT;   /* instructions = cycles here */
#endif
    return (uint32_t)scale(c, 1000000u, hz);
}

/* Boards wire a GPIO for energy mode here; the default does nothing. */
__attribute__((weak)) void tf_mlperf_timestamp_pin(void) {}

void tf_profile_layer(uint32_t layer) { (void)layer; }

static void put_hex32(uint32_t v)
{
    char b[9];
    for (int i = 7; i >= 0; i--, v >>= 4)
        b[i] = "0123456789abcdef"[v & 15u];
    b[8] = 0;
    tf_mlperf_write(b, 8);
}

/* A CPU fault: say so in the protocol's error style, then stop (QEMU exits non-zero). */
void tf_report_fault(uint32_t kind, const uint32_t *frame, const uint32_t *sysregs)
{
    (void)sysregs;
    tf_mlperf_write("e-[CPU fault ", 13);
    put_hex32(kind);
    tf_mlperf_write(" pc ", 4);
    put_hex32(frame != 0 ? frame[6] : 0u);
    tf_mlperf_write("]\r\n", 3);
    tf_exit(100 + (int)kind);
}
