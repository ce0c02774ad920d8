"""`person_det`: MobileNetV2 for microcontrollers (Wake Vision person detection).

Differences from `keras.applications.MobileNetV2`, each for a reason:
- The last 1x1 convolution scales with the width (`make_divisible(1280 * width)`);
  Keras keeps 1280 channels at every width < 1, about 100 KB of int8 weights at 0.25.
- BatchNorm momentum 0.9 instead of 0.999: with 0.999 the moving statistics are still
  near their initial values after a short run, and the int8 model outputs a constant.
- Any input resolution (32..320) and 1 (grey) or 3 (RGB) channels; no ImageNet weights.
- `padding="same"` everywhere (no explicit ZeroPadding): one CONV_2D per conv in TFLite.

Output: **two-class softmax** `[no_person, person]`, not one logistic unit. Why: it is
what the Wake Vision baseline and the MLPerf Tiny VWW reference model emit, so scores,
thresholds and the EEMBC runner's `m-results-[p0,p1]` line compare directly with them;
TFLM's int8 SOFTMAX is a well-trodden kernel (scale 1/256, zero point -128); and the cost
is one extra weight column. The decision is argmax (equivalently p(person) >= 0.5).

Input: `resolution x resolution x channels`, float in [-1, 1] = pixel / 127.5 - 1
(grey = ITU-R 601 luma of the centre-cropped, resized image). Ops after int8 conversion:
CONV_2D, DEPTHWISE_CONV_2D, ADD, MEAN, FULLY_CONNECTED, SOFTMAX.
"""

from __future__ import annotations

from typing import Any

from tinyflow.zoo import InputSpec, Option, ZooEntry, register

BN_MOMENTUM = 0.9
# (expansion t, output channels c at width 1, repeats n, first stride s), as MobileNetV2.
BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def make_divisible(v: float, divisor: int = 8) -> int:
    """Round channels to a multiple of 8 without dropping more than 10 % (as MobileNet)."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new < 0.9 * v:
        new += divisor
    return new


def build(options: dict[str, Any], batch_size: int | None = None, keras_module: Any = None):
    """`keras_module`: another Keras with the same API (tf_keras, for QAT)."""
    if keras_module is None:
        import keras
    else:
        keras = keras_module
    layers = keras.layers

    width, res, ch = options["width"], options["resolution"], options["channels"]

    def conv_bn(x, filters, kernel, stride, act, name):
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                          name=f"{name}_conv")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
        return layers.ReLU(6.0, name=f"{name}_relu")(x) if act else x

    inp = keras.Input((res, res, ch), batch_size=batch_size, name="image")
    x = conv_bn(inp, make_divisible(32 * width), 3, 2, True, "stem")
    cin = x.shape[-1]
    for b, (t, c, n, s) in enumerate(BLOCKS):
        cout = make_divisible(c * width)
        for i in range(n):
            name = f"block{b}_{i}"
            stride = s if i == 0 else 1
            y = conv_bn(x, cin * t, 1, 1, True, f"{name}_expand") if t != 1 else x
            y = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                                       name=f"{name}_dw")(y)
            y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(y)
            y = layers.ReLU(6.0, name=f"{name}_dw_relu")(y)
            y = conv_bn(y, cout, 1, 1, False, f"{name}_project")
            x = layers.Add(name=f"{name}_add")([x, y]) if stride == 1 and cin == cout else y
            cin = cout
    x = conv_bn(x, make_divisible(1280 * width), 1, 1, True, "head")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(options["dropout"], name="dropout")(x)
    out = layers.Dense(2, activation="softmax", name="person")(x)
    return keras.Model(inp, out, name="person_det")


def input_spec(options: dict[str, Any]) -> InputSpec:
    r, c = options["resolution"], options["channels"]
    kind = "greyscale" if c == 1 else "RGB"
    return InputSpec((r, r, c), "float32",
                     f"{kind} image, centre-cropped and resized to {r}x{r}, "
                     "scaled to pixel/127.5 - 1", (-1.0, 1.0))


def config_name(options: dict[str, Any]) -> str:
    return f"w{options['width']:g}-r{options['resolution']}-c{options['channels']}"


ENTRY = register(ZooEntry(
    name="person_det",
    task="person_detection",
    summary="MobileNetV2 person detector (Wake Vision), 2-class softmax",
    options=(
        Option("width", float, 0.25, "width multiplier", min=0.1, max=1.0),
        Option("resolution", int, 96, "input height and width in pixels", min=32, max=320),
        Option("channels", int, 1, "input channels: 1 grey, 3 RGB", choices=(1, 3)),
        Option("dropout", float, 0.1, "dropout before the classifier", min=0.0, max=0.9),
    ),
    outputs=("no_person", "person"),
    dataset="wake_vision",
    builder=build,
    input_spec_fn=input_spec,
    config_name_fn=config_name,
    # Small batches and a high peak rate: from-scratch runs on a few thousand images need
    # many steps more than large batches (measured: benchmarks/results/train_zoo.md).
    train_defaults={"epochs": 10, "batch_size": 16, "learning_rate": 5e-3},
))
