#!/usr/bin/env bash
# benchmarks/gpu_proof.py on one H100 / H200 (docs/training.md "Scale"): installs the wheels carried in .whl/
# (diffusers and what it needs beyond the machine's image), then runs the proof; its JSON lands in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
if compgen -G ".whl/*.whl" >/dev/null; then
  site="${WHEEL_SITE:-/tmp/site}"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec python3 benchmarks/gpu_proof.py --out "${OUT:-runs/gpu_proof}" "$@"
