/*
 * The cycle counter behind tf_cycles(): DWT CYCCNT where it exists and counts (real
 * M3/M4/M7/M33/M55), else SysTick clocked from the core (Cortex-M0+, and QEMU, whose DWT
 * reads as zero). Either way it counts core cycles at TF_CLOCK_HZ; under QEMU -icount
 * that is virtual time, i.e. instructions scaled by the clock (docs/protocol.md).
 *
 * SysTick runs only while a measurement is open (tf_timer_start/stop): an idle firmware
 * sleeping in WFI then has no timer deadline, so QEMU with -icount sleep=off does not spin
 * through virtual time while waiting for the host.
 */
#include <stdint.h>

#include "../bsp.h"
#include "cmsis_min.h"

#define SYST_RELOAD 0xFFFFFFu

static volatile uint32_t systick_wraps;
static volatile uint32_t dwt_hi, dwt_last;
static int use_dwt;

static inline uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* Must run at least once per 2^32 cycles; the SysTick interrupt guarantees that. */
static uint64_t dwt_read(void)
{
    uint32_t now = DWT_CYCCNT;
    if (now < dwt_last)
        dwt_hi++;
    dwt_last = now;
    return ((uint64_t)dwt_hi << 32) | now;
}

void tf_systick_isr(void)
{
    if (use_dwt)
        (void)dwt_read();
    else
        systick_wraps++;
}

void tf_timer_init(void)
{
#if !defined(__ARM_ARCH_6M__)
    DEMCR |= 1u << 24;       /* TRCENA */
    DWT_LAR = 0xC5ACCE55u;   /* unlock (Cortex-M7); ignored elsewhere */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;          /* CYCCNTENA */
    uint32_t a = DWT_CYCCNT;
    for (volatile int i = 0; i < 8; i++) {
    }
    use_dwt = DWT_CYCCNT != a;
#endif
    SYST_CSR = 0;
}

void tf_timer_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    systick_wraps = 0;
    if (use_dwt) {
        dwt_hi = 0;
        dwt_last = 0;
        DWT_CYCCNT = 0;
    }
    SYST_CSR = 7u;           /* ENABLE | TICKINT | CLKSOURCE = core clock */
    /* CVR reads 0 until the first reload; tf_cycles() would take that for a full period. */
    while (SYST_CVR == 0) {
    }
}

void tf_timer_stop(void)
{
    SYST_CSR = 0;
}

uint64_t tf_cycles(void)
{
    if (use_dwt) {
        uint32_t m = irq_save();
        uint64_t c = dwt_read();
        irq_restore(m);
        return c;
    }
    uint32_t hi, lo;
    do {
        hi = systick_wraps;
        lo = SYST_CVR;
    } while (hi != systick_wraps);
    return ((uint64_t)hi << 24) + (SYST_RELOAD - lo);
}

uint32_t tf_cycles_hz(void)
{
    return TF_CLOCK_HZ;
}

int tf_cycles_is_dwt(void)
{
    return use_dwt;
}
