/* The STM32 USART/LPUART of the F7, L4, H7 and U5 series (same register layout).
 * Offsets: RM0385 31.8, RM0432 44.8, RM0433 48.7, RM0456 67.8. */
#ifndef TF_STM32_USART_H
#define TF_STM32_USART_H

#include <stdint.h>

#include "../bsp.h"
#include "../cortex_m/cmsis_min.h"

#define USART_CR1(b) REG32((b) + 0x00u)
#define USART_BRR(b) REG32((b) + 0x0Cu)
#define USART_ISR(b) REG32((b) + 0x1Cu)
#define USART_ICR(b) REG32((b) + 0x20u)
#define USART_RDR(b) REG32((b) + 0x24u)
#define USART_TDR(b) REG32((b) + 0x28u)

#define USART_CR1_UE     (1u << 0)
#define USART_CR1_RE     (1u << 2)
#define USART_CR1_TE     (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_ISR_ORE    (1u << 3)
#define USART_ISR_RXNE   (1u << 5)
#define USART_ISR_TXE    (1u << 7)

/* brr: kernel clock / baud for a USART, 256 * kernel clock / baud for an LPUART. */
static inline void stm32_usart_init(uint32_t base, uint32_t brr)
{
    USART_CR1(base) = 0;
    USART_BRR(base) = brr;
    USART_CR1(base) = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
}

static inline void stm32_usart_write(uint32_t base, const uint8_t *p, uint32_t n)
{
    while (n--) {
        while (!(USART_ISR(base) & USART_ISR_TXE)) {
        }
        USART_TDR(base) = *p++;
    }
}

static inline void stm32_usart_irq(uint32_t base)
{
    if (USART_ISR(base) & USART_ISR_ORE)
        USART_ICR(base) = USART_ISR_ORE;
    while (USART_ISR(base) & USART_ISR_RXNE)
        console_rx_push((uint8_t)USART_RDR(base));
}

/* GPIO alternate function for one pin (same GPIO block on all four series). */
static inline void stm32_gpio_af(uint32_t gpio, uint32_t pin, uint32_t af)
{
    REG32(gpio + 0x00u) = (REG32(gpio + 0x00u) & ~(3u << (2 * pin))) | (2u << (2 * pin));
    REG32(gpio + 0x08u) |= 3u << (2 * pin);                           /* very high speed */
    uint32_t afr = gpio + (pin < 8 ? 0x20u : 0x24u);
    uint32_t sh = 4u * (pin & 7u);
    REG32(afr) = (REG32(afr) & ~(0xFu << sh)) | (af << sh);
}

static inline void wait_set(uint32_t addr, uint32_t mask)
{
    while ((REG32(addr) & mask) != mask) {
    }
}

#endif
