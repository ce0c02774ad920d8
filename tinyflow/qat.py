"""Quantization-aware training: the optional path after PTQ (extra `tinyflow[qat]`).

tensorflow-model-optimization only works with `tf_keras` (Keras 2) under
`TF_USE_LEGACY_KERAS=1`, and that cannot share a process with Keras 3. So QAT runs in a
child process (`python -m tinyflow.qat`), in three steps:

1. parent (Keras 3): export the trained float weights of a run to `qat/float_weights.npz`;
2. child (tf_keras): rebuild the same zoo model with `tf_keras` (`ModelSpec.build(
   keras_module=tf_keras)`), load the weights, wrap it with fake-quantization
   (`quantize_model`; layers tfmot does not know, e.g. the SER attention's Multiply and
   Permute, stay float during QAT and are calibrated by the converter), fine-tune a few
   epochs at a low learning rate, rebuild with batch 1, convert to full int8;
3. parent: refuse degenerate scales, invoke once in tflite-micro, compare float vs int8 on
   the held-out split exactly like PTQ (`QuantResult`, `quant_qat.json`).

The packages are found on the normal path, or in the folders listed in
`$TINYFLOW_QAT_PATH` (':'-separated), which are prepended to the child's PYTHONPATH:
installing tf_keras + tfmot into the main environment downgrades absl-py, so a separate
`pip install --target DIR tf_keras tensorflow-model-optimization dm-tree` is the
non-invasive way.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tinyflow.errors import TinyflowError

PACKAGES = ("tf_keras", "tensorflow_model_optimization")


def qat_path() -> list[str]:
    return [p for p in os.environ.get("TINYFLOW_QAT_PATH", "").split(":") if p]


def available() -> bool:
    """Whether the child process will find tf_keras and tfmot (without importing them)."""
    search = qat_path() + sys.path
    return all(importlib.machinery.PathFinder.find_spec(p, search) for p in PACKAGES)


def qat_run(run_dir: str | Path, epochs: int = 2, learning_rate: float = 1e-4,
            batch_size: int | None = None, out_path: str | Path | None = None,
            n_rep: int = 100, eval_split: str = "test", max_eval: int | None = None,
            seed: int = 0):
    """QAT-fine-tune a training run and quantize it; returns a `QuantResult`."""
    import numpy as np

    from tinyflow import quantize as Q
    from tinyflow import train as T

    if not available():
        raise TinyflowError(
            "QAT needs tf_keras and tensorflow-model-optimization, which are not installed",
            hint="pip install 'tinyflow[qat]' in a separate environment, or "
                 "pip install --target DIR tf_keras==2.21.0 tensorflow-model-optimization==0.8.1 "
                 "dm-tree and set TINYFLOW_QAT_PATH=DIR")
    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.json"
    if not cfg_path.is_file():
        raise TinyflowError(f"{run_dir} is not a training run (no config.json)")
    cfg = json.loads(cfg_path.read_text())
    spec = T.spec_of_run(cfg)
    work = run_dir / "qat"
    work.mkdir(exist_ok=True)
    model = Q._load_keras(run_dir / "model.keras")
    np.savez(work / "float_weights.npz", *model.get_weights())
    out = Path(out_path) if out_path else run_dir / "model_int8_qat.tflite"
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1",
               PYTHONPATH=":".join(qat_path() + [str(Path(__file__).resolve().parents[1])]
                                   + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    cmd = [sys.executable, "-m", "tinyflow.qat", str(run_dir), "--epochs", str(epochs),
           "--lr", str(learning_rate), "--out", str(out), "--n-rep", str(n_rep),
           "--seed", str(seed), "--batch-size",
           str(batch_size or cfg["training"]["batch_size"])]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = [ln for ln in proc.stderr.splitlines() if ln.strip()][-3:]
        raise TinyflowError(f"the QAT process failed: {' | '.join(tail)}")
    child = json.loads((work / "qat.json").read_text())
    data = out.read_bytes()
    Q.check_scales(data)
    runner = Q.Int8Runner(data)
    x_rep, _ = T.load_split(spec, cfg["dataset"]["path"], "train", limit=1, seed=seed)
    runner(x_rep)  # invoke once in tflite-micro
    res = Q.QuantResult(out, len(data), Q.op_counts(data), runner.oracle.arena_bytes,
                        runner.in_q, runner.out_q, child["convert_seconds"], n_rep)
    x_ev, y_ev = T.load_split(spec, cfg["dataset"]["path"], eval_split, limit=max_eval)
    y_float = model.predict(x_ev, batch_size=64, verbose=0)
    y_int8 = runner(x_ev)
    res.float_metrics = Q.evaluate(spec.task, y_ev, y_float)
    res.int8_metrics = Q.evaluate(spec.task, y_ev, y_int8)
    res.n_eval = len(x_ev)
    res.extra = {"method": "qat", "eval_split": eval_split, "model": spec.to_dict(),
                 "qat": child, "total_seconds": round(time.monotonic() - t0, 1)}
    (run_dir / "quant_qat.json").write_text(json.dumps(res.to_dict(), indent=2))
    return res


# -- the child process (tf_keras) ------------------------------------------------------

def _child(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tinyflow.qat")
    ap.add_argument("run_dir")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--n-rep", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        print("tinyflow.qat must run with TF_USE_LEGACY_KERAS=1", file=sys.stderr)
        return 2
    import numpy as np
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot
    import tf_keras

    from tinyflow import train as T

    run_dir = Path(a.run_dir)
    cfg = json.loads((run_dir / "config.json").read_text())
    spec = T.spec_of_run(cfg)
    tf_keras.utils.set_random_seed(a.seed)
    npz = np.load(run_dir / "qat" / "float_weights.npz")
    weights = [npz[f"arr_{i}"] for i in range(len(npz.files))]

    def qat_model(batch_size):
        m = spec.build(batch_size, keras_module=tf_keras)
        m.set_weights(weights)
        try:
            return tfmot.quantization.keras.quantize_model(m), "full"
        except (RuntimeError, ValueError):
            # Everything but the layers tfmot has no scheme for (the SER attention's
            # Multiply and Permute): conv+BN+ReLU must be annotated together to fold.
            skip = ("Multiply", "Permute", "InputLayer")

            def annotate(layer):
                if type(layer).__name__ in skip:
                    return layer
                return tfmot.quantization.keras.quantize_annotate_layer(layer)

            annotated = tf_keras.models.clone_model(m, clone_function=annotate)
            annotated.set_weights(m.get_weights())
            scope = "all but " + "/".join(skip[:2])
            return tfmot.quantization.keras.quantize_apply(annotated), scope

    data = cfg["dataset"]["path"]
    x, y = T.load_split(spec, data, "train")
    q, scope = qat_model(None)
    if spec.task == "speech_emotion":
        def loss(y_true, y_pred):
            y_true = tf.cast(y_true, y_pred.dtype)
            mt, mp = tf.reduce_mean(y_true, 0), tf.reduce_mean(y_pred, 0)
            cov = tf.reduce_mean((y_true - mt) * (y_pred - mp), 0)
            den = tf.math.reduce_variance(y_true, 0) + tf.math.reduce_variance(y_pred, 0)
            return 1.0 - tf.reduce_mean(2 * cov / (den + tf.square(mt - mp) + 1e-7))
    else:
        loss = "sparse_categorical_crossentropy"
    q.compile(optimizer=tf_keras.optimizers.Adam(a.lr), loss=loss)
    t0 = time.monotonic()
    hist = q.fit(x, y, epochs=a.epochs, batch_size=a.batch_size, shuffle=True, verbose=0)
    train_s = time.monotonic() - t0
    # Convert a batch-1 copy (a dynamic batch can bring REDUCE_PROD, which TFLM lacks).
    q1, _ = qat_model(1)
    q1.set_weights(q.get_weights())
    rep = x[np.random.default_rng(a.seed).choice(len(x), min(a.n_rep, len(x)), replace=False)]
    from tinyflow.quantize import int8_converter

    conv = int8_converter(tf.lite.TFLiteConverter.from_keras_model(q1),
                          np.asarray(rep, np.float32))
    t0 = time.monotonic()
    Path(a.out).write_bytes(conv.convert())
    info = {"epochs": a.epochs, "learning_rate": a.lr, "batch_size": a.batch_size,
            "quantized_layers": scope, "train_seconds": round(train_s, 1),
            "convert_seconds": round(time.monotonic() - t0, 2),
            "loss": [float(v) for v in hist.history["loss"]]}
    (run_dir / "qat" / "qat.json").write_text(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
