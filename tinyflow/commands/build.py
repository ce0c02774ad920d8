"""`tinyflow build --board B --model M`: model -> int8 -> budget check -> C -> firmware.

Stages, each printed on stderr with its time: prepare the int8 model (training and
quantizing a zoo model only when no run exists yet), check the memory budget (a model that
cannot fit stops here, with the numbers, before any compiling), generate C, compile and link
with SCons. Then the linked ELF is compared with the budget's prediction, region by region.
Artifacts (.elf .bin .hex .map, manifest.json) go to build/<board>/<model>/.

Variants: `--mlperf [ID]` builds the MLPerf Tiny / EEMBC mode (build/<board>/<model>-mlperf/);
a speech-emotion model whose training run records log-mel features gets the raw-audio
firmware (front end + network, build/<board>/<model>-audio/) unless `--features-input`.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_board, add_json, add_model


def configure(p: argparse.ArgumentParser) -> None:
    add_board(p)
    add_model(p)
    add_json(p)
    p.add_argument("-O", "--opt", default="O2", choices=("O0", "O1", "O2", "O3", "Os", "Oz"),
                   help="compiler optimisation level (default O2)")
    p.add_argument("--lto", action="store_true", help="link-time optimisation")
    p.add_argument("--profile", action="store_true",
                   help="generate per-layer timing hooks (tinyflow invoke --board --layers)")
    p.add_argument("-o", "--out", metavar="DIR",
                   help="build folder (default build/<board>/<model>)")
    p.add_argument("--epochs", type=int, help="zoo model: training epochs, when it trains")
    p.add_argument("--seed", type=int, default=0, help="zoo model: data and training seed")
    p.add_argument("-v", "--verbose", action="store_true", help="show compiler command lines")
    p.add_argument("--mlperf", nargs="?", const="auto", metavar="MODEL_ID",
                   help="build the MLPerf Tiny / EEMBC protocol instead of tinyflow's "
                        "(model id for the runner: vww01 for person detection by default; "
                        "kws01, ic01, ad01); goes to build/<board>/<model>-mlperf")
    p.add_argument("--features-input", action="store_true",
                   help="log-mel (SER) models: the plain network firmware that takes int8 "
                        "features, instead of the raw-audio firmware with the front end")
    p.add_argument("--features", metavar="CONFIG_JSON",
                   help="log-mel (SER) models: the training run's config.json, when it is "
                        "not beside the model")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tinyflow import codegen, ui
    from tinyflow.boards import get_board
    from tinyflow.budget import full_budget
    from tinyflow.build import build_firmware, default_out_dir
    from tinyflow.errors import TinyflowError
    from tinyflow.ir import load_model
    from tinyflow.pipeline import Stage, prepare_model
    from tinyflow.plan import plan_memory

    board = get_board(args.board, args.boards_dir)
    prep = prepare_model(args.model, epochs=args.epochs, seed=args.seed)
    model = load_model(prep.tflite)
    # the model's own name (its run's config.json), not the file's stem (model_int8)
    name = codegen.c_name(model.name or prep.name)
    features = recorded_features(prep.tflite, args.features)
    audio = features is not None and not args.features_input and not args.mlperf
    mlperf_id = None
    if args.mlperf:
        mlperf_id = args.mlperf
        if mlperf_id == "auto":
            if prep.name != "person_det" and not _is_image_model(model):
                raise TinyflowError(f"--mlperf: no default MLPerf Tiny model id for {prep.name}",
                                    hint="name one: --mlperf kws01 (or vww01, ic01, ad01)")
            mlperf_id = "vww01"
    suffix = "-mlperf" if mlperf_id else "-audio" if audio else ""
    out = Path(args.out) if args.out else default_out_dir(board, name + suffix)

    with Stage(f"check the memory budget on {board.name}"):
        plan = plan_memory(model)
        # the raw-audio firmware carries the front end too; the network firmware does not
        budget = full_budget(model, board, plan, model_path=prep.tflite if audio else None)
    if not budget.ok:
        import contextlib
        import sys

        from tinyflow.commands.check import print_budget

        with contextlib.redirect_stdout(sys.stderr):
            print_budget(budget)
        raise TinyflowError(f"{model.name} does not fit on {board.name} (see the budget above); "
                            "nothing was compiled",
                            hint=budget.suggestions[0] if budget.suggestions else None)
    what = (f"MLPerf Tiny {mlperf_id}, " if mlperf_id
            else "raw audio in, A/D/V out, " if audio else "")
    if audio:
        from tinyflow.features import LogMelParams
        from tinyflow.ser_app import build_ser_firmware

        with Stage(f"generate C and compile for {board.name} ({what}{board.core}, "
                   f"-{args.opt})"):
            res = build_ser_firmware(board, LogMelParams.from_dict(features), model, out,
                                     opt=args.opt)
    else:
        with Stage("generate C"):
            gen = codegen.generate(model, out / "model", name=name, profile=args.profile,
                                   plan=plan)
        with Stage(f"compile and link for {board.name} ({what}{board.core}, -{args.opt}"
                   f"{', LTO' if args.lto else ''})"):
            res = build_firmware(board, [gen.c_file], out, model_name=name, opt=args.opt,
                                 lto=args.lto, verbose=args.verbose,
                                 app="mlperf" if mlperf_id else "tfp",
                                 mlperf_model_id=mlperf_id or "vww01",
                                 mlperf_db_bytes=model.tensors[model.inputs[0]].nbytes)
    rows, comparison = compare_with_budget(res.sizes, budget, board)
    if args.json:
        ui.emit_json({"build": res.to_dict(), "budget_vs_elf": comparison,
                      "app": "mlperf" if mlperf_id else "ser-audio" if audio else "tfp",
                      "mlperf_model_id": mlperf_id, "features": features,
                      "model": {"name": name, "tflite": str(prep.tflite),
                                "hash": model.sha256[:16]}})
        return 0
    for w in res.warnings:
        ui.status(w)
    print(f"{name} on {board.name}{' (' + what.rstrip(', ') + ')' if what else ''}: "
          f"{'built' if res.rebuilt else 'up to date'} in "
          f"{res.seconds:.2f} s -> {res.elf}")
    print(ui.table(rows, ["region", "size", "ELF", "predicted", "ELF - predicted", "use"],
                   align="lrrrrr"))
    s = res.sizes
    print(f"code {s['text']:,} B, constants {s['rodata']:,} B, data+bss {s['data_bss']:,} B, "
          f"arena {s['arena']:,} B; deepest frame: "
          + (f"{s['deepest_frames'][0]['function']} {s['deepest_frames'][0]['bytes']} B"
             if s["deepest_frames"] else "n/a"))
    sb = s.get("stack_bound")
    if sb:
        print(f"stack: at most {sb['bytes']:,} B by the call graph (deepest: "
              f"{' > '.join(sb['path'][-3:])}; interrupts {sb['isr_bytes']} B), "
              f"reserve {board.stack_bytes:,} B"
              + (f"; not bounded: {', '.join(sb['unbounded'])}" if sb["unbounded"] else ""))
        if sb["bytes"] > board.stack_bytes:
            ui.status(f"warning: the stack may need {sb['bytes']:,} B, more than the "
                      f"{board.stack_bytes:,} B reserved in {board.path.name}")
    how = ("tinyflow flash --board " + board.name + (f" --elf {res.elf}" if suffix else "")
           + (" (starts QEMU)" if board.is_virtual else ""))
    print(f"next: {how}")
    return 0


def recorded_features(tflite, config: str | None = None) -> dict | None:
    """The log-mel parameters a training run recorded (config.json beside the model, or
    `config`), or None: the model takes no audio features."""
    import json
    from pathlib import Path

    path = Path(config) if config else Path(tflite).parent / "config.json"
    if path.is_dir():
        path = path / "config.json"
    try:
        feats = json.loads(path.read_text()).get("features")
    except (OSError, ValueError, AttributeError):
        return None
    return feats if isinstance(feats, dict) else None


def _is_image_model(model) -> bool:
    shape = model.tensors[model.inputs[0]].shape
    return len(shape) == 4 and shape[1] == shape[2] and shape[3] in (1, 3)


def compare_with_budget(sizes: dict, budget, board) -> tuple[list[tuple], list[dict]]:
    """Per region: the linked ELF's use against `tinyflow check`'s prediction."""
    from tinyflow.ui import human_bytes

    elf = {r["region"]: r["used"] for r in sizes["regions"]}
    pred = {r.name: r.used for r in budget.regions}
    rows, out = [], []
    for r in board.regions:
        if r.name not in elf and r.name not in pred:
            continue
        e, p = elf.get(r.name, 0), pred.get(r.name, 0)
        rows.append((r.name, human_bytes(r.size), f"{e:,}", f"{p:,}", f"{e - p:+,}",
                     f"{100 * e / r.size:.1f}%"))
        out.append({"region": r.name, "size": r.size, "elf": e, "predicted": p,
                    "difference": e - p})
    return rows, out
