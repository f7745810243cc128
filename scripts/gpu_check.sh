#!/usr/bin/env bash
# GPU check for the perception path, for a machine with CUDA: both shipped detectors on a fresh data
# set, batch-1 latency and batch-64 throughput with bf16 autocast and in fp32, on torch and on ONNX Runtime, the CPU/GPU agreement
# tests, and the full perception stack in the closed loop on the GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/gpu_check}
mkdir -p "$out"
make install >/dev/null
.venv/bin/python -c "import torch; print('cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
.venv/bin/drivestack datagen --scenarios highway,merge,roundabout --frames 256 --seed 950000 --out "$out/data" --workers 8
for model in lidar camera; do
  .venv/bin/drivestack bench-perception --model $model --data "$out/data" --device cuda --batch 64 --frames 256 --threads 8 --json "$out/${model}_gpu.json"
  .venv/bin/drivestack bench-perception --model $model --data "$out/data" --device cuda --batch 64 --frames 256 --threads 8 --no-bf16 --json "$out/${model}_gpu_fp32.json"
done
# ONNX Runtime: its CUDA provider where onnxruntime-gpu is installed, else the CPU runtime (fp32 and int8)
ort_device=$(.venv/bin/python -c "import onnxruntime as o; print('cuda' if 'CUDAExecutionProvider' in o.get_available_providers() else 'cpu')")
echo "onnxruntime device: $ort_device"
for model in lidar camera; do
  for precision in fp32 int8; do
    dev=$ort_device; [ "$precision" = int8 ] && dev=cpu
    .venv/bin/drivestack bench-perception --model $model --data "$out/data" --device $dev --runtime onnxruntime \
      --precision $precision --batch 64 --frames 256 --threads 8 --json "$out/${model}_ort_${dev}_${precision}.json"
    .venv/bin/drivestack evaluate-perception --model $model --data "$out/data" --split train --runtime onnxruntime \
      --precision $precision --json "$out/${model}_ort_${precision}_ap.json"
  done
done
.venv/bin/python -m pytest -q tests/perception/test_shipped_lidar.py tests/perception/test_shipped_camera.py \
  tests/perception/test_onnx_runtime.py
.venv/bin/drivestack bench --scenario highway --world-model perception --set perception.device=cuda --set perception.runtime=torch --repeats 2 --json "$out/closed_loop_gpu.json"
