/* MPS2 (QEMU mps2-an386 / mps2-an500): CMSDK UART0, no clock set-up (QEMU's SYSCLK is
 * fixed at 25 MHz, and so is the UART's PCLK). */
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
