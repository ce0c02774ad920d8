"""The model IR against real TensorFlow-converted int8 models."""

import numpy as np
import pytest
from foundation_models import keras_macs, keras_weight_params

from tinyflow.errors import TinyflowError
from tinyflow.ir import load_model, parse_model


def test_macs_and_params_match_keras(small_cnn_model):
    keras_model, path = small_cnn_model
    m = load_model(path)
    assert m.total_macs == keras_macs(keras_model)
    weights = [i for op in m.operators if op.opcode in
               ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") for i in op.inputs[1:3]]
    assert sum(m.tensors[i].size for i in weights) == keras_weight_params(keras_model)


def test_operators_in_order_with_options(small_cnn_model):
    _, path = small_cnn_model
    m = load_model(path)
    ops = [op.opcode for op in m.operators]
    assert ops[:3] == ["CONV_2D", "DEPTHWISE_CONV_2D", "ADD"]
    assert ops[-1] == "SOFTMAX"
    first = m.operators[0]
    assert first.options["stride_w"] == 2 and first.options["padding"] == "SAME"
    assert first.options["fused_activation_function"] == "RELU"
    assert first.options["dilation_w_factor"] == 1
    # the (3, 5) kernel with strides (1, 2): shapes follow VALID padding
    conv35 = [op for op in m.operators if op.opcode == "CONV_2D"][2]
    assert m.tensors[conv35.inputs[1]].shape == (10, 3, 5, 12)
    assert m.tensors[conv35.outputs[0]].shape == (1, 10, 4, 10)


def test_quantization_per_channel_and_per_tensor(small_cnn_model):
    _, path = small_cnn_model
    m = load_model(path)
    conv = m.operators[0]
    w, b = m.tensors[conv.inputs[1]], m.tensors[conv.inputs[2]]
    assert w.dtype == "int8" and w.quant.per_channel and len(w.quant.scale) == 8
    assert w.quant.axis == 0 and b.dtype == "int32"
    dw = m.operators[1]
    assert m.tensors[dw.inputs[1]].quant.axis == 3
    x = m.tensors[m.inputs[0]]
    assert x.dtype == "int8" and not x.quant.per_channel
    assert np.all(np.abs(w.data) <= 127)


def test_rejects_truncated_and_foreign_bytes(small_cnn_model):
    _, path = small_cnn_model
    data = path.read_bytes()
    for bad in (data[: len(data) // 2], data[:7], b"", b"\x00" * 64, b"PK\x03\x04" + data[4:]):
        with pytest.raises(TinyflowError):
            parse_model(bad)
    flipped = bytearray(data)
    flipped[100:140] = b"\xff" * 40
    try:
        parse_model(bytes(flipped))
    except TinyflowError:
        pass  # either parses (metadata region) or fails cleanly; never another exception


def test_rejects_float_and_dynamic_models(tmp_path):
    import keras
    import tensorflow as tf

    i = keras.Input((8,))
    m = keras.Model(i, keras.layers.Dense(2)(i))
    data = tf.lite.TFLiteConverter.from_keras_model(m).convert()  # float, dynamic batch
    with pytest.raises(TinyflowError, match="dynamic shape|float"):
        parse_model(data)
    i = keras.Input((8,), batch_size=1)
    m = keras.Model(i, keras.layers.Dense(2)(i))
    with pytest.raises(TinyflowError, match="float model"):
        parse_model(tf.lite.TFLiteConverter.from_keras_model(m).convert())


def test_missing_and_wrong_suffix(tmp_path):
    with pytest.raises(TinyflowError, match="not found"):
        load_model(tmp_path / "nope.tflite")
    p = tmp_path / "model.onnx"
    p.write_bytes(b"x")
    with pytest.raises(TinyflowError, match="expected a .tflite"):
        load_model(p)
