"""The `tinyflow` command: one entry point, one module per subcommand.

Each subcommand lives in `tinyflow/commands/<name>.py` and provides
`configure(parser)` and `run(args) -> int`. Command modules import only the standard
library at module level (heavy imports such as TensorFlow go inside `run`), so that
`tinyflow --help` and the non-ML commands start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from tinyflow import __version__
from tinyflow.errors import TinyflowError

# (name, one-line help) in the order a user meets them along the flow.
COMMANDS: list[tuple[str, str]] = [
    ("boards", "list the supported boards and their memory"),
    ("models", "list the model zoo"),
    ("data", "synthesise or check datasets"),
    ("train", "train a zoo model"),
    ("quantize", "full-int8 post-training quantization"),
    ("inspect", "show a .tflite model's operators, shapes, MACs and memory"),
    ("check", "will this model fit on this board? (memory plan and budget)"),
    ("invoke", "run inputs through the engine, tflite-micro or a board"),
    ("build", "generate C and build the firmware for a board"),
    ("flash", "put a firmware image on a board (or start a virtual board)"),
    ("eval", "evaluate a model on a board over the serial link"),
    ("report", "re-render an evaluation report from a run directory"),
    ("listen", "stream a WAV through the SER firmware: arousal/dominance/valence per window"),
    ("monitor", "serial console: log lines and decoded protocol frames"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinyflow",
        description="Train, quantize, budget, build, flash and evaluate tiny int8 models "
                    "on Arm Cortex-M boards.",
    )
    parser.add_argument("--version", action="version", version=f"tinyflow {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_ in COMMANDS:
        try:
            module = importlib.import_module(f"tinyflow.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"tinyflow.commands.{name}":
                continue  # not shipped yet
            raise
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show full tracebacks on errors")
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 1
    debug = args.debug or bool(os.environ.get("TINYFLOW_DEBUG"))
    if not debug:  # TensorFlow's C++ start-up chatter is noise on a CLI
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # oneDNN's custom ops reorder float sums from run to run; tinyflow promises
    # reproducible training from a seed, so they are off unless the user turns them on.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        return int(args._run(args) or 0)
    except TinyflowError as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an unexpected failure is a bug: say so, briefly
        if debug:
            raise
        print(f"error: {type(e).__name__}: {e}\n  (this is a tinyflow bug; rerun with --debug "
              "for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
