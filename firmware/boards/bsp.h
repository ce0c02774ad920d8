/*
 * The board support interface: what main.c and the protocol need from a board.
 *
 * cortex_m/ implements the parts every Cortex-M shares (startup, faults, timer, stack
 * painting, console ring buffer); each family folder implements bsp_init() and the
 * console UART. Board facts arrive as -D flags generated from the board file:
 *   TF_CLOCK_HZ, TF_CONSOLE_BASE, TF_CONSOLE_IRQ, TF_CONSOLE_BAUD, TF_VIRTUAL (0/1).
 */
#ifndef TF_BSP_H
#define TF_BSP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- implemented by the family (firmware/boards/<family>/) ---- */

/* Clocks, pins and the console UART with its RX interrupt enabled. Called once from
 * reset, after .data/.bss are set up and before main(). */
void bsp_init(void);

/* Blocking write of n bytes to the console. Safe from fault handlers. */
void bsp_console_write(const uint8_t *p, uint32_t n);

/* The console UART's interrupt handler: moves every received byte into the ring with
 * console_rx_push() and acknowledges the interrupt. */
void bsp_console_irq(void);

/* ---- implemented in cortex_m/ ---- */

/* Called by bsp_console_irq() for each received byte. */
void console_rx_push(uint8_t b);

/* Next received byte, or -1 when the ring is empty. */
int console_getc(void);

/* Bytes dropped because the ring was full (the host sent faster than we parsed). */
uint32_t console_rx_overflows(void);

/* Sleep until an interrupt (a received byte, a timer tick). */
void bsp_wait(void);

/* Free-running 64-bit core-cycle counter (DWT CYCCNT where it counts, else SysTick at the
 * core clock). Under QEMU -icount the count is virtual time, see docs/protocol.md. */
void tf_timer_start(void);   /* zero the count and start it */
void tf_timer_stop(void);
uint64_t tf_cycles(void);      /* cycles since tf_timer_start() */
uint32_t tf_cycles_hz(void);
int tf_cycles_is_dwt(void);

/* Stack painting: paint the unused stack below the caller's frame, then after some work
 * measure the deepest point reached, as bytes from the stack top. */
void tf_stack_paint(void);
uint32_t tf_stack_used(void);
uint32_t tf_stack_size(void);

/* Virtual boards: read up to `cap` bytes of the host file `path` (len bytes, not
 * terminated) into dst via semihosting; returns the bytes read, or -1 (real boards, or the
 * file cannot be opened). */
int32_t tf_host_read_file(const char *path, uint32_t len, uint8_t *dst, uint32_t cap);

/* Leave: QEMU exits with `code` (semihosting); a real board resets. */
void tf_exit(int code) __attribute__((noreturn));

/* Fault reporting hook, provided by the protocol layer: sends a FAULT frame. */
void tf_report_fault(uint32_t kind, const uint32_t *frame, const uint32_t *sysregs);

#ifdef __cplusplus
}
#endif

#endif
