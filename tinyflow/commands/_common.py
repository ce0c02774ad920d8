"""Flags shared by several subcommands, so they are spelled the same everywhere."""

from __future__ import annotations

import argparse


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def add_board(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("-b", "--board", required=required, metavar="BOARD",
                   help="board name (see `tinyflow boards`)")
    p.add_argument("--boards-dir", metavar="DIR", action="append", default=None,
                   help="extra folder of board files (also $TINYFLOW_BOARDS, ':'-separated)")


def add_model(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("-m", "--model", required=required, metavar="MODEL",
                   help="zoo model name (see `tinyflow models`) or a .tflite/.keras path")


def add_model_options(p: argparse.ArgumentParser) -> None:
    """`--width 0.25 --resolution 96 …`: every zoo option, for use with --model NAME.

    An option the chosen model lacks is refused by `tinyflow.zoo.resolve`, which lists
    the valid ones. Imports only the zoo registry (stdlib-only at import time).
    """
    from tinyflow import zoo

    g = p.add_argument_group("zoo model options (see `tinyflow models`)")
    for opt in zoo.all_options().values():
        g.add_argument(f"--{opt.name.replace('_', '-')}", dest=f"zoo_{opt.name}", type=str,
                       default=None, metavar=opt.type.__name__.upper(), help=opt.help)


def model_options(args: argparse.Namespace) -> dict:
    """The zoo options given on the command line (unset ones left out)."""
    return {k[4:]: v for k, v in vars(args).items() if k.startswith("zoo_") and v is not None}
