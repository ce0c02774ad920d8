/* Arm CMSDK APB UART (MPS2, MPS3). Arm DDI 0479 "Cortex-M System Design Kit", 4.3. */
#ifndef TF_CMSDK_UART_H
#define TF_CMSDK_UART_H

#include <stdint.h>

#include "../bsp.h"
#include "../cortex_m/cmsis_min.h"

#define CMSDK_DATA(b)     REG32((b) + 0x00u)
#define CMSDK_STATE(b)    REG32((b) + 0x04u)  /* b0 TX full, b1 RX full, b2/b3 overruns */
#define CMSDK_CTRL(b)     REG32((b) + 0x08u)  /* b0 TX en, b1 RX en, b3 RX irq en */
#define CMSDK_INTCLEAR(b) REG32((b) + 0x0Cu)
#define CMSDK_BAUDDIV(b)  REG32((b) + 0x10u)

static inline void cmsdk_uart_init(uint32_t base, uint32_t pclk, uint32_t baud)
{
    CMSDK_BAUDDIV(base) = pclk / baud;
    CMSDK_CTRL(base) = (1u << 0) | (1u << 1) | (1u << 3);
    /* QEMU polls its chardev again only when DATA is read, not when CTRL is written:
     * without this read, bytes sent before RX was enabled are never delivered. */
    (void)CMSDK_DATA(base);
}

static inline void cmsdk_uart_write(uint32_t base, const uint8_t *p, uint32_t n)
{
    while (n--) {
        while (CMSDK_STATE(base) & 1u) {
        }
        CMSDK_DATA(base) = *p++;
    }
}

/* Acknowledge first, then drain: a byte that lands after the last read raises the
 * interrupt again. The other order loses that race and stalls RX for good, because the
 * UART holds the unread byte and accepts nothing more. */
static inline void cmsdk_uart_irq(uint32_t base)
{
    CMSDK_INTCLEAR(base) = 2u;
    CMSDK_STATE(base) = 0xCu;     /* clear overrun flags */
    while (CMSDK_STATE(base) & 2u)
        console_rx_push((uint8_t)CMSDK_DATA(base));
}

#endif
