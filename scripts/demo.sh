#!/usr/bin/env bash
# The README's main job, as far as the pipeline exists.
set -euo pipefail
cd "$(dirname "$0")/.."
TF=.venv/bin/tinyflow
$TF boards
