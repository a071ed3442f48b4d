#!/usr/bin/env bash
# The GPU checks, in one run on a lent GPU machine (see the closing notes of issues 9, 11 and 17):
#   the CUDA benchmark rows, NCCL with one rank, and every unit test that can run there (the GPU-only ones included).
# The machine has torch, numpy, matplotlib, pillow, pytest and hypothesis; fastprogress and mlxtend travel as wheels in .whl/.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD IN_TEST=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/gpu.txt"
echo "== benchmarks on cuda"
timeout 120 python3 benchmarks/core.py --device cuda --quick --only 1 2>&1 | tee "$OUT/bench_core.txt"
timeout 90 python3 benchmarks/data.py --device cuda --quick 2>&1 | tee "$OUT/bench_data.txt"
echo "== NCCL, one rank"
timeout 120 python3 benchmarks/gpu_dist_check.py 2>&1 | tee "$OUT/dist.txt"
echo "== unit tests (not the notebook, docs, browser or console-script ones: nbdev, Chromium and the installed script are not there)"
timeout 200 python3 -m pytest -q -p no:cacheprovider -n 8 -rs tests/test_core.py tests/test_learner.py tests/test_optim.py \
  tests/test_dataloader.py tests/test_mnist.py tests/test_viz.py tests/test_values.py tests/test_exercises.py \
  -k "not mp4 and not MP4" 2>&1 | tail -40 | tee "$OUT/pytest.txt"
