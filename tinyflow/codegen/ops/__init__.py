"""One module per op family; importing this package registers every lowering."""

from tinyflow.codegen.ops import (  # noqa: F401
    activations,
    conv,
    data_movement,
    elementwise,
    fully_connected,
    pooling,
    quantize,
    reduce,
    softmax,
)
