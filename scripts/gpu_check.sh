#!/usr/bin/env bash
# GPU check for the perception path, for a machine with CUDA: the shipped lidar weights on a fresh
# data set, batch-1 latency and batch-32 throughput with bf16 autocast, and the CPU/GPU agreement test.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/gpu_check}
mkdir -p "$out"
make install >/dev/null
.venv/bin/python -c "import torch; print('cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
.venv/bin/drivestack datagen --scenarios highway,merge,roundabout --frames 256 --seed 950000 --out "$out/data" --workers 8
.venv/bin/drivestack bench-perception --data "$out/data" --device cuda --batch 32 --frames 256 --threads 8 --json "$out/lidar_gpu.json"
.venv/bin/drivestack bench-perception --data "$out/data" --device cuda --batch 32 --frames 256 --threads 8 --no-bf16 --json "$out/lidar_gpu_fp32.json"
.venv/bin/python -m pytest -q tests/perception/test_shipped_lidar.py
