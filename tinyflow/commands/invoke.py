"""`tinyflow invoke`: run inputs through the tinyflow engine, tflite-micro, or both.

    tinyflow invoke --model M.tflite --input X.npy --out Y.npy            # our engine (host)
    tinyflow invoke --model M.tflite --input X.npy --engine tflm          # the oracle
    tinyflow invoke --model M.tflite --input X.npy --compare [--layers]   # agreement report

X is one input (shaped as the model input) or many stacked along a new leading axis; the
output is stacked the same way. A float X for an int8 model is quantized with the model's
input scale and zero point. Multi-input models take --input once per input. With
--compare, exit status 0 means every output byte agreed.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_json, add_model

ENGINES = ("tinyflow", "tflm")  # the firmware issue adds a --board B form (see _runner)


def configure(p: argparse.ArgumentParser) -> None:
    add_model(p)
    p.add_argument("-i", "--input", action="append", required=True, metavar="X.npy",
                   help="input array (.npy); repeat once per model input")
    p.add_argument("-o", "--out", metavar="Y.npy",
                   help="write the outputs here (.npy; .npz when the model has several)")
    p.add_argument("--engine", choices=ENGINES, default="tinyflow",
                   help="tinyflow: generated C compiled for this host (default); "
                        "tflm: the tflite-micro interpreter")
    p.add_argument("--compare", action="store_true",
                   help="run both engines and report agreement (exit 1 on any difference)")
    p.add_argument("--layers", action="store_true",
                   help="with --compare: diff every layer's output and name the first that "
                        "differs")
    add_json(p)


def _load_inputs(paths: list[str], model) -> tuple[list, int, bool]:
    """Arrays per model input, as (list of per-sample lists, count, stacked?)."""
    import numpy as np

    from tinyflow.errors import TinyflowError
    from tinyflow.ui import status

    if len(paths) != len(model.inputs):
        raise TinyflowError(f"the model has {len(model.inputs)} input(s), got {len(paths)} "
                            "--input file(s)", hint="pass --input once per model input")
    per_input, counts, stacked = [], set(), set()
    for path, ti in zip(paths, model.inputs):
        t = model.tensors[ti]
        try:
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise TinyflowError(f"cannot read input {path}: {e}") from e
        shape = tuple(t.shape)
        if x.shape == shape or (x.size == t.size and x.ndim == len(shape) - 1):
            x, many = x.reshape((1, *shape)), False
        elif x.shape[1:] == shape or (x.ndim >= 1 and x[0].size == t.size and x.ndim == len(shape)):
            x, many = x.reshape((x.shape[0], *shape)), True
        else:
            raise TinyflowError(f"{path}: shape {list(x.shape)} is neither the input shape "
                                f"{list(shape)} nor a stack of them",
                                hint=f"save an array of shape {list(shape)} or "
                                     f"[N, {', '.join(map(str, shape))}]")
        want = np.dtype(t.dtype)
        if x.dtype.kind == "f" and want.kind in "iu":
            if t.quant is None:
                raise TinyflowError(f"input '{t.name}' is {t.dtype} without quantization; "
                                    "pass integers")
            s, z = float(t.quant.scale[0]), int(t.quant.zero_point[0])
            info = np.iinfo(want)
            q = x.astype(np.float64) / s
            q = np.sign(q) * np.floor(np.abs(q) + 0.5)  # halves away from zero, as TFLite
            x = np.clip(q + z, info.min, info.max).astype(want)
            status(f"quantized float input {path} with scale {s:.6g}, zero point {z}")
        elif x.dtype != want:
            fits = (x.dtype.kind in "iu" and want.kind in "iu"
                    and x.min(initial=0) >= np.iinfo(want).min
                    and x.max(initial=0) <= np.iinfo(want).max)
            if fits:
                x = x.astype(want)
            elif want.kind == "f":
                x = x.astype(want)
            else:
                raise TinyflowError(f"{path}: dtype {x.dtype} does not fit input '{t.name}' "
                                    f"({t.dtype})")
        per_input.append(x)
        counts.add(x.shape[0])
        stacked.add(many)
    if len(counts) != 1:
        raise TinyflowError(f"inputs hold different numbers of samples: {sorted(counts)}")
    n = counts.pop()
    samples = [[x[k] for x in per_input] for k in range(n)]
    return samples, n, any(stacked)


def _runner(engine: str, model, data: bytes):
    """A function sample -> list of outputs for one engine.

    Board form (firmware issue): `--board B` will add a runner here that sends each sample
    over tinyflow.link to the flashed firmware; everything around it stays as it is.
    """
    if engine == "tinyflow":
        from tinyflow.hostengine import HostEngine

        return HostEngine(model).invoke
    from tinyflow.oracle import TflmOracle

    return TflmOracle(data).invoke


def _run_all(fn, samples) -> tuple[list, float]:
    import time

    outs = []
    t0 = time.perf_counter()
    for s in samples:
        outs.append(fn(s))
    return outs, time.perf_counter() - t0


def _stack(outs: list, n_outputs: int, stacked: bool) -> list:
    import numpy as np

    res = [np.stack([o[j] for o in outs]) for j in range(n_outputs)]
    return res if stacked else [r[0] for r in res]


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tinyflow.errors import TinyflowError
    from tinyflow.models import tflite_path
    from tinyflow.ir import load_model
    from tinyflow.ui import emit_json, status, table

    path = tflite_path(args.model)
    model = load_model(path)
    data = path.read_bytes()
    samples, n, stacked = _load_inputs(args.input, model)
    if args.layers and not args.compare:
        raise TinyflowError("--layers needs --compare")
    engines = list(ENGINES) if args.compare else [args.engine]
    results, timings = {}, {}
    for eng in engines:
        status(f"running {n} input(s) through {eng} ...")
        results[eng], timings[eng] = _run_all(_runner(eng, model, data), samples)
    main_engine = "tinyflow" if args.compare else args.engine
    outputs = _stack(results[main_engine], len(model.outputs), stacked)
    if args.out:
        if len(outputs) == 1:
            np.save(args.out, outputs[0])
        else:
            np.savez(args.out, **{f"output{j}": o for j, o in enumerate(outputs)})
    report = {
        "model": str(path), "engine": engines, "inputs": n,
        "outputs": [{"name": model.tensors[t].name, "shape": list(o.shape), "dtype": str(o.dtype)}
                    for t, o in zip(model.outputs, outputs)],
        "out": args.out,
        "inferences_per_s": {e: (n / timings[e] if timings[e] > 0 else None) for e in engines},
    }
    ok = True
    if args.compare:
        cmp = _agreement(results, model)
        report["compare"] = cmp
        ok = cmp["differing_bytes"] == 0
        if args.layers:
            from tinyflow.hostengine import compare_layers

            k = cmp["first_differing_input"] if cmp["first_differing_input"] is not None else 0
            diffs = compare_layers(model, data, samples[k])
            first = next((d for d in diffs if not d.exact), None)
            report["layers"] = {"input": k, "first_differing": first.to_dict() if first else None,
                                "per_layer": [d.to_dict() for d in diffs]}
    if args.json:
        emit_json(report)
        return 0 if ok else 1
    if not args.compare:
        for o, t in zip(outputs, model.outputs):
            print(f"{model.tensors[t].name}: {list(o.shape)} {o.dtype}")
            if o.size <= 64:
                print(np.array2string(o, threshold=64))
        if args.out:
            print(f"wrote {args.out}")
        return 0
    cmp = report["compare"]
    rows = [(e, f"{report['inferences_per_s'][e]:.1f}" if report["inferences_per_s"][e] else "-")
            for e in engines]
    print(table(rows, ["engine", "inferences/s"], align="lr"))
    print(f"\n{n} input(s), {cmp['total_bytes']:,} output bytes: "
          f"{cmp['differing_bytes']:,} differ, max |diff| {cmp['max_abs_diff']}")
    if "layers" in report:
        lay = report["layers"]
        first = lay["first_differing"]
        if first is None:
            print(f"every layer's output agrees on input {lay['input']} "
                  f"({len(lay['per_layer'])} tensors)")
        else:
            print(f"first differing layer on input {lay['input']}: #{first['index']} "
                  f"{first['op']} -> '{first['tensor']}': {first['differing']} of "
                  f"{first['total']} values differ (max |diff| {first['max_abs_diff']})")
    print("PASS: bit-exact" if ok else "FAIL: outputs differ")
    return 0 if ok else 1


def _agreement(results: dict, model) -> dict:
    import numpy as np

    a, b = results["tinyflow"], results["tflm"]
    diff = total = max_abs = 0
    first = None
    for k, (oa, ob) in enumerate(zip(a, b)):
        for x, y in zip(oa, ob):
            x, y = np.asarray(x), np.asarray(y)
            d = int((x.reshape(-1).view(np.uint8) != y.reshape(-1).view(np.uint8)).sum())
            total += x.nbytes
            diff += d
            if d:
                first = k if first is None else first
                max_abs = max(max_abs, int(np.abs(x.astype(np.float64) -
                                                  y.astype(np.float64)).max()))
    return {"differing_bytes": diff, "total_bytes": total, "max_abs_diff": max_abs,
            "first_differing_input": first}
