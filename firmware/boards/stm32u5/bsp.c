/*
 * STM32U575 (NUCLEO-U575ZI-Q), TrustZone disabled: 160 MHz from PLL1 on HSI16 in range 1
 * with the EPOD booster, console on USART1 (PA9/PA10, STLINK-V3 VCP).
 * RM0456 rev 4: PWR 10.10, RCC 11.8, FLASH 7.9 (non-secure register addresses).
 */
#include "../drivers/stm32_usart.h"

#define RCC           0x46020C00u
#define RCC_CR        (RCC + 0x000u)
#define RCC_CFGR1     (RCC + 0x01Cu)
#define RCC_PLL1CFGR  (RCC + 0x028u)
#define RCC_PLL1DIVR  (RCC + 0x034u)
#define RCC_AHB2ENR1  (RCC + 0x08Cu)
#define RCC_AHB3ENR   (RCC + 0x094u)
#define RCC_APB2ENR   (RCC + 0x0A4u)
#define PWR_VOSR      0x4602080Cu
#define FLASH_ACR     0x40022000u
#define GPIOA         0x42020000u

static void clock_160mhz(void)
{
    REG32(RCC_AHB3ENR) |= 1u << 2;                              /* PWREN */
    (void)REG32(RCC_AHB3ENR);
    REG32(RCC_CR) |= 1u << 8;                                   /* HSION */
    wait_set(RCC_CR, 1u << 10);
    /* HSI16 / M=1 = 16 MHz (range 8-16 MHz), x N=10 = 160 MHz, / R=1. The PLL1 source
     * also clocks the EPOD booster, so it is chosen before BOOSTEN (RM0456 10.5.4). */
    REG32(RCC_PLL1CFGR) = 2u | (3u << 2) | (0u << 8) | (1u << 18);  /* SRC, RGE, M, REN */
    REG32(PWR_VOSR) |= (3u << 16) | (1u << 18);                 /* range 1, BOOSTEN */
    wait_set(PWR_VOSR, (1u << 15) | (1u << 14));                /* VOSRDY, BOOSTRDY */
    REG32(FLASH_ACR) = (REG32(FLASH_ACR) & ~0xFu) | 4u;         /* 4 WS at 160 MHz */
    while ((REG32(FLASH_ACR) & 0xFu) != 4u) {
    }
    REG32(RCC_PLL1DIVR) = (9u << 0) | (0u << 24) | (1u << 9) | (1u << 16);
    REG32(RCC_CR) |= 1u << 24;                                  /* PLL1ON */
    wait_set(RCC_CR, 1u << 25);
    REG32(RCC_CFGR1) = (REG32(RCC_CFGR1) & ~3u) | 3u;           /* SW = PLL1 */
    while (((REG32(RCC_CFGR1) >> 2) & 3u) != 3u) {
    }
}

void bsp_init(void)
{
    clock_160mhz();
    REG32(RCC_AHB2ENR1) |= 1u << 0;                             /* GPIOAEN */
    REG32(RCC_APB2ENR) |= 1u << 14;                             /* USART1EN */
    (void)REG32(RCC_APB2ENR);
    stm32_gpio_af(GPIOA, 9, 7);
    stm32_gpio_af(GPIOA, 10, 7);
    stm32_usart_init(TF_CONSOLE_BASE, (TF_CLOCK_HZ + TF_CONSOLE_BAUD / 2) / TF_CONSOLE_BAUD);
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
