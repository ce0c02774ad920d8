/* Everything the generated model code calls: one include for model_<name>.c. */
#ifndef TF_KERNELS_H
#define TF_KERNELS_H

#include "tf_activations.h"
#include "tf_common.h"
#include "tf_conv.h"
#include "tf_data_movement.h"
#include "tf_elementwise.h"
#include "tf_fully_connected.h"
#include "tf_pooling.h"
#include "tf_quantize.h"
#include "tf_reduce.h"
#include "tf_softmax.h"

#endif /* TF_KERNELS_H */
