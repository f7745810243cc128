#!/usr/bin/env bash
# GPU check for the perception path, for a machine with CUDA: both shipped detectors on a fresh data
# set, batch-1 latency and batch-32 throughput with bf16 autocast and in fp32, the CPU/GPU agreement
# tests, and the full perception stack in the closed loop on the GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/gpu_check}
mkdir -p "$out"
make install >/dev/null
.venv/bin/python -c "import torch; print('cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
.venv/bin/drivestack datagen --scenarios highway,merge,roundabout --frames 256 --seed 950000 --out "$out/data" --workers 8
for model in lidar camera; do
  .venv/bin/drivestack bench-perception --model $model --data "$out/data" --device cuda --batch 32 --frames 256 --threads 8 --json "$out/${model}_gpu.json"
  .venv/bin/drivestack bench-perception --model $model --data "$out/data" --device cuda --batch 32 --frames 256 --threads 8 --no-bf16 --json "$out/${model}_gpu_fp32.json"
done
.venv/bin/python -m pytest -q tests/perception/test_shipped_lidar.py tests/perception/test_shipped_camera.py
.venv/bin/drivestack bench --scenario highway --world-model perception --set perception.device=cuda --repeats 2 --json "$out/closed_loop_gpu.json"
