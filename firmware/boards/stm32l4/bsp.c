/*
 * STM32L4R5 (NUCLEO-L4R5ZI): 120 MHz from PLL on HSI16 in range 1 boost mode, console on
 * LPUART1 (PG7/PG8, ST-LINK VCP). RM0432 rev 9: PWR 6.4, RCC 6.4, FLASH 3.7.
 */
#include "../drivers/stm32_usart.h"

#define RCC          0x40021000u
#define RCC_CR       (RCC + 0x00u)
#define RCC_CFGR     (RCC + 0x08u)
#define RCC_PLLCFGR  (RCC + 0x0Cu)
#define RCC_AHB2ENR  (RCC + 0x4Cu)
#define RCC_APB1ENR1 (RCC + 0x58u)
#define RCC_APB1ENR2 (RCC + 0x5Cu)
#define RCC_CCIPR    (RCC + 0x88u)
#define PWR_CR2      0x40007004u
#define PWR_CR5      0x40007080u
#define FLASH_ACR    0x40022000u
#define GPIOG        0x48001800u

static void clock_120mhz(void)
{
    REG32(RCC_APB1ENR1) |= 1u << 28;                            /* PWREN */
    (void)REG32(RCC_APB1ENR1);
    REG32(PWR_CR5) &= ~(1u << 8);                               /* R1MODE=0: boost */
    REG32(FLASH_ACR) = (REG32(FLASH_ACR) & ~0xFu) | 5u;         /* 5 WS at 120 MHz */
    while ((REG32(FLASH_ACR) & 0xFu) != 5u) {
    }
    REG32(RCC_CR) |= 1u << 8;                                   /* HSION */
    wait_set(RCC_CR, 1u << 10);
    /* HSI16 / M=1 x N=15 = 240 MHz VCO, / R=2 = 120 MHz. */
    REG32(RCC_PLLCFGR) = 2u | (0u << 4) | (15u << 8) | (1u << 24) | (0u << 25);
    REG32(RCC_CR) |= 1u << 24;                                  /* PLLON */
    wait_set(RCC_CR, 1u << 25);
    /* Above 80 MHz the switch goes through AHB/2 for at least 1 us (RM0432 6.2.9). */
    REG32(RCC_CFGR) = (REG32(RCC_CFGR) & ~0xF0u) | (8u << 4);
    REG32(RCC_CFGR) = (REG32(RCC_CFGR) & ~3u) | 3u;             /* SW = PLL */
    while (((REG32(RCC_CFGR) >> 2) & 3u) != 3u) {
    }
    for (volatile uint32_t i = 0; i < 200; i++) {
    }
    REG32(RCC_CFGR) &= ~0xF0u;                                  /* AHB /1 */
}

void bsp_init(void)
{
    clock_120mhz();
    REG32(PWR_CR2) |= 1u << 9;                                  /* IOSV: port G is on VDDIO2 */
    REG32(RCC_AHB2ENR) |= 1u << 6;                              /* GPIOGEN */
    REG32(RCC_APB1ENR2) |= 1u << 0;                             /* LPUART1EN */
    REG32(RCC_CCIPR) &= ~(3u << 10);                            /* LPUART1 on PCLK1 */
    (void)REG32(RCC_APB1ENR2);
    stm32_gpio_af(GPIOG, 7, 8);                                 /* LPUART1_TX */
    stm32_gpio_af(GPIOG, 8, 8);                                 /* LPUART1_RX */
    /* An LPUART's BRR is 256 * f / baud. */
    stm32_usart_init(TF_CONSOLE_BASE,
                     (uint32_t)(((uint64_t)TF_CLOCK_HZ * 256u + TF_CONSOLE_BAUD / 2) /
                                TF_CONSOLE_BAUD));
    nvic_enable(TF_CONSOLE_IRQ);
}

void bsp_console_write(const uint8_t *p, uint32_t n)
{
    stm32_usart_write(TF_CONSOLE_BASE, p, n);
}

void bsp_console_irq(void)
{
    stm32_usart_irq(TF_CONSOLE_BASE);
}
