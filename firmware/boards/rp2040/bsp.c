/*
 * RP2040 (Raspberry Pi Pico): 125 MHz from PLL_SYS on the 12 MHz crystal, console on UART0
 * (PL011, GP0 TX / GP1 RX). RP2040 datasheet (2023-06): boot 2.8, clocks 2.15, XOSC 2.16,
 * PLL 2.18, resets 2.14, IO 2.19, UART 4.2.
 *
 * The boot ROM copies the first 256 bytes of flash to SRAM, checks their CRC and runs them:
 * that is boot2 below, which sets up execute-in-place with the ROM's own routine (the slow
 * but universal 03h read command) and jumps to the vector table at flash + 0x100. The CRC is
 * filled in after linking by post_link.py.
 */
#include "../cortex_m/cmsis_min.h"
#include "../bsp.h"

__attribute__((section(".boot2"), naked, used)) void tf_boot2(void)
{
    __asm volatile(
        "push {lr}\n"
        "movs r3, #0x14\n"
        "ldrh r0, [r3]\n"              /* ROM function table */
        "movs r3, #0x18\n"
        "ldrh r2, [r3]\n"              /* rom_table_lookup(table, code) */
        "ldr r1, =0x5843\n"            /* 'C','X': flash_enter_cmd_xip */
        "blx r2\n"
        "blx r0\n"
        "pop {r0}\n"
        "cmp r0, #0\n"
        "beq 1f\n"
        "bx r0\n"                      /* called from code: return */
        "1: ldr r0, =0x10000100\n"     /* entered from the boot ROM: run the image */
        "ldr r1, =0xE000ED08\n"
        "str r0, [r1]\n"
        "ldmia r0, {r0, r1}\n"
        "msr msp, r0\n"
        "bx r1\n"
        ".ltorg\n");
}

#define RESETS_RESET      0x4000C000u
#define RESETS_RESET_CLR  (0x4000C000u + 0x3000u)
#define RESETS_RESET_SET  (0x4000C000u + 0x2000u)
#define RESETS_DONE       0x4000C008u
#define XOSC_CTRL         0x40024000u
#define XOSC_STATUS       0x40024004u
#define XOSC_STARTUP      0x4002400Cu
#define CLK_REF_CTRL      0x40008030u
#define CLK_REF_SELECTED  0x40008038u
#define CLK_SYS_CTRL      0x4000803Cu
#define CLK_SYS_SELECTED  0x40008044u
#define CLK_PERI_CTRL     0x40008048u
#define PLL_SYS_CS        0x40028000u
#define PLL_SYS_PWR       0x40028004u
#define PLL_SYS_FBDIV     0x40028008u
#define PLL_SYS_PRIM      0x4002800Cu
#define IO_GPIO_CTRL(n)   (0x40014004u + 8u * (n))

#define UART_DR   (TF_CONSOLE_BASE + 0x00u)
#define UART_FR   (TF_CONSOLE_BASE + 0x18u)
#define UART_IBRD (TF_CONSOLE_BASE + 0x24u)
#define UART_FBRD (TF_CONSOLE_BASE + 0x28u)
#define UART_LCRH (TF_CONSOLE_BASE + 0x2Cu)
#define UART_CR   (TF_CONSOLE_BASE + 0x30u)
#define UART_IMSC (TF_CONSOLE_BASE + 0x38u)
#define UART_ICR  (TF_CONSOLE_BASE + 0x44u)

#define RST_IO_BANK0 (1u << 5)
#define RST_PADS_BANK0 (1u << 8)
#define RST_PLL_SYS (1u << 12)
#define RST_UART0 (1u << 22)

static void unreset(uint32_t bits)
{
    REG32(RESETS_RESET_CLR) = bits;
    while ((REG32(RESETS_DONE) & bits) != bits) {
    }
}

static void clock_125mhz(void)
{
    REG32(CLK_SYS_CTRL) &= ~1u;                                 /* clk_sys on clk_ref */
    while (!(REG32(CLK_SYS_SELECTED) & 1u)) {
    }
    REG32(XOSC_STARTUP) = 47u;                                  /* ~1 ms at 12 MHz */
    REG32(XOSC_CTRL) = (0xFABu << 12) | 0xAA0u;                 /* ENABLE, 1-15 MHz */
    while (!(REG32(XOSC_STATUS) & (1u << 31))) {
    }
    REG32(CLK_REF_CTRL) = 2u;                                   /* clk_ref = XOSC */
    while (!(REG32(CLK_REF_SELECTED) & (1u << 2))) {
    }
    REG32(RESETS_RESET_SET) = RST_PLL_SYS;
    unreset(RST_PLL_SYS);
    /* 12 MHz / 1 x 125 = 1500 MHz VCO, / 6 / 2 = 125 MHz (the SDK's default). */
    REG32(PLL_SYS_CS) = 1u;
    REG32(PLL_SYS_FBDIV) = 125u;
    REG32(PLL_SYS_PWR) &= ~((1u << 0) | (1u << 5));             /* PD, VCOPD off */
    while (!(REG32(PLL_SYS_CS) & (1u << 31))) {
    }
    REG32(PLL_SYS_PRIM) = (6u << 16) | (2u << 12);
    REG32(PLL_SYS_PWR) &= ~(1u << 3);                           /* POSTDIVPD off */
    REG32(CLK_SYS_CTRL) = (0u << 5);                            /* AUXSRC = pll_sys */
    REG32(CLK_SYS_CTRL) |= 1u;                                  /* SRC = aux */
    while (!(REG32(CLK_SYS_SELECTED) & 2u)) {
    }
    REG32(CLK_PERI_CTRL) = (1u << 11) | (0u << 5);              /* ENABLE, clk_sys */
}

void bsp_init(void)
{
    clock_125mhz();
    unreset(RST_IO_BANK0 | RST_PADS_BANK0 | RST_UART0);
    REG32(IO_GPIO_CTRL(0)) = 2u;                                /* FUNCSEL = UART */
    REG32(IO_GPIO_CTRL(1)) = 2u;
    /* Divisor clk_peri / (16 * baud) as 16.6 fixed point: compute it x128, round the
     * fraction to 6 bits (datasheet 4.2.7.1). 125 MHz, 115200 baud: 67 + 52/64. */
    uint32_t div128 = 8u * TF_CLOCK_HZ / TF_CONSOLE_BAUD;
    REG32(UART_IBRD) = div128 >> 7;
    REG32(UART_FBRD) = ((div128 & 0x7Fu) + 1u) / 2u;
    REG32(UART_LCRH) = (3u << 5) | (1u << 4);                   /* 8N1, FIFOs on */
    REG32(UART_IMSC) = (1u << 4) | (1u << 6);                   /* RX, RX timeout */
    REG32(UART_CR) = 1u | (1u << 8) | (1u << 9);                /* UARTEN, TXE, RXE */
    nvic_enable(TF_CONSOLE_IRQ);
}

void bsp_console_write(const uint8_t *p, uint32_t n)
{
    while (n--) {
        while (REG32(UART_FR) & (1u << 5)) {                    /* TXFF */
        }
        REG32(UART_DR) = *p++;
    }
}

void bsp_console_irq(void)
{
    while (!(REG32(UART_FR) & (1u << 4)))                       /* until RXFE */
        console_rx_push((uint8_t)REG32(UART_DR));
    REG32(UART_ICR) = (1u << 4) | (1u << 6);
}
