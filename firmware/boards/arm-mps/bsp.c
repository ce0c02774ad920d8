/* Arm MPS2/MPS3 prototyping boards as QEMU models them (mps2-an386, mps2-an500,
 * mps3-an547): a CMSDK UART0 and no clock set-up (QEMU's clocks are fixed). Which UART,
 * its IRQ and its input clock come from the board file; AN547 boots Secure with the SAU
 * off, so it needs no TrustZone set-up either. */
#include "../drivers/cmsdk_uart.h"

#ifndef TF_CONSOLE_CLOCK_HZ
#error "arm-mps boards need [console] clock_hz (the UART's PCLK) in the board file"
#endif

void bsp_init(void)
{
    cmsdk_uart_init(TF_CONSOLE_BASE, TF_CONSOLE_CLOCK_HZ, TF_CONSOLE_BAUD);
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
