/* The console's receive ring: filled by the UART interrupt, drained by the main loop.
 * One producer (the ISR) and one consumer, so indices need no lock. */
#include <stdint.h>

#include "../bsp.h"

#define RING_SIZE 2048u  /* a power of two; more than one full protocol frame */

static volatile uint8_t ring[RING_SIZE];
static volatile uint32_t head, tail, overflows;

void console_rx_push(uint8_t b)
{
    uint32_t h = head;
    if (h - tail >= RING_SIZE) {
        overflows++;
        return;
    }
    ring[h & (RING_SIZE - 1)] = b;
    head = h + 1;
}

int console_getc(void)
{
    uint32_t t = tail;
    if (t == head)
        return -1;
    int b = ring[t & (RING_SIZE - 1)];
    tail = t + 1;
    return b;
}

uint32_t console_rx_overflows(void)
{
    return overflows;
}

/* Masking interrupts around the check closes the race with a byte arriving just before
 * WFI: a pending interrupt still wakes WFI, and runs once they are unmasked. */
void bsp_wait(void)
{
    __asm volatile("cpsid i" ::: "memory");
    if (head == tail)
        __asm volatile("wfi");
    __asm volatile("cpsie i" ::: "memory");
}
