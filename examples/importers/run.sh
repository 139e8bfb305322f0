#!/usr/bin/env bash
# Write result files with the real tools, then gate them with ryot (from the repository root):
#   bash examples/importers/run.sh
set -euo pipefail
out=examples/importers/results
mkdir -p "$out"
seq 1 300000 > "$out/numbers.txt"   # 2 MB of text: gzip -9 works much harder on it than -1
hyperfine -N --runs 20 --warmup 2 --export-json "$out/hyperfine.json" \
  --command-name gzip-1 "gzip -1 -c $out/numbers.txt" \
  --command-name gzip-9 "gzip -9 -c $out/numbers.txt"
python -m pytest -q -p no:cacheprovider -p no:xdist examples/importers/bench_pytest.py \
  --benchmark-json="$out/pytest_benchmark.json" --benchmark-save-data
python examples/importers/bench_google.py --benchmark_repetitions=10 \
  --benchmark_min_time=0.05s --benchmark_out="$out/google_benchmark.json" \
  --benchmark_out_format=json
python examples/importers/bench_torch.py "$out/torch_benchmark.json"
ryot accept --criteria examples/importers/criteria.json --out "$out/accept"
