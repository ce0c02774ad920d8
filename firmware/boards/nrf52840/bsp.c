/*
 * nRF52840 (Arduino Nano 33 BLE): the CPU always runs at 64 MHz; start the crystal (HFXO)
 * so the UART baud rate is accurate. Console on UART0 (legacy, non-DMA) with TX on P1.03
 * (pin D1) and RX on P1.10 (pin D0). nRF52840 PS v1.7: CLOCK 6.4, UART 6.33.
 */
#include "../cortex_m/cmsis_min.h"
#include "../bsp.h"

#define CLOCK_TASKS_HFCLKSTART   0x40000000u
#define CLOCK_EVENTS_HFCLKSTARTED 0x40000100u

#define UART_TASKS_STARTRX (TF_CONSOLE_BASE + 0x000u)
#define UART_TASKS_STARTTX (TF_CONSOLE_BASE + 0x008u)
#define UART_EVENTS_RXDRDY (TF_CONSOLE_BASE + 0x108u)
#define UART_EVENTS_TXDRDY (TF_CONSOLE_BASE + 0x11Cu)
#define UART_EVENTS_ERROR  (TF_CONSOLE_BASE + 0x124u)
#define UART_INTENSET      (TF_CONSOLE_BASE + 0x304u)
#define UART_ERRORSRC      (TF_CONSOLE_BASE + 0x480u)
#define UART_ENABLE        (TF_CONSOLE_BASE + 0x500u)
#define UART_PSEL_TXD      (TF_CONSOLE_BASE + 0x50Cu)
#define UART_PSEL_RXD      (TF_CONSOLE_BASE + 0x514u)
#define UART_RXD           (TF_CONSOLE_BASE + 0x518u)
#define UART_TXD           (TF_CONSOLE_BASE + 0x51Cu)
#define UART_BAUDRATE      (TF_CONSOLE_BASE + 0x524u)

#define PIN(port, n) (((port) << 5) | (n))

void bsp_init(void)
{
    REG32(CLOCK_EVENTS_HFCLKSTARTED) = 0;
    REG32(CLOCK_TASKS_HFCLKSTART) = 1;
    while (!REG32(CLOCK_EVENTS_HFCLKSTARTED)) {
    }
    REG32(UART_PSEL_TXD) = PIN(1u, 3u);
    REG32(UART_PSEL_RXD) = PIN(1u, 10u);
    REG32(UART_BAUDRATE) = 0x01D7E000u;   /* 115200 (PS table 6.33.13) */
    REG32(UART_ENABLE) = 4u;
    REG32(UART_EVENTS_RXDRDY) = 0;
    REG32(UART_INTENSET) = (1u << 2) | (1u << 9);  /* RXDRDY, ERROR */
    REG32(UART_TASKS_STARTRX) = 1;
    REG32(UART_TASKS_STARTTX) = 1;
    nvic_enable(TF_CONSOLE_IRQ);
}

void bsp_console_write(const uint8_t *p, uint32_t n)
{
    while (n--) {
        REG32(UART_EVENTS_TXDRDY) = 0;
        REG32(UART_TXD) = *p++;
        while (!REG32(UART_EVENTS_TXDRDY)) {
        }
    }
}

void bsp_console_irq(void)
{
    if (REG32(UART_EVENTS_ERROR)) {
        REG32(UART_EVENTS_ERROR) = 0;
        REG32(UART_ERRORSRC) = REG32(UART_ERRORSRC);  /* write 1s to clear */
    }
    while (REG32(UART_EVENTS_RXDRDY)) {
        REG32(UART_EVENTS_RXDRDY) = 0;  /* clear before reading RXD (PS 6.33.5) */
        console_rx_push((uint8_t)REG32(UART_RXD));
    }
}
