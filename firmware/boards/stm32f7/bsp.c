/*
 * STM32F746 (NUCLEO-F746ZG): 216 MHz from the main PLL with over-drive, console on USART3
 * (PD8/PD9, ST-LINK VCP). RM0385 rev 8: PWR 4.4, RCC 5.3, FLASH 3.7.
 */
#include "../drivers/stm32_usart.h"

#define RCC         0x40023800u
#define RCC_CR      (RCC + 0x00u)
#define RCC_PLLCFGR (RCC + 0x04u)
#define RCC_CFGR    (RCC + 0x08u)
#define RCC_AHB1ENR (RCC + 0x30u)
#define RCC_APB1ENR (RCC + 0x40u)
#define PWR_CR1     0x40007000u
#define PWR_CSR1    0x40007004u
#define FLASH_ACR   0x40023C00u
#define GPIOD       0x40020C00u

#define PCLK1_HZ (TF_CLOCK_HZ / 4u)  /* APB1 at 54 MHz */

static void clock_216mhz(void)
{
    REG32(RCC_APB1ENR) |= 1u << 28;                             /* PWREN */
    REG32(PWR_CR1) |= 3u << 14;                                 /* VOS scale 1 */
    REG32(RCC_CR) |= (1u << 18) | (1u << 16);                   /* HSEBYP, HSEON */
    wait_set(RCC_CR, 1u << 17);
    /* 8 MHz / M=4 = 2 MHz, x N=216 = 432 MHz VCO, / P=2 = 216 MHz, / Q=9 = 48 MHz. */
    REG32(RCC_PLLCFGR) = 4u | (216u << 6) | (0u << 16) | (1u << 22) | (9u << 24);
    REG32(RCC_CR) |= 1u << 24;                                  /* PLLON */
    wait_set(RCC_CR, 1u << 25);
    REG32(PWR_CR1) |= 1u << 16;                                 /* ODEN */
    wait_set(PWR_CSR1, 1u << 16);                               /* ODRDY */
    REG32(PWR_CR1) |= 1u << 17;                                 /* ODSWEN */
    wait_set(PWR_CSR1, 1u << 17);                               /* ODSWRDY */
    REG32(FLASH_ACR) = 7u | (1u << 8) | (1u << 9);              /* 7 WS, prefetch, ART */
    while ((REG32(FLASH_ACR) & 0xFu) != 7u) {
    }
    REG32(RCC_CFGR) = (REG32(RCC_CFGR) & ~0xFCF3u) | (5u << 10) | (4u << 13); /* APB1/4 APB2/2 */
    REG32(RCC_CFGR) = (REG32(RCC_CFGR) & ~3u) | 2u;             /* SW = PLL */
    while (((REG32(RCC_CFGR) >> 2) & 3u) != 2u) {
    }
}

void bsp_init(void)
{
    clock_216mhz();
    REG32(RCC_AHB1ENR) |= 1u << 3;                              /* GPIODEN */
    REG32(RCC_APB1ENR) |= 1u << 18;                             /* USART3EN */
    (void)REG32(RCC_APB1ENR);
    stm32_gpio_af(GPIOD, 8, 7);
    stm32_gpio_af(GPIOD, 9, 7);
    stm32_usart_init(TF_CONSOLE_BASE, (PCLK1_HZ + TF_CONSOLE_BAUD / 2) / TF_CONSOLE_BAUD);
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
