/*
 * The few CMSIS-Core compiler macros that CMSIS-DSP's headers use, for GCC.
 *
 * The cmsisdsp sdist ships no CMSIS-Core, and arm_math_types.h includes "cmsis_compiler.h"
 * on every GCC target except its Python build. The front end compiles only float32
 * functions, which need nothing beyond these attribute macros, so the same header serves
 * the host (x86-64 gcc) and the Cortex-M builds. If a real CMSIS-Core is on the include
 * path first, it wins and this file is never read.
 */
#ifndef TF_FE_CMSIS_COMPILER_H
#define TF_FE_CMSIS_COMPILER_H

#ifndef __ASM
#define __ASM __asm
#endif
#ifndef __INLINE
#define __INLINE inline
#endif
#ifndef __STATIC_INLINE
#define __STATIC_INLINE static inline
#endif
#ifndef __STATIC_FORCEINLINE
#define __STATIC_FORCEINLINE __attribute__((always_inline)) static inline
#endif
#ifndef __WEAK
#define __WEAK __attribute__((weak))
#endif
#ifndef __ALIGNED
#define __ALIGNED(x) __attribute__((aligned(x)))
#endif
#ifndef __PACKED
#define __PACKED __attribute__((packed, aligned(1)))
#endif
#ifndef __RESTRICT
#define __RESTRICT __restrict
#endif
#ifndef __NO_RETURN
#define __NO_RETURN __attribute__((__noreturn__))
#endif
#ifndef __USED
#define __USED __attribute__((used))
#endif

/* CMSIS-DSP's inline q-format helpers (dsp/utils.h, dsp/none.h) reference these even in
 * translation units that only use float32 code, so they must exist; plain C is enough. */
#include <stdint.h>

__STATIC_FORCEINLINE uint8_t __CLZ(uint32_t value)
{
    return value == 0u ? 32u : (uint8_t)__builtin_clz(value);
}

__STATIC_FORCEINLINE int32_t __SSAT(int32_t val, uint32_t sat)
{
    if (sat >= 1u && sat <= 32u) {
        const int32_t max = (int32_t)((1u << (sat - 1u)) - 1u);
        const int32_t min = -1 - max;
        if (val > max)
            return max;
        if (val < min)
            return min;
    }
    return val;
}

__STATIC_FORCEINLINE uint32_t __USAT(int32_t val, uint32_t sat)
{
    if (sat <= 31u) {
        const uint32_t max = (1u << sat) - 1u;
        if (val > (int32_t)max)
            return max;
        if (val < 0)
            return 0u;
    }
    return (uint32_t)val;
}

/* SIMD/saturating intrinsics named by q-format inline helpers in the dsp/ headers when
 * ARM_MATH_DSP is on (cores with the DSP extension; elsewhere dsp/none.h defines them).
 * The float32 front end never calls them; plain C keeps the headers warning-free without
 * CMSIS-Core. */
#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1)
__STATIC_FORCEINLINE int32_t __QADD(int32_t a, int32_t b)
{
    int64_t r = (int64_t)a + b;
    return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
}

__STATIC_FORCEINLINE int32_t __QSUB(int32_t a, int32_t b)
{
    int64_t r = (int64_t)a - b;
    return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
}

__STATIC_FORCEINLINE uint32_t __SMUAD(uint32_t x, uint32_t y)
{
    int32_t lo = (int32_t)(int16_t)x * (int16_t)y;
    int32_t hi = (int32_t)(int16_t)(x >> 16) * (int16_t)(y >> 16);
    return (uint32_t)(lo + hi);
}

__STATIC_FORCEINLINE uint64_t __SMLALD(uint32_t x, uint32_t y, uint64_t acc)
{
    int64_t lo = (int64_t)((int32_t)(int16_t)x * (int16_t)y);
    int64_t hi = (int64_t)((int32_t)(int16_t)(x >> 16) * (int16_t)(y >> 16));
    return (uint64_t)((int64_t)acc + lo + hi);
}
#endif

#endif /* TF_FE_CMSIS_COMPILER_H */
