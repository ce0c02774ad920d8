"""`ser`: Wav2Small-style speech emotion regression (arousal, dominance, valence).

Input: the log-mel spectrogram of `tinyflow.features` (n_frames x 26 mels x 1, dB),
computed outside the int8 network because TFLM's LOG kernel is float-only.

Body, after Wav2Small (Kounadis-Bastian et al. 2024): `layers` x [Conv2D 3x3 (no bias)
+ BN + ReLU] with `filters` channels, one MaxPool 3x3/2 after the third conv
(`pool_after`; halves time and mel), then attention pooling over time and the pooled
matrix concatenated with its Gram matrix ("outer product"), then Dense(3) with a
sigmoid: arousal, dominance and valence in [0, 1].

How each piece maps to TFLM int8 ops (checked by converting with batch 1 and invoking in
tflite-micro; see `docs/models.md`):
- attention `lin(x) * softmax_time(sof(x))`: two 1x1 convs (CONV_2D); the softmax must
  run over time, but TFLite's SOFTMAX works on the last axis, so the scores are moved
  with a Permute (TRANSPOSE), softmaxed (SOFTMAX) and moved back (TRANSPOSE). Both are
  pure data movement for an engine.
- pooling: MUL, RESHAPE, then a mean over time (MEAN). The mean is the attention sum
  divided by the number of frames: a constant factor the next layers absorb.
- outer product: Wav2Small's `x @ x^T` would be BATCH_MATMUL, which a bit-exact engine
  would need as an extra kernel. We write it as a broadcast MUL of (F,C,1) by (F,1,C)
  followed by a mean over F (MUL, RESHAPE, MEAN): the same Gram matrix up to 1/F.
- CONCATENATION, FULLY_CONNECTED, LOGISTIC.

Parameters at the defaults (13 filters, 7 layers): 10,988 (of which 10,806 trainable),
below Wav2Small's 72K. `docs/models.md` has the table.
"""

from __future__ import annotations

from typing import Any

from tinyflow.zoo import InputSpec, Option, ZooEntry, register

BN_MOMENTUM = 0.9
POOL_AFTER = 3   # max-pool after this many convs (Wav2Small)


def feature_params(options: dict[str, Any]):
    """The front end's `LogMelParams` for these options (numpy is imported lazily)."""
    from tinyflow.features import LogMelParams

    return LogMelParams(seconds=options["seconds"])


def build(options: dict[str, Any], batch_size: int | None = None, keras_module: Any = None):
    """`keras_module`: another Keras with the same API (tf_keras, for QAT)."""
    if keras_module is None:
        import keras
    else:
        keras = keras_module
    layers = keras.layers

    frames, mels = feature_params(options).shape
    c, n_layers = options["filters"], options["layers"]
    inp = keras.Input((frames, mels, 1), batch_size=batch_size, name="logmel")
    x = inp
    for i in range(n_layers):
        x = layers.Conv2D(c, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"conv{i}_bn")(x)
        x = layers.ReLU(name=f"conv{i}_relu")(x)
        if i + 1 == min(options.get("pool_after", POOL_AFTER), n_layers):
            x = layers.MaxPool2D(3, 2, padding="same", name="pool")(x)
    t, f = x.shape[1], x.shape[2]
    # Attention pooling over time.
    scores = layers.Conv2D(c, 1, name="att_score")(x)
    values = layers.Conv2D(c, 1, name="att_value")(x)
    scores = layers.Permute((2, 3, 1), name="att_time_last")(scores)     # (f, c, t)
    weights = layers.Softmax(axis=-1, name="att_softmax")(scores)
    weights = layers.Permute((3, 1, 2), name="att_time_first")(weights)  # (t, f, c)
    pooled = layers.Multiply(name="att_weigh")([weights, values])
    pooled = layers.Reshape((t, f * c), name="att_flat")(pooled)
    pooled = layers.GlobalAveragePooling1D(name="att_pool")(pooled)     # (f*c,)
    # Gram matrix of the pooled (f, c) matrix over f, as broadcast MUL + mean.
    rows = layers.Reshape((f, c, 1), name="gram_rows")(pooled)
    cols = layers.Reshape((f, 1, c), name="gram_cols")(pooled)
    gram = layers.Multiply(name="gram_mul")([rows, cols])               # (f, c, c)
    gram = layers.Reshape((f, c * c), name="gram_flat")(gram)
    gram = layers.GlobalAveragePooling1D(name="gram_pool")(gram)        # (c*c,)
    z = layers.Concatenate(name="concat")([pooled, gram])
    out = layers.Dense(3, activation="sigmoid", name="adv")(z)
    return keras.Model(inp, out, name="ser")


def input_spec(options: dict[str, Any]) -> InputSpec:
    p = feature_params(options)
    return InputSpec((p.n_frames, p.n_mels, 1), "float32",
                     f"log-mel dB of {p.seconds:g} s at {p.sample_rate} Hz "
                     f"(n_fft {p.n_fft}, hop {p.hop_length}, {p.n_mels} mels), "
                     "see tinyflow.features", (10 * __import__("math").log10(p.floor), 60.0))


def config_name(options: dict[str, Any]) -> str:
    name = f"s{options['seconds']:g}-f{options['filters']}-l{options['layers']}"
    pool = options.get("pool_after", POOL_AFTER)
    return name if pool == POOL_AFTER else f"{name}-p{pool}"


ENTRY = register(ZooEntry(
    name="ser",
    task="speech_emotion",
    summary="Wav2Small-style speech emotion regression: arousal, dominance, valence",
    options=(
        Option("seconds", float, 1.0, "clip length the model sees", min=0.25, max=10.0),
        Option("filters", int, 13, "channels of every conv", min=2, max=64),
        Option("layers", int, 7, "number of 3x3 conv layers", min=3, max=12),
        Option("pool_after", int, POOL_AFTER, "max-pool after this many convs (earlier: "
               "a smaller arena, coarser time)", min=1, max=12),
    ),
    outputs=("arousal", "dominance", "valence"),
    dataset="ser",
    builder=build,
    input_spec_fn=input_spec,
    config_name_fn=config_name,
    train_defaults={"epochs": 15, "batch_size": 16, "learning_rate": 3e-3},
))
