"""Speech emotion on the virtual boards: front end vs network, per second of audio.

    .venv/bin/python benchmarks/frontend_bench.py [--boards qemu-m4,qemu-m7,qemu-m55]
        [--seconds 3] [--hop 8000]     # writes benchmarks/results/frontend.{json,md}

For each virtual board: build the SER firmware (firmware/frontend/tf_ser_app.c: the
CMSIS-DSP log-mel front end + the zoo `ser` network, untrained int8, default options),
then over the serial link in QEMU (-icount shift=0):
- clip mode: one 1 s clip in, A/D/V out; instructions of the front end and the network;
- stream mode: `--seconds` of audio pushed in 0.25 s chunks with one window every `--hop`
  samples; front-end instructions per second of audio (each FFT frame once) and the
  network's per window;
- the front end's features equal the host C build's, bit for bit (checked per run);
- flash/RAM of the whole firmware from the ELF, and the front end's share from the map.
Instruction counts are QEMU instructions, not cycles (docs/protocol.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402


def ser_tflite() -> Path:
    p = ROOT / "build" / "zoo" / "ser-s1-f13-l7.tflite"
    if not p.is_file():
        from tinyflow import zoo

        zoo.quick_tflite("ser", p, seed=0)
    return p


def audio(seconds: float, seed: int = 0) -> np.ndarray:
    from tinyflow.datasets.synth_ser import synth_clip

    rng = np.random.default_rng(seed)
    parts = [synth_clip(rng, *rng.uniform(0.05, 0.95, 3), seconds=1.0)
             for _ in range(int(np.ceil(seconds)))]
    x = np.concatenate(parts)[:int(seconds * 16000)]
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def run_board(board: str, model: Path, seconds: float, hop: int) -> dict:
    from _fw import virtual_board

    from tinyflow.features import LogMelParams
    from tinyflow.frontend import HostFrontend, linked_sizes
    from tinyflow.ir import load_model
    from tinyflow.ser_app import SerDevice, build_ser_firmware

    p = LogMelParams()
    net = load_model(model)
    t = net.tensors[net.inputs[0]]
    s, z = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    res = build_ser_firmware(board, p, model=net)
    x = audio(seconds)
    fe = HostFrontend(p)
    with virtual_board(board, res.elf) as (link, _):
        dev = SerDevice(link, p)
        dev.clip(x[:p.n_samples])
        clip = dict(dev.last)
        q8, _ = dev.features(x[:p.n_samples], s, z)
        exact = bool(np.array_equal(q8, fe.clip_q8(x[:p.n_samples], s, z)))
        wins = dev.stream(x, hop, chunk=4000)
        ins = link.to_instructions
        fe_total = ins(dev.stream_totals["fe_cycles"])     # every push, windows or not
        net_w = [ins(w.net_cycles) for w in wins]
    regions = {r["region"]: r["used"] for r in res.sizes.get("regions", [])}
    return {
        "board": board,
        "clip_frontend_insns": ins(clip["fe_cycles"]),
        "clip_network_insns": ins(clip["net_cycles"]),
        "stream_windows": len(wins),
        "stream_frontend_insns_per_s_audio": round(fe_total / (x.size / p.sample_rate)),
        "stream_frontend_insns_steady_window": int(np.median([ins(w.fe_cycles)
                                                              for w in wins[1:]])),
        "stream_frontend_insns_per_window": [ins(w.fe_cycles) for w in wins],
        "stream_network_insns_per_window": net_w,
        "features_bit_exact_vs_host": exact,
        "elf_text": res.sizes.get("text"), "elf_rodata": res.sizes.get("rodata"),
        "elf_data_bss": res.sizes.get("data_bss"), "arena": res.sizes.get("arena"),
        "regions_used": regions,
        "frontend_linked": linked_sizes(res.map),
        "tf_arena_section": _section_size(res.elf, ".tf_arena"),
    }


def eval_board(board: str, n: int, root: Path) -> dict:
    """Raw synthetic clips in, A/D/V out: CCC per dimension on the device (raw audio), the
    host pipeline on the same C features (HostFrontend + HostEngine) and the numpy
    pipeline (features.py + HostEngine). Uses the small 0.25 s `ser`-shaped test network
    (tests/test_eval_helpers.py), whose outputs vary from clip to clip."""
    import csv

    from _fw import virtual_board
    from test_eval_helpers import SER_SECONDS, ser_model

    from tinyflow.datasets.ser_manifest import load_wav
    from tinyflow.datasets.synth_ser import generate
    from tinyflow.features import LogMel, LogMelParams
    from tinyflow.frontend import HostFrontend, to_pcm16
    from tinyflow.hostengine import HostEngine
    from tinyflow.ir import load_model
    from tinyflow.metrics import ccc
    from tinyflow.ser_app import SerDevice, build_ser_firmware

    p = LogMelParams(seconds=SER_SECONDS)
    data = root / f"synth_ser_{n}"
    if not (data / "manifest.csv").is_file():
        generate(data, n=n, seed=0, seconds=SER_SECONDS)
    rows = list(csv.DictReader(open(data / "manifest.csv")))
    y = np.array([[float(r[k]) for k in ("arousal", "dominance", "valence")] for r in rows])
    waves = [load_wav(data / r["path"]) for r in rows]
    path = ser_model()
    net = load_model(path)
    t, o = net.tensors[net.inputs[0]], net.tensors[net.outputs[0]]
    s, z = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    os_, oz = float(o.quant.scale[0]), int(o.quant.zero_point[0])
    eng, fe, ref = HostEngine(net), HostFrontend(p), LogMel(p)
    host = np.array([eng.invoke(fe.clip_q8(w, s, z).reshape(t.shape))[0].ravel() for w in waves])
    numpy_q = [np.clip(np.round(ref(w) / np.float32(s)) + z, -128, 127).astype(np.int8)
               for w in waves]
    nump = np.array([eng.invoke(q.reshape(t.shape))[0].ravel() for q in numpy_q])
    res = build_ser_firmware(board, p, model=net)
    with virtual_board(board, res.elf) as (link, _):
        dev = SerDevice(link, p)
        device = np.array([dev.clip(to_pcm16(w)) for w in waves])

    def cccs(q: np.ndarray) -> list[float]:
        v = (q.astype(np.float64) - oz) * os_
        return [round(ccc(v[:, d], y[:, d]), 6) for d in range(3)]

    return {"board": board, "n": n, "model": path.name,
            "device_equals_host": int((device == host).all(axis=1).sum()),
            "numpy_differs_from_device": int((nump != device).any(axis=1).sum()),
            "ccc_device": cccs(device), "ccc_host_c": cccs(host), "ccc_host_numpy": cccs(nump)}


def _section_size(elf: Path, name: str) -> int:
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        sec = ELFFile(f).get_section_by_name(name)
        return int(sec["sh_size"]) if sec is not None else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="qemu-m4,qemu-m7,qemu-m55")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--hop", type=int, default=8000, help="stream hop in samples (0.5 s)")
    ap.add_argument("--eval-n", type=int, default=24,
                    help="synthetic clips for the raw-audio CCC check (0 skips it)")
    args = ap.parse_args()
    from tinyflow.frontend import frontend_budget

    model = ser_tflite()
    boards = args.boards.split(",")
    rows = [run_board(b, model, args.seconds, args.hop) for b in boards]
    evals = [eval_board(b, args.eval_n, ROOT / "build" / "bench") for b in boards] \
        if args.eval_n else []
    out = {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
           "command": "benchmarks/frontend_bench.py " + " ".join(sys.argv[1:]),
           "model": model.name, "hop": args.hop, "seconds": args.seconds,
           "frontend_budget": frontend_budget(), "boards": rows, "eval": evals}
    res_dir = HERE / "results"
    res_dir.mkdir(exist_ok=True)
    (res_dir / "frontend.json").write_text(json.dumps(out, indent=1) + "\n")
    md = [f"# SER front end vs network on virtual boards ({out['date']})", "",
          f"Command: `.venv/bin/python {out['command']}`. Model: {out['model']} (untrained "
          f"int8 zoo `ser`, 249x26 log-mel input). Stream: {args.seconds:g} s of synthetic "
          f"speech, hop {args.hop} samples. QEMU instructions (-icount shift=0), not cycles.",
          "",
          "| board | front end, 1 s clip | front end per s of audio (stream) | front end per "
          "window after the first (stream) | network per window | windows | features == "
          "host C | flash (text+rodata) | RAM: data+bss / .tf_arena (network arena + front "
          "end buffers) | front end code / const |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f = r["frontend_linked"]["frontend"]
        md.append(f"| {r['board']} | {r['clip_frontend_insns']:,} | "
                  f"{r['stream_frontend_insns_per_s_audio']:,} | "
                  f"{r['stream_frontend_insns_steady_window']:,} | "
                  f"{int(np.median(r['stream_network_insns_per_window'])):,} | "
                  f"{r['stream_windows']} | {r['features_bit_exact_vs_host']} | "
                  f"{r['elf_text'] + r['elf_rodata']:,} | {r['elf_data_bss']:,} / "
                  f"{r['tf_arena_section']:,} | "
                  f"{f['code']:,} / {f['const']:,} |")
    md += ["", "Front-end budget (tinyflow.frontend.frontend_budget, default LogMelParams): "
           + ", ".join(f"{k} {v:,} B" for k, v in out["frontend_budget"].items()), ""]
    if evals:
        md += ["## Raw audio in, A/D/V out: CCC per dimension (arousal, dominance, valence)", "",
               f"{evals[0]['n']} synthetic clips (tinyflow.datasets.synth_ser, 0.25 s ±20 %), "
               f"network {evals[0]['model']} (random weights: the CCC values only show that "
               "device and host agree, not model quality).", "",
               "| board | device == host C pipeline | CCC device (raw audio) | CCC host, C "
               "features | CCC host, numpy features | clips where numpy features change "
               "the output |", "|---|---|---|---|---|---|"]
        for e in evals:
            md.append(f"| {e['board']} | {e['device_equals_host']}/{e['n']} | "
                      f"{e['ccc_device']} | {e['ccc_host_c']} | {e['ccc_host_numpy']} | "
                      f"{e['numpy_differs_from_device']} |")
        md.append("")
    (res_dir / "frontend.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
