/*
 * Reset, vector table and fault handlers shared by every Cortex-M family.
 *
 * The vector table is data: 16 core exceptions, then external interrupts up to the
 * console's (TF_CONSOLE_IRQ, from the board file). Everything unexpected lands in a
 * handler that reports over the console and exits.
 */
#include <stdint.h>

#include "../bsp.h"
#include "cmsis_min.h"

#ifndef TF_CONSOLE_IRQ
#error "TF_CONSOLE_IRQ must come from the board file"
#endif

/* Symbols from the generated linker script. */
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

int main(void);
void Reset_Handler(void);
void tf_reset_c(void);
void tf_systick_isr(void);
void tf_timer_init(void);

#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
/* ARMv8-M: the stack limit stays armed in handlers; drop it so that reporting a stack
 * overflow does not fault again. */
#define CLEAR_STACK_LIMIT "movs r3, #0\n msr msplim, r3\n"
#else
#define CLEAR_STACK_LIMIT ""
#endif

#define FAULT_ENTRY(name, kind)                                              \
    __attribute__((naked)) void name(void)                                   \
    {                                                                        \
        __asm volatile(CLEAR_STACK_LIMIT                                     \
                       "movs r1, #" #kind "\n"                               \
                       "movs r0, #4\n"                                       \
                       "mov r2, lr\n"                                        \
                       "tst r0, r2\n"                                        \
                       "beq 1f\n"                                            \
                       "mrs r0, psp\n"                                       \
                       "b 2f\n"                                              \
                       "1: mrs r0, msp\n"                                    \
                       "2: ldr r2, =tf_fault_c\n"                            \
                       "bx r2\n"                                             \
                       ".ltorg\n"); /* the literal here, in LDR's reach */   \
    }

/* Kinds match TFP_FAULT_* in protocol.h. */
FAULT_ENTRY(NMI_Handler, 5)
FAULT_ENTRY(HardFault_Handler, 1)
FAULT_ENTRY(MemManage_Handler, 2)
FAULT_ENTRY(BusFault_Handler, 3)
FAULT_ENTRY(UsageFault_Handler, 4)
FAULT_ENTRY(Default_Handler, 6)

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used))
const vector_t tf_vectors[16 + TF_CONSOLE_IRQ + 1] = {
    [0] = (vector_t)(uintptr_t)__stack_top,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [7 ... 10] = Default_Handler,
    [11] = Default_Handler,        /* SVCall */
    [12] = Default_Handler,        /* DebugMon */
    [13] = Default_Handler,
    [14] = Default_Handler,        /* PendSV */
    [15] = tf_systick_isr,
#if TF_CONSOLE_IRQ > 0
    [16 ... 15 + TF_CONSOLE_IRQ] = Default_Handler,
#endif
    [16 + TF_CONSOLE_IRQ] = bsp_console_irq,
};

/* Enable the FPU (and MVE, which shares CP10/CP11) before any compiled C runs: the
 * compiler is free to use FP registers for plain copies. */
__attribute__((naked)) void Reset_Handler(void)
{
    __asm volatile(
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
        "ldr r0, =0xE000ED88\n"
        "ldr r1, [r0]\n"
        "ldr r2, =0x00F00000\n"
        "orrs r1, r2\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
#endif
        "ldr r0, =__stack_top\n"
        "mov sp, r0\n"
        "ldr r0, =tf_reset_c\n"
        "bx r0\n"
        ".ltorg\n"); /* the literals here: -flto may put the pool out of LDR's reach */
}

#if defined(TF_CORE_CORTEX_M7)
/* Invalidate, then enable the L1 caches (ARMv7-M architecture manual, B2.2.7). */
static void enable_caches(void)
{
    dsb();
    isb();
    SCB_ICIALLU = 0;
    dsb();
    isb();
    SCB_CCR |= 1u << 17;                        /* IC */
    SCB_CSSELR = 0;                             /* L1 data cache */
    dsb();
    uint32_t ccsidr = SCB_CCSIDR;
    uint32_t sets = ((ccsidr >> 13) & 0x7FFFu) + 1;
    uint32_t ways = ((ccsidr >> 3) & 0x3FFu) + 1;
    for (uint32_t s = 0; s < sets; s++)
        for (uint32_t w = 0; w < ways; w++)
            SCB_DCISW = (w << 30) | (s << 5);  /* 4 ways, 32-byte lines on the M7 */
    dsb();
    SCB_CCR |= 1u << 16;                        /* DC */
    dsb();
    isb();
}
#endif

#define STACK_PAINT 0xA5A5A5A5u

static inline uintptr_t current_sp(void)
{
    uintptr_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Paint from the stack limit up to just below the caller's frame. */
void tf_stack_paint(void)
{
    uint32_t *end = (uint32_t *)(current_sp() - 64u);
    for (uint32_t *p = __stack_limit; p < end; p++)
        *p = STACK_PAINT;
}

uint32_t tf_stack_used(void)
{
    const uint32_t *p = __stack_limit;
    while (p < __stack_top && *p == STACK_PAINT)
        p++;
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

uint32_t tf_stack_size(void)
{
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
}

__attribute__((used)) void tf_reset_c(void)
{
    SCB_VTOR = (uint32_t)(uintptr_t)tf_vectors;
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
#if defined(TF_CORE_CORTEX_M7)
    enable_caches();
#endif
#if !defined(__ARM_ARCH_6M__)
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18);  /* separate Mem/Bus/Usage faults */
    SCB_CCR |= 1u << 4;                                 /* trap divide by zero */
#endif
    tf_stack_paint();
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    /* M33/M55: a stack overflow becomes a UsageFault (STKOF) instead of silently
     * overwriting .bss below the stack. */
    __asm volatile("msr msplim, %0" ::"r"(__stack_limit));
#endif
    bsp_init();
    tf_timer_init();
    irq_enable();
    tf_exit(main());
}

/* Called by the fault entries with the stacked exception frame (r0-r3, r12, lr, pc, xpsr). */
__attribute__((used, noreturn)) void tf_fault_c(const uint32_t *frame, uint32_t kind)
{
    uint32_t sysregs[5] = {SCB_ICSR & 0x1FFu, 0, 0, 0, 0};  /* active vector */
#if !defined(__ARM_ARCH_6M__)
    sysregs[1] = SCB_CFSR;
    sysregs[2] = SCB_HFSR;
    sysregs[3] = SCB_MMFAR;
    sysregs[4] = SCB_BFAR;
#endif
    /* A stack overflow can leave the frame pointer outside RAM; report what we can. */
    uintptr_t f = (uintptr_t)frame;
    if (f < (uintptr_t)__stack_limit || f + 32u > (uintptr_t)__stack_top)
        frame = 0;
    tf_report_fault(kind, frame, sysregs);
    tf_exit(100 + (int)kind);
}

void tf_exit(int code)
{
#if TF_VIRTUAL
    /* When QEMU exits, its pty hangs up and the host loses whatever it has not read yet
     * (a FAULT frame, the EXIT reply): give it ~20M instructions, about 0.1 s. */
    for (volatile uint32_t i = 0; i < 4000000u; i++) {
    }
    /* Semihosting SYS_EXIT_EXTENDED: QEMU exits with `code`. */
    static volatile uint32_t block[2];
    block[0] = 0x20026u;  /* ADP_Stopped_ApplicationExit */
    block[1] = (uint32_t)code;
    register uint32_t r0 __asm("r0") = 0x20u;
    register volatile uint32_t *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
#else
    (void)code;
    dsb();
    SCB_AIRCR = 0x05FA0004u;  /* SYSRESETREQ */
    dsb();
#endif
    for (;;)
        __asm volatile("wfi");
}
