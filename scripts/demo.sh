#!/usr/bin/env bash
# The README's main job: person detection on the qemu-m7 virtual board, end to end.
#   build  = synthesise a Wake Vision-format set (first run) -> train -> int8 -> check -> C -> ELF
#   eval   = start the virtual board (QEMU, UART on a pty), stream the test split over the
#            serial link, score every fine-grained subset, compare with the host engine and
#            tflite-micro on every sample, write runs/eval/.../report.html
set -euo pipefail
cd "$(dirname "$0")/.."
TF=.venv/bin/tinyflow
BOARD=${BOARD:-qemu-m7}
MODEL=${MODEL:-person_det}
EPOCHS=${EPOCHS:-8}

$TF boards
$TF build --board "$BOARD" --model "$MODEL" --epochs "$EPOCHS"
$TF check --board nucleo-h7 --model "$MODEL"
$TF eval --board "$BOARD" --model "$MODEL" --dataset data/wake-vision-synth-0 --split test --fresh
