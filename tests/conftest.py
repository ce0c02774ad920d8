import os

import pytest

# Keep TensorFlow quiet and single-threaded-ish: CI has 2 cores and xdist uses both.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # as the CLI: reproducible float sums
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")


@pytest.fixture(scope="session")
def small_cnn_model(tmp_path_factory):
    from foundation_models import small_cnn

    keras_model, data = small_cnn()
    path = tmp_path_factory.mktemp("models") / "small_cnn.tflite"
    path.write_bytes(data)
    return keras_model, path


@pytest.fixture(scope="session")
def big_model(tmp_path_factory):
    from foundation_models import big_activations

    keras_model, data = big_activations()
    path = tmp_path_factory.mktemp("models") / "big.tflite"
    path.write_bytes(data)
    return keras_model, path
