#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: the Arm toolchain and QEMU from apt,
# then a .venv with tinyflow and its dev extras. Re-running it is cheap (stamp files).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
stamp=.venv/.tinyflow-setup
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PY" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing tinyflow and its dev extras into .venv (first time: about a minute)"
    log=.venv/setup.log
    if ! { .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -e ".[dev]"; } \
            >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "setup: pip install failed (full log: $log)" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi

# CMSIS-DSP C sources for the on-device audio front end (sdist from PyPI, unpacked once).
CMSISDSP_VERSION=1.10.3
dsp=.cache/cmsisdsp-$CMSISDSP_VERSION
if [ ! -d "$dsp/Source" ]; then
    mkdir -p .cache/dl
    # --no-build-isolation: pip only needs the archive, not a build of numpy for its metadata step
    .venv/bin/pip download -q --no-binary :all: --no-deps --no-build-isolation -d .cache/dl \
        "cmsisdsp==$CMSISDSP_VERSION" >/dev/null 2>&1 || true
    if [ -f .cache/dl/cmsisdsp-$CMSISDSP_VERSION.tar.gz ]; then
        tar -xzf .cache/dl/cmsisdsp-$CMSISDSP_VERSION.tar.gz -C .cache
    else
        echo "setup: warning: could not download the cmsisdsp sdist; the SER audio front end will not build" >&2
    fi
fi
