"""`tinyflow models`: the model zoo with defaults, parameter counts and input specs."""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_json, add_model_options, model_options


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="show one zoo model (with the options given)")
    add_model_options(p)
    p.add_argument("--no-params", action="store_true",
                   help="skip parameter counts (they need Keras, ~3 s)")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from tinyflow import ui, zoo
    from tinyflow.errors import TinyflowError

    opts = model_options(args)
    if args.name:
        specs = [zoo.resolve(args.name, **opts)]
    else:
        if opts:
            raise TinyflowError("model options need a model name: tinyflow models NAME --width …")
        specs = [zoo.resolve(e.name) for e in zoo.entries()]
    rows = []
    for s in specs:
        d = s.to_dict()
        d["summary"] = s.entry.summary
        d["config_name"] = s.config_name
        d["options_help"] = [o.describe() for o in s.entry.options]
        if not args.no_params:
            d["params"] = zoo.param_count(s)
        rows.append(d)
    if args.json:
        ui.emit_json(rows)
        return 0
    print(ui.table([[r["name"], r["task"], r.get("params"), "x".join(map(str, r["input"]["shape"])),
                     ",".join(r["outputs"]), " ".join(f"{k}={v}" for k, v in r["options"].items())]
                    for r in rows],
                   ["model", "task", "params", "input", "outputs", "options"]))
    for r in rows:
        print(f"\n{r['name']}: {r['summary']}\n  input: {r['input']['description']}")
        for h in r["options_help"]:
            print(f"  {h}")
    return 0
