"""Benchmark of the synthetic city generator: records per second and peak memory.

    .venv/bin/python bench/bench_generate.py                 # >= 1M catalog rows (240,000 entities)
    .venv/bin/python bench/bench_generate.py --entities 50000 --keep --out bench/out/city

Target: 1M records in at most 60 s on a 2-core machine. Wall time depends on what else the
machine runs, so CPU time and the load average are printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

from credgraph.synth import generate_city


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, default=240_000, help="entities in the city (default 240,000 ≈ 1M rows)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--noise", type=float, default=1.0)
    ap.add_argument("--chunk-rows", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the output instead of deleting it")
    args = ap.parse_args()

    tmp = None
    if args.out is None:
        tmp = Path(tempfile.mkdtemp(prefix="credgraph-bench-"))
        out = tmp / "city"
    else:
        out = args.out
    proc = psutil.Process()
    load_before = os.getloadavg()[0]
    peak = {"rss": proc.memory_info().rss}

    def progress(step: str, done: int, total: int) -> None:
        peak["rss"] = max(peak["rss"], proc.memory_info().rss)

    wall0, cpu0 = time.perf_counter(), time.process_time()
    summary = generate_city(out, entities=args.entities, seed=args.seed, noise=args.noise,
                            chunk_rows=args.chunk_rows, progress=progress)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    print(f"entities            {args.entities:>12,}")
    for code, rows in summary.counts.items():
        print(f"  {code:<17} {rows:>12,}")
    print(f"records             {summary.records:>12,}  ({summary.records / args.entities:.2f} per entity)")
    print(f"mentions            {summary.mentions:>12,}")
    print(f"output size         {size / 1e6:>12,.1f} MB")
    print(f"wall time           {wall:>12.1f} s")
    print(f"cpu time            {cpu:>12.1f} s   (load average before: {load_before:.1f} on {os.cpu_count()} cores)")
    print(f"records/s (wall)    {summary.records / wall:>12,.0f}")
    print(f"peak RSS            {max_rss:>12,.0f} MB  (psutil during the run: {peak['rss'] / 2**20:,.0f} MB)")
    if summary.records < 1_000_000 and args.entities >= 240_000:
        print("warning: fewer than 1M records", file=sys.stderr)
    if tmp is not None and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    elif args.keep:
        print(f"output kept in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
