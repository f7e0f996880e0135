#!/usr/bin/env bash
# Throughput per precision on a CUDA GPU: ganforge's trainer against the plain DCGAN loop, at
# 64x64 and 28x28, fp32, bf16 and fp16, eager and with --compile (benchmarks/speed.py's speed
# section). Writes benchmarks/results/speed_gpu.{json,md}, headed by the GPU's name and the date.
#
#   bash benchmarks/gpu.sh [extra speed.py flags, e.g. --steps 100 --no-compile]
#
# Needs a CUDA build of torch and MNIST ($GANFORGE_DATA or the download cache).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python}"
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu.sh: no CUDA GPU visible to this torch build; run benchmarks/speed.py on a CPU" >&2
    exit 2
fi
"$PYTHON" -c "import torch; print('GPU:', torch.cuda.get_device_name(0), \
'capability', torch.cuda.get_device_capability(0))"
export PYTHONPATH="../src${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" speed.py --only speed --device cuda --precisions fp32,bf16,fp16 \
    --steps 200 --rounds 3 --out speed_gpu "$@"
