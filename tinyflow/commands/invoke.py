"""`tinyflow invoke`: run inputs through the tinyflow engine, tflite-micro, or both.

    tinyflow invoke --model M.tflite --input X.npy --out Y.npy            # our engine (host)
    tinyflow invoke --model M.tflite --input X.npy --engine tflm          # the oracle
    tinyflow invoke --model M.tflite --input X.npy --compare [--layers]   # agreement report

    tinyflow invoke --board qemu-m7 --model M --input X.npy [--compare] [--layers]
    tinyflow invoke --board nucleo-h7 --port /dev/ttyACM0 --model M --input X.npy
    tinyflow invoke --board qemu-m4 --model runs/ser/.../model_int8.tflite --input clip.wav

X is one input (shaped as the model input) or many stacked along a new leading axis; the
output is stacked the same way. A float X for an int8 model is quantized with the model's
input scale and zero point. Multi-input models take --input once per input. With
--compare, exit status 0 means every output byte agreed.

With --board the inputs run on the board over the serial link: a virtual board's firmware
is built (as `tinyflow build` does, into the same folder) and QEMU started here; a real
board needs --port and this model's firmware flashed. The report adds instructions
(virtual) or cycles (real) per inference, the arena and the stack high-water mark;
--compare checks the board against the host engine and tflite-micro; --layers gives the
cycles of every layer (the firmware is built with --profile). A speech-emotion model with
a .wav input runs the raw-audio firmware and prints arousal, dominance and valence.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_board, add_json, add_model

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
                        "differs; with --board: cycles per layer")
    add_board(p, required=False)
    p.add_argument("--port", metavar="PORT",
                   help="with --board: serial port of a real board running this model's "
                        "firmware (or of a QEMU started elsewhere)")
    p.add_argument("--features", metavar="CONFIG_JSON",
                   help="speech emotion with a .wav input: the training run's config.json "
                        "(default: the one beside the model)")
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
    from tinyflow.ir import load_model
    from tinyflow.models import tflite_path
    from tinyflow.ui import emit_json, status, table

    path = tflite_path(args.model)
    if args.board and any(str(x).lower().endswith(".wav") for x in args.input):
        return _run_wav(args, path)
    if args.port and not args.board:
        raise TinyflowError("--port needs --board (the board the firmware was built for)")
    model = load_model(path)
    data = path.read_bytes()
    samples, n, stacked = _load_inputs(args.input, model)
    if args.layers and not args.compare and not args.board:
        raise TinyflowError("--layers needs --compare (or --board for cycles per layer)")
    engines = list(ENGINES) if args.compare else [args.engine]
    results, timings = {}, {}
    device: dict | None = None
    if args.board:
        status(f"running {n} input(s) on {args.board} ...")
        results["board"], timings["board"], device = _run_board(args, path, model, samples)
        engines = ["board"] + (list(ENGINES) if args.compare else [])
    for eng in engines:
        if eng == "board":
            continue
        status(f"running {n} input(s) through {eng} ...")
        results[eng], timings[eng] = _run_all(_runner(eng, model, data), samples)
    main_engine = "board" if args.board else "tinyflow" if args.compare else args.engine
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
    if device is not None:
        report["device"] = device
    if args.compare and args.board:
        cmp = {other: _agreement(results, model, "board", other) for other in ENGINES}
        report["compare"] = cmp
        ok = all(c["differing_bytes"] == 0 for c in cmp.values())
    elif args.compare:
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
    if device is not None:
        _print_device(device, outputs, model, report.get("compare"))
        if args.out:
            print(f"wrote {args.out}")
        if "compare" in report:
            print("PASS: bit-exact" if ok else "FAIL: outputs differ")
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


def _agreement(results: dict, model, first: str = "tinyflow", second: str = "tflm") -> dict:
    import numpy as np

    a, b = results[first], results[second]
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


# ------------------------------------------------------------------ on a board

def _board_elf(board, path, model, profile: bool):
    """A virtual board's firmware for this model, built as `tinyflow build` builds it
    (same folder, so an up-to-date build costs a second of SCons)."""
    from tinyflow import codegen
    from tinyflow.build import build_firmware, default_out_dir
    from tinyflow.pipeline import Stage
    from tinyflow.plan import plan_memory

    name = codegen.c_name(model.name if model.name else path.stem)
    out = default_out_dir(board, name)
    with Stage(f"build the firmware for {board.name}"):
        gen = codegen.generate(model, out / "model", name=name, profile=profile,
                               plan=plan_memory(model))
        return build_firmware(board, [gen.c_file], out, model_name=name).elf


def _run_board(args, path, model, samples) -> tuple[list, float, dict]:
    """Every sample on the board: (outputs per sample, seconds, device report)."""
    import time

    import numpy as np

    from tinyflow.boards import get_board
    from tinyflow.device import open_device

    board = get_board(args.board, args.boards_dir)
    elf = None
    if board.is_virtual and not args.port:
        elf = _board_elf(board, path, model, profile=args.layers)
    outs, runs = [], []
    with open_device(board, elf, port=args.port, expect_hash=model.sha256) as dev:
        t0 = time.perf_counter()
        for xs in samples:
            r = dev.run(list(xs), profile=args.layers)
            runs.append(r)
            outs.append([np.frombuffer(o, model.tensors[t].dtype).reshape(model.tensors[t].shape)
                         for o, t in zip(r.outputs, model.outputs)])
        seconds = time.perf_counter() - t0
        info, to_ins = dev.info, dev.link.to_instructions
    virtual = info.virtual
    unit = "instructions" if virtual else "cycles"
    per = [r.instructions if virtual else r.cycles for r in runs]
    device = {"board": info.board, "core": info.core, "port": args.port, "elf": str(elf or ""),
              "build": info.build, "clock_hz": info.clock_hz, "unit": unit,
              "per_inference": per, "mean": sum(per) / len(per) if per else None,
              "ms_at_clock": [round(1e3 * c / info.clock_hz, 3) for c in per],
              "arena_bytes": info.arena_bytes, "stack_bytes": info.stack_bytes,
              "stack_used": max((r.stack_used for r in runs), default=0)}
    if args.layers:
        cyc = runs[0].layer_cycles if runs else []
        if not cyc:
            device["layers"] = None
            device["layers_note"] = ("the firmware has no per-layer timing: rebuild it with "
                                     "tinyflow build --profile")
        else:
            ops = model.operators
            device["layers"] = [
                {"index": i, "op": ops[i].opcode if i < len(ops) else "?",
                 unit: (to_ins(c) if virtual else c)} for i, c in enumerate(cyc)]
    return outs, seconds, device


def _print_device(device: dict, outputs: list, model, compare: dict | None) -> None:
    import numpy as np

    from tinyflow.ui import table

    for o, t in zip(outputs, model.outputs):
        print(f"{model.tensors[t].name}: {list(o.shape)} {o.dtype}")
        if o.size <= 64:
            print(np.array2string(o, threshold=64))
    unit = device["unit"]
    per = device["per_inference"]
    print(f"\n{device['board']} ({device['core']}): {device['mean']:,.0f} {unit} per inference"
          + (f" ({len(per)} inputs, {min(per):,}..{max(per):,})" if len(per) > 1 else "")
          + ("" if unit == "cycles" else "  [QEMU -icount: instructions, not cycles]"))
    print(f"arena {device['arena_bytes']:,} B; stack high-water {device['stack_used']:,} B "
          f"of {device['stack_bytes']:,} B")
    if device.get("layers"):
        rows = [(str(ly["index"]), ly["op"], f"{ly[unit]:,}") for ly in device["layers"]]
        print(table(rows, ["layer", "op", unit], align="llr"))
    elif "layers_note" in device:
        print(device["layers_note"])
    if compare:
        for other, c in compare.items():
            print(f"board vs {other}: {c['differing_bytes']:,} of {c['total_bytes']:,} output "
                  f"bytes differ (max |diff| {c['max_abs_diff']})")


def _run_wav(args, path) -> int:
    """A speech-emotion model and a .wav: the raw-audio firmware prints A/D/V."""
    from tinyflow import ser_app
    from tinyflow.errors import TinyflowError
    from tinyflow.ui import emit_json

    if len(args.input) != 1:
        raise TinyflowError("a .wav input goes alone: one clip per invoke")
    if args.port:
        raise TinyflowError("a .wav on a real board: stream it with tinyflow listen --port",
                            hint="invoke --input clip.wav starts virtual boards only")
    params = ser_app.params_for_model(path, args.features)
    r = ser_app.invoke_wav(args.board, path, args.input[0], params)
    ok = True
    if args.compare:
        # The host pipeline: the same C front end compiled for the host, our engine.
        from tinyflow.datasets.ser_manifest import load_wav
        from tinyflow.frontend import HostFrontend
        from tinyflow.hostengine import HostEngine
        from tinyflow.ir import load_model

        net = load_model(path)
        t = net.tensors[net.inputs[0]]
        q8 = HostFrontend(params).clip_q8(load_wav(args.input[0], params.sample_rate),
                                          float(t.quant.scale[0]), int(t.quant.zero_point[0]))
        host = HostEngine(net).invoke(q8.reshape(t.shape))[0].ravel().tolist()
        ok = host == r["raw"]
        r["compare"] = {"host_raw": host, "bit_exact": ok}
    if args.json:
        emit_json(r)
        return 0 if ok else 1
    print(f"arousal {r['arousal']:.3f}  dominance {r['dominance']:.3f}  "
          f"valence {r['valence']:.3f}")
    if r["instructions"] is not None:
        print(f"{r['board']}: front end {r['frontend_instructions']:,} + network "
              f"{r['network_instructions']:,} instructions ({r['samples']:,} samples)")
    if args.compare:
        print(f"host pipeline (C front end + host engine): {r['compare']['host_raw']} vs "
              f"board {r['raw']}: " + ("PASS: bit-exact" if ok else "FAIL: outputs differ"))
    return 0 if ok else 1
