#!/usr/bin/env bash
# All benchmarks, one after the other, from a fresh clone (`make bench`).
# Each prints its own numbers (throughput, peak RSS, and the ratio to its anchor where
# the issue names one: Splink for resolution, networkx for propagation).
# Sizes are the issues' targets; pass smaller ones by running a script by hand (--help).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
for b in generate load resolve graph analytics dashboard; do
  echo "=== bench_$b ==="
  "$PY" "bench/bench_$b.py"
done
