/* MPS3 AN547 (Corstone-300, QEMU mps3-an547): CMSDK UART0 at 0x49303000 on a 25 MHz PCLK,
 * the core at 32 MHz. It boots Secure with the SAU off, so no TrustZone set-up is needed. */
#include "../drivers/cmsdk_uart.h"

#define PCLK_HZ 25000000u

void bsp_init(void)
{
    cmsdk_uart_init(TF_CONSOLE_BASE, PCLK_HZ, TF_CONSOLE_BAUD);
    nvic_enable(TF_CONSOLE_IRQ);
}

void bsp_console_write(const uint8_t *p, uint32_t n)
{
    cmsdk_uart_write(TF_CONSOLE_BASE, p, n);
}

void bsp_console_irq(void)
{
    cmsdk_uart_irq(TF_CONSOLE_BASE);
}
