#include "tf_conv_fast.h"

#if TF_CONV_FAST
int tf_depthwise_s8_fast(const tf_conv_params_t *p, const int8_t *input, const int8_t *filter,
        const int32_t *ebias, const int32_t *mult, const int8_t *shift, int8_t *output) {
    (void)p, (void)input, (void)filter, (void)ebias, (void)mult, (void)shift, (void)output;
    return 0;
}
#else
typedef int tf_conv_dw_unused;
#endif
