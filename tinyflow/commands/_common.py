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
