"""`tinyflow listen`: stream a WAV through the speech-emotion firmware on a board.

    tinyflow listen --board qemu-m55 --model runs/ser/.../model_int8.tflite --input talk.wav
    tinyflow listen -b qemu-m4 -m ser.tflite -i talk.wav --hop 0.25 --json

The board computes the log-mel front end itself (firmware/frontend, CMSIS-DSP) from the
16-bit audio sent over the serial link, incrementally as a stream, and runs the int8
network once per window: one arousal/dominance/valence line per `--hop` seconds, with
the front end's and the network's cost for that window (instructions on a virtual board,
cycles on a real one). See docs/audio-frontend.md.
"""

from __future__ import annotations

import argparse

from tinyflow.commands._common import add_board, add_json, add_model


def configure(p: argparse.ArgumentParser) -> None:
    add_board(p)
    add_model(p)
    p.add_argument("-i", "--input", required=True, metavar="AUDIO.wav",
                   help="16 kHz PCM WAV, at least one window long")
    p.add_argument("--hop", type=float, default=0.5, metavar="SECONDS",
                   help="time between estimates (rounded to the FFT hop; default 0.5)")
    p.add_argument("--chunk", type=float, default=0.25, metavar="SECONDS",
                   help="audio sent per request (default 0.25)")
    p.add_argument("--features", metavar="config.json",
                   help="front-end parameters of the training run (default: the "
                        "config.json beside the model)")
    p.add_argument("--port", metavar="PORT", help="serial port of a real board")
    p.add_argument("--helium", action="store_true",
                   help="M55: CMSIS-DSP's MVE front end (faster, not bit-exact to the host)")
    add_json(p)


def run(args: argparse.Namespace) -> int:
    from tinyflow import zoo
    from tinyflow.errors import TinyflowError
    from tinyflow.ser_app import listen
    from tinyflow.ui import emit_json, status, table

    spec = zoo.resolve(args.model)
    if not isinstance(spec, zoo.ModelFile) or spec.kind != "tflite":
        raise TinyflowError("tinyflow listen needs the int8 .tflite of a speech-emotion model",
                            hint="quantize a trained ser run first: tinyflow quantize")
    status(f"streaming {args.input} to {args.board} ...")
    r = listen(args.board, spec.path, args.input, args.hop, args.chunk, args.features,
               args.port, args.helium)
    if args.json:
        emit_json(r)
        return 0
    rows = [(w["window"], f"{w['start_s']:.2f}", f"{w['arousal']:.3f}",
             f"{w['dominance']:.3f}", f"{w['valence']:.3f}", w["frontend"], w["network"])
            for w in r["windows"]]
    print(table(rows, ["window", "start s", "arousal", "dominance", "valence",
                       f"front end ({r['cost_unit']})", f"network ({r['cost_unit']})"]))
    return 0
