/*
 * STM32H743 (NUCLEO-H743ZI2): 480 MHz from PLL1, console on USART3 (PD8/PD9, ST-LINK VCP).
 * Register addresses and sequences from RM0433 rev 8: PWR 6.8, RCC 8.7, FLASH 4.9.
 */
#include "../drivers/stm32_usart.h"

#define RCC          0x58024400u
#define RCC_CR       (RCC + 0x000u)
#define RCC_CFGR     (RCC + 0x010u)
#define RCC_D1CFGR   (RCC + 0x018u)
#define RCC_D2CFGR   (RCC + 0x01Cu)
#define RCC_D3CFGR   (RCC + 0x020u)
#define RCC_PLLCKSELR (RCC + 0x028u)
#define RCC_PLLCFGR  (RCC + 0x02Cu)
#define RCC_PLL1DIVR (RCC + 0x030u)
#define RCC_AHB4ENR  (RCC + 0x0E0u)
#define RCC_APB1LENR (RCC + 0x0E8u)
#define RCC_APB4ENR  (RCC + 0x0F4u)
#define PWR_CSR1     0x58024804u
#define PWR_CR3      0x5802480Cu
#define PWR_D3CR     0x58024818u
#define SYSCFG_PWRCR 0x5800042Cu
#define FLASH_ACR    0x52002000u
#define GPIOD        0x58020C00u

#define PCLK1_HZ (TF_CLOCK_HZ / 4u)  /* SYSCLK 480 -> AHB /2 -> APB1 /2 */

static void clock_480mhz(void)
{
    /* LDO supply (the Nucleo's default), then voltage scale 1, then VOS0 via SYSCFG ODEN. */
    REG32(PWR_CR3) = (REG32(PWR_CR3) & ~0x7u) | (1u << 1);     /* LDOEN, no bypass */
    wait_set(PWR_CSR1, 1u << 13);                               /* ACTVOSRDY */
    REG32(PWR_D3CR) |= 3u << 14;                                /* VOS1 */
    wait_set(PWR_D3CR, 1u << 13);                               /* VOSRDY */
    REG32(RCC_APB4ENR) |= 1u << 1;                              /* SYSCFGEN */
    REG32(SYSCFG_PWRCR) |= 1u;                                  /* ODEN: VOS0 */
    wait_set(PWR_D3CR, 1u << 13);

    /* HSE in bypass mode: the ST-LINK's 8 MHz MCO. */
    REG32(RCC_CR) |= (1u << 18) | (1u << 16);                   /* HSEBYP, HSEON */
    wait_set(RCC_CR, 1u << 17);                                 /* HSERDY */

    /* PLL1: 8 MHz / M=4 = 2 MHz, x N=480 = 960 MHz VCO, / P=2 = 480 MHz, / Q=4 = 240 MHz. */
    REG32(RCC_PLLCKSELR) = (4u << 4) | 2u;                      /* DIVM1=4, PLLSRC=HSE */
    REG32(RCC_PLLCFGR) = (REG32(RCC_PLLCFGR) & ~0xFu) | (1u << 2) /* PLL1RGE 2-4 MHz, wide VCO */
                         | (1u << 16) | (1u << 17) | (1u << 18); /* DIVP1EN DIVQ1EN DIVR1EN */
    REG32(RCC_PLL1DIVR) = (479u << 0) | (1u << 9) | (3u << 16) | (1u << 24);
    REG32(RCC_CR) |= 1u << 24;                                  /* PLL1ON */
    wait_set(RCC_CR, 1u << 25);                                 /* PLL1RDY */

    /* 4 wait states and WRHIGHFREQ=2 for a 240 MHz AXI clock at VOS0 (RM0433 table 17). */
    REG32(FLASH_ACR) = (2u << 4) | 4u;
    while ((REG32(FLASH_ACR) & 0x3Fu) != ((2u << 4) | 4u)) {
    }

    /* CPU /1, AHB /2 (240 MHz), APB1..4 /2 (120 MHz). */
    REG32(RCC_D1CFGR) = (0u << 8) | (4u << 4) | 8u;
    REG32(RCC_D2CFGR) = (4u << 8) | (4u << 4);
    REG32(RCC_D3CFGR) = 4u << 4;

    REG32(RCC_CFGR) = (REG32(RCC_CFGR) & ~7u) | 3u;             /* SW = PLL1 */
    while (((REG32(RCC_CFGR) >> 3) & 7u) != 3u) {
    }
}

void bsp_init(void)
{
    clock_480mhz();
    REG32(RCC_AHB4ENR) |= 1u << 3;                              /* GPIODEN */
    REG32(RCC_APB1LENR) |= 1u << 18;                            /* USART3EN */
    (void)REG32(RCC_APB1LENR);
    stm32_gpio_af(GPIOD, 8, 7);                                 /* USART3_TX */
    stm32_gpio_af(GPIOD, 9, 7);                                 /* USART3_RX */
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
