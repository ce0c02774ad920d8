"""The speech front end in C (firmware/frontend/) and its host build.

`tinyflow.features` defines the log-mel features in numpy; the device computes them with
the C in `firmware/frontend/` on CMSIS-DSP. This module is the bridge:

- `stage(params)` renders the generated constants (Hann window, sparse mel filterbank,
  sizes; templates/frontend_*.j2) and one small wrapper per CMSIS-DSP source used, into
  `build/frontend/<digest>/`. `firmware_sources(params)` lists every .c file a firmware
  build must compile for the front end; `CMSIS_DSP_SOURCES` is the exact list taken from
  the cmsisdsp sdist (nothing else of CMSIS-DSP is compiled).
- `HostFrontend(params)` compiles the same C with the host gcc into a shared library
  (cached by content digest) and calls it with ctypes, giving features bit-identical to a
  Cortex-M build: `fe.clip(wave)`, `fe.clip_q8(wave, scale, zp)`, `fe.stream(wave, hop)`.
  It is a drop-in for `features.LogMel` (`fe(wave)`, `fe.batch(waves)`).
- `frontend_budget(params)` is the front end's flash and RAM: code, tables, state.

The device sees 16-bit PCM, so float input is turned into int16 (round(x * 32768)); a
wave from `datasets.ser_manifest.load_wav` (int16 / 32768) round-trips exactly.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyflow.errors import TinyflowError
from tinyflow.features import LogMelParams, hann_window, mel_filterbank

REPO = Path(__file__).resolve().parent.parent
FRONTEND_DIR = REPO / "firmware" / "frontend"
TEMPLATES = REPO / "templates"
CMSIS_DSP_VERSION = "1.10.3"

# Every CMSIS-DSP source the front end needs, relative to the sdist's Source/; a firmware
# or host build compiles these and nothing else of the library.
CMSIS_DSP_SOURCES = (
    "TransformFunctions/arm_rfft_fast_f32.c",       # arm_rfft_fast_f32
    "TransformFunctions/arm_rfft_fast_init_f32.c",  # arm_rfft_fast_init_<n>_f32
    "TransformFunctions/arm_cfft_f32.c",            # the N/2 complex FFT inside it
    "TransformFunctions/arm_cfft_init_f32.c",
    "TransformFunctions/arm_cfft_radix8_f32.c",     # its butterflies
    "TransformFunctions/arm_bitreversal2.c",        # arm_bitreversal_32
    "CommonTables/arm_common_tables.c",             # twiddles (unused sizes are gc'd)
    "CommonTables/arm_const_structs.c",             # arm_cfft_sR_f32_len<n/2>
    "SupportFunctions/arm_q15_to_float.c",          # int16 PCM -> float, exact
    "BasicMathFunctions/arm_mult_f32.c",            # Hann window
    "ComplexMathFunctions/arm_cmplx_mag_squared_f32.c",  # power spectrum
    "BasicMathFunctions/arm_dot_prod_f32.c",        # sparse mel filterbank, band by band
)
FRONTEND_C = ("tf_frontend.c",)

# Host compile flags; -ffp-contract=off is repeated by a pragma in every file, because the
# firmware build (gnu99) would otherwise contract a*b+c into an FMA on the M4/M7/M55.
HOST_CFLAGS = ("-std=c99", "-O2", "-fPIC", "-ffp-contract=off", "-fno-math-errno",
               "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra")


def cmsis_dsp_dir() -> Path:
    """The unpacked cmsisdsp sdist (scripts/setup.sh puts it in .cache/)."""
    d = Path(os.environ.get("TINYFLOW_CMSISDSP", REPO / ".cache" / f"cmsisdsp-{CMSIS_DSP_VERSION}"))
    if not (d / "Source").is_dir() or not (d / "Include" / "arm_math.h").is_file():
        raise TinyflowError(f"CMSIS-DSP sources not found in {d}",
                            hint="run `make setup` (it downloads the cmsisdsp "
                                 f"{CMSIS_DSP_VERSION} sdist from PyPI), or set TINYFLOW_CMSISDSP")
    return d


def _hex(x: float) -> str:
    """A float32 value as an exact C hex literal (without the f suffix)."""
    return float(np.float32(x)).hex()


@dataclass(frozen=True)
class MelBand:
    first: int
    weights: np.ndarray   # float32, the non-zero run from `first`

    @property
    def last(self) -> int:
        return self.first + len(self.weights) - 1


def mel_bands(params: LogMelParams) -> list[MelBand]:
    """The filterbank of `features.mel_filterbank` as per-band runs, exactly as the C sees it."""
    return [MelBand(f, w.astype(np.float32)) for f, w in mel_filterbank(params).sparse()]


HELIUM_SOURCES = ("CommonTables/arm_mve_tables.c",)   # rearranged twiddles for MVE FFTs


def render(params: LogMelParams, helium: bool = False) -> dict[str, str]:
    """Generated files for `params`: name -> text. `helium` selects CMSIS-DSP's MVE code
    (Cortex-M55 only): faster, but no longer bit-identical to the host build."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    bands = mel_bands(params)
    offsets, n = [], 0
    for b in bands:
        offsets.append(n)
        n += len(b.weights)
    if n >= 1 << 16 or params.n_bins >= 1 << 16:
        raise TinyflowError(f"mel filterbank too large for the C tables ({n} weights)")
    fmt = [f"{_hex(v)}f" for v in hann_window(params.n_fft)]
    out = {
        "tf_frontend_config.h": env.get_template("frontend_config.h.j2").render(
            p=params, helium=helium, n_weights=max(n, 1), floor_hex=_hex(params.floor),
            eps_hex=float(params.norm_eps).hex(),
            params_json=json.dumps(params.to_dict(), sort_keys=True)),
        "tf_frontend_tables.c": env.get_template("frontend_tables.c.j2").render(
            p=params, window=fmt, first=[b.first for b in bands],
            count=[len(b.weights) for b in bands], offset=offsets,
            bands=[{"first": b.first, "last": b.last,
                    "weights": [f"{_hex(v)}f" for v in b.weights] or ["0.0f"]}
                   for b in bands]),
    }
    dsp = cmsis_dsp_dir()
    tpl = env.get_template("frontend_dsp.c.j2")
    for rel in CMSIS_DSP_SOURCES + (HELIUM_SOURCES if helium else ()):
        out[f"dsp_{Path(rel).stem}.c"] = tpl.render(version=CMSIS_DSP_VERSION,
                                                    source=str(dsp / "Source" / rel))
    return out


def _digest(files: dict[str, str], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    for p in sorted(FRONTEND_DIR.glob("*.[ch]")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def stage(params: LogMelParams | None = None, root: Path | None = None,
          helium: bool = False) -> Path:
    """Write the generated sources and the CMSIS-DSP headers into one folder; return it.

    The headers are copied because a firmware build adds the folder of each source as an
    include path and nothing else (tinyflow.build); the folder is keyed by content, so
    re-staging unchanged inputs touches nothing.
    """
    params = params or LogMelParams()
    files = render(params, helium)
    d = (root or REPO / "build" / "frontend") / _digest(files)
    if (d / ".staged").is_file():
        return d
    # Build in a private folder, then rename it into place: parallel builds (pytest -n)
    # never see a half-written file, and the loser of the race just discards its copy.
    d.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=d.name + ".", dir=d.parent))
    dsp = cmsis_dsp_dir()
    for sub in ("Include", "PrivateInclude"):
        for h in (dsp / sub).rglob("*.h"):
            dst = tmp / h.relative_to(dsp / sub)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(h, dst)
    for name, text in files.items():
        (tmp / name).write_text(text)
    (tmp / ".staged").write_text(json.dumps({**params.to_dict(), "helium": helium}) + "\n")
    try:
        os.rename(tmp, d)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (d / ".staged").is_file():
            raise
    return d


def firmware_sources(params: LogMelParams | None = None, root: Path | None = None,
                     helium: bool = False) -> list[Path]:
    """Every .c file of the front end (generated, CMSIS-DSP wrappers, firmware/frontend)."""
    d = stage(params, root, helium)
    return sorted(d.glob("*.c")) + [FRONTEND_DIR / n for n in FRONTEND_C]


# ------------------------------------------------------------------ host build

def _find_cc() -> str:
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise TinyflowError("no host C compiler (gcc) found on PATH",
                            hint="install it: sudo apt-get install gcc")
    return cc


def build_host_library(params: LogMelParams | None = None) -> Path:
    """Compile the front end for the host into a shared library; cached by content."""
    d = stage(params)
    lib = d / "host" / "libtffe.so"
    if lib.is_file():
        return lib
    lib.parent.mkdir(exist_ok=True)
    srcs = [str(p) for p in firmware_sources(params)]
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=lib.parent)
    os.close(fd)
    cmd = [_find_cc(), *HOST_CFLAGS, "-shared", "-Wl,--gc-sections",
           f"-I{d}", f"-I{FRONTEND_DIR}", *srcs, "-o", tmp]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        os.unlink(tmp)
        raise TinyflowError("host build of the audio front end failed:\n" + proc.stderr[-4000:],
                            hint=" ".join(cmd))
    (lib.parent / "warnings.txt").write_text(proc.stderr)
    os.replace(tmp, lib)   # atomic: parallel test workers may build at the same time
    return lib


_LIBS: dict[Path, ctypes.CDLL] = {}


def _load(params: LogMelParams) -> ctypes.CDLL:
    path = build_host_library(params)
    if path not in _LIBS:
        lib = ctypes.CDLL(str(path))
        i16, f32, i8 = (ctypes.POINTER(ctypes.c_int16), ctypes.POINTER(ctypes.c_float),
                        ctypes.POINTER(ctypes.c_int8))
        lib.tf_fe_state_bytes.restype = ctypes.c_uint32
        lib.tf_fe_init.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.tf_fe_push.argtypes = [ctypes.c_void_p, i16, ctypes.c_uint32]
        lib.tf_fe_push.restype = ctypes.c_uint32
        lib.tf_fe_read_f32.argtypes = [ctypes.c_void_p, f32]
        lib.tf_fe_read_q8.argtypes = [ctypes.c_void_p, i8, ctypes.c_float, ctypes.c_int32]
        lib.tf_fe_clip_f32.argtypes = [ctypes.c_void_p, i16, ctypes.c_uint32, f32]
        lib.tf_fe_clip_q8.argtypes = [ctypes.c_void_p, i16, ctypes.c_uint32, i8,
                                      ctypes.c_float, ctypes.c_int32]
        lib.tf_fe_ready.argtypes = [ctypes.c_void_p]
        lib.tf_fe_db.argtypes = [ctypes.c_float]
        lib.tf_fe_db.restype = ctypes.c_float
        _LIBS[path] = lib
    return _LIBS[path]


def to_pcm16(wave: np.ndarray) -> np.ndarray:
    """Audio as the device receives it: int16 as is; float in [-1, 1) as round(x * 32768)."""
    a = np.asarray(wave)
    if a.dtype == np.int16:
        return np.ascontiguousarray(a.ravel())
    x = np.round(np.asarray(a, np.float64).ravel() * 32768.0)
    return np.clip(x, -32768, 32767).astype(np.int16)


def _ptr(a: np.ndarray, t: Any) -> Any:
    return a.ctypes.data_as(ctypes.POINTER(t))


class HostFrontend:
    """The device's front end, run on the host: same C, same bits (see module doc)."""

    def __init__(self, params: LogMelParams | None = None):
        self.params = params or LogMelParams()
        self._lib = _load(self.params)
        self._state = ctypes.create_string_buffer(self._lib.tf_fe_state_bytes())

    @property
    def state_bytes(self) -> int:
        return int(self._lib.tf_fe_state_bytes())

    def clip(self, wave: np.ndarray) -> np.ndarray:
        """One clip (cropped or zero-padded to the window) → (n_frames, n_mels) float32 dB."""
        pcm = to_pcm16(wave)
        out = np.empty(self.params.shape, np.float32)
        rc = self._lib.tf_fe_clip_f32(self._state, _ptr(pcm, ctypes.c_int16), pcm.size,
                                      _ptr(out, ctypes.c_float))
        _check(rc)
        return out

    def clip_q8(self, wave: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
        """One clip → the network's int8 input, quantized on the C side like the device."""
        pcm = to_pcm16(wave)
        out = np.empty(self.params.shape, np.int8)
        rc = self._lib.tf_fe_clip_q8(self._state, _ptr(pcm, ctypes.c_int16), pcm.size,
                                     _ptr(out, ctypes.c_int8), float(np.float32(scale)),
                                     int(zero_point))
        _check(rc)
        return out

    def stream(self, wave: np.ndarray, hop: int, chunk: int = 1000,
               quant: tuple[float, int] | None = None) -> np.ndarray:
        """Feed `wave` in `chunk`-sample pieces; every complete window (one per `hop`
        samples) → (n_windows, n_frames, n_mels), float32 dB or int8 with quant=(scale, zp)."""
        pcm = to_pcm16(wave)
        rc = self._lib.tf_fe_init(self._state, int(hop))
        if rc != 0:
            raise TinyflowError(f"stream hop {hop} is invalid: it must be a positive multiple "
                                f"of hop_length={self.params.hop_length}")
        wins = []
        pos = 0
        while pos < pcm.size:
            n = min(chunk, pcm.size - pos)
            view = pcm[pos:pos + n]
            used = self._lib.tf_fe_push(self._state, _ptr(view, ctypes.c_int16), n)
            pos += used
            if used < n or self._ready():
                wins.append(self._read(quant))
        if self._ready():
            wins.append(self._read(quant))
        dt = np.int8 if quant else np.float32
        return np.stack(wins) if wins else np.empty((0, *self.params.shape), dt)

    def _ready(self) -> bool:
        return bool(self._lib.tf_fe_ready(self._state))

    def _read(self, quant: tuple[float, int] | None) -> np.ndarray:
        if quant:
            out = np.empty(self.params.shape, np.int8)
            _check(self._lib.tf_fe_read_q8(self._state, _ptr(out, ctypes.c_int8),
                                           float(np.float32(quant[0])), int(quant[1])))
        else:
            out = np.empty(self.params.shape, np.float32)
            _check(self._lib.tf_fe_read_f32(self._state, _ptr(out, ctypes.c_float)))
        return out

    def db(self, x: np.ndarray) -> np.ndarray:
        """The C 10·log10, elementwise (for tests)."""
        return np.array([self._lib.tf_fe_db(float(v)) for v in np.ravel(x)], np.float32)

    __call__ = clip

    def batch(self, waves: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Many clips → (n, n_frames, n_mels, 1) float32, like `LogMel.batch`."""
        out = np.empty((len(waves), *self.params.shape, 1), np.float32)
        for i, w in enumerate(waves):
            out[i, :, :, 0] = self.clip(w)
        return out


def _check(rc: int) -> None:
    if rc != 0:
        raise TinyflowError(f"audio front end error {rc}")


# ------------------------------------------------------------------ budget

def frontend_budget(params: LogMelParams | None = None, *, audio_max: int | None = None,
                    pointer_bytes: int = 4) -> dict[str, int]:
    """Flash and RAM the audio front end adds to a SER firmware, in bytes (32-bit Cortex-M).

    flash = `code` (tf_frontend.c + the CMSIS-DSP functions it calls, arm-none-eabi-gcc
    12.2 -O2, measured on qemu-m4: 5,708 B; m7 5,652; m55 5,760) + `tables` (Hann window
    and sparse mel filterbank, generated) + `fft_tables` (CMSIS-DSP twiddles and
    bit-reversal indices for this n_fft, read from the sdist).
    ram = `state` (one tf_fe_stream_t: a window of frame summaries, block sums, FFT
    buffers) + `audio` (the upload buffer of tf_ser_app.c, `audio_max` int16 samples,
    default 4096, as tinyflow.ser_app.build_ser_firmware) + `app` (control and result
    words). The int8 features go straight into the network's input tensor, so they
    add nothing beyond the planned arena.
    For a linked ELF, `linked_sizes(map)` gives the measured figures.
    """
    p = params or LogMelParams()
    bands = mel_bands(p)
    n_w = max(sum(len(b.weights) for b in bands), 1)
    tables = 4 * p.n_fft + 4 * n_w + 3 * 2 * p.n_mels
    fft = _fft_table_bytes(p.n_fft) + 16           # + the arm_cfft_sR_f32_len<n/2> struct
    state = _state_bytes(p, pointer_bytes)
    audio = 2 * (audio_max or 4096)
    app = 24 + 280 + 4 + 4 + 8                    # ctrl, results (16 rows), flags, carry
    return {"code": CODE_M4, "tables": tables, "fft_tables": fft,
            "flash": CODE_M4 + tables + fft,
            "state": state, "audio": audio, "app": app, "ram": state + audio + app}


def frontend_budget_lines(params: LogMelParams | None, board: Any, *,
                          audio_max: int | None = None) -> list[Any]:
    """`frontend_budget` as `tinyflow.budget.Line`s in the board's regions, for
    `check_budget` to append when the model takes log-mel features (the SER firmware):
    code in the code role, tables in the const role, state and audio buffer in the arena
    role (tf_ser_app.c puts them in .tf_arena.ser, beside the network's arena)."""
    from tinyflow.budget import Line

    b = frontend_budget(params, audio_max=audio_max)
    r = board.roles
    return [
        Line("audio front end code (tf_frontend + CMSIS-DSP)", r["code"], b["code"], "flash",
             True),
        Line("audio front end tables (window, mel, FFT twiddles)", r["const"],
             b["tables"] + b["fft_tables"], "flash"),
        Line("audio front end state (one window of frames)", r["arena"], b["state"], "ram"),
        Line("audio upload buffer and app words", r["arena"], b["audio"] + b["app"], "ram"),
    ]


def _state_bytes(p: LogMelParams, ptr: int) -> int:
    """sizeof(tf_fe_stream_t) under the AAPCS (ptr=4) or x86-64 (ptr=8) layout rules."""
    def at(off: int, align: int) -> int:
        return off + (-off) % align

    off = 52                                  # hop .. ready (u64 fields at 8-byte offsets)
    off = at(off, ptr) + 6 * ptr              # arm_rfft_fast_instance_f32 (scalar build)
    off += 2 * p.n_fft                        # pending int16
    off = at(off, 4) + 4 * (2 * p.n_fft + p.n_bins)   # fft_in, fft_out, power
    off = at(off, 8) + 24 * (p.n_samples // p.hop_length + 1)   # block sums
    off += 4 * (p.n_mels + 3) * p.n_frames    # frame summaries
    return at(off, 8)


# .text of the front end + the CMSIS-DSP functions it calls (benchmarks/frontend_bench.py
# measures it per core from the linked ELF; soft-double helpers from libgcc not included).
CODE_M4 = 5708


def _fft_table_bytes(n_fft: int) -> int:
    """Bytes of CMSIS-DSP's float32 tables for an n_fft-point real FFT."""
    try:
        src = (cmsis_dsp_dir() / "Source" / "CommonTables" / "arm_common_tables.c").read_text(
            errors="replace")
        hdr = (cmsis_dsp_dir() / "Include" / "arm_common_tables.h").read_text(errors="replace")
    except TinyflowError:
        return 0
    half = n_fft // 2
    total = 0
    for name in (f"twiddleCoef_{half}", f"twiddleCoef_rfft_{n_fft}"):
        m = re.search(rf"const float32_t {name}\[(\d+)\]", src)
        total += 4 * int(m.group(1)) if m else 0
    m = re.search(rf"ARMBITREVINDEXTABLE_{half}_TABLE_LENGTH\s*\(\(uint16_t\)\s*(\d+)\)", hdr)
    total += 2 * int(m.group(1)) if m else 0
    return total


_MAP_ENTRY = re.compile(r"^ (\.[\w.$]+)\s*\n?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)\s*$",
                        re.MULTILINE)


def linked_sizes(map_file: Path) -> dict[str, dict[str, int]]:
    """Bytes the linker kept for the front end and for the SER app, from a GNU ld map:
    {"frontend": {"code", "const", "ram"}, "app": {...}}. `frontend` is tf_frontend.c,
    the generated tables and the CMSIS-DSP wrappers; `app` is tf_ser_app.c (audio buffer,
    control, results)."""
    text = Path(map_file).read_text(errors="replace")
    text = text[text.find("Linker script and memory map"):]
    out = {k: {"code": 0, "const": 0, "ram": 0} for k in ("frontend", "app")}
    for sec, _addr, size, obj in _MAP_ENTRY.findall(text):
        name = Path(obj).name
        if name.startswith(("dsp_arm_", "tf_frontend")):
            group = "frontend"
        elif name == "tf_ser_app.o":
            group = "app"
        else:
            continue
        kind = ("code" if sec.startswith(".text") else
                "const" if sec.startswith(".rodata") else
                "ram" if sec.startswith((".bss", ".data", "COMMON", ".tf_arena")) else None)
        if kind:
            out[group][kind] += int(size, 16)
    return out
