"""Benchmark: `credgraph resolve` on a city of about one million records — wall time, CPU time, peak RSS.

    .venv/bin/python bench/bench_resolve_scale.py                      # ~1M records, 1 run
    .venv/bin/python bench/bench_resolve_scale.py --runs 3 --dir /tmp/cities
    .venv/bin/python bench/bench_resolve_scale.py --entities 20000 --name-noise 0.05

Steps: generate a city (``--entities`` 230,000 gives ~0.98M records) and load it, once per
(entities, seed, name noise), under ``--dir``; then run the command a user runs,
``credgraph resolve --fresh``, as a child process under ``/usr/bin/time -v`` and ``nice``
(the machine may be shared), ``--runs`` times. Reported per run and as min / median / max:
wall time, CPU time (user + system, all threads), peak RSS, and the load average before and
after (a busy machine makes wall time longer than the CPU time alone would). The resolver's own
stage timings come from the run's ``run.json``. Targets (issue #12): 1M records in <= 120 s wall
and <= 8 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S, TARGET_GB = 120.0, 8.0


def prepare(base: Path, entities: int, seed: int, name_noise: float) -> Path:
    """Generate and load the city once; return its workspace."""
    from credgraph.loaders import load_specs
    from credgraph.synth import generate_city

    root = base / f"city-{entities}-{seed}-{name_noise}"
    ws = root / "ws"
    if not (ws / "records" / "records.parquet").is_file():
        t = time.perf_counter()
        if not (root / "city" / "truth" / "mentions.parquet").is_file():
            s = generate_city(root / "city", entities=entities, seed=seed, name_noise=name_noise)
            print(f"generated {s.total_records:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        rep = load_specs(sorted((root / "city" / "specs").glob("*.toml")), ws)
        print(f"loaded {rep.accepted:,} records ({rep.quarantined:,} quarantined) in {time.perf_counter() - t:.0f} s",
              flush=True)
    return ws


def _time_v(stderr: str) -> dict:
    """Wall, user, system seconds and peak RSS (GB) from GNU time's ``-v`` report."""
    def grab(label: str) -> str:
        m = re.search(rf"^\s*{re.escape(label)}:\s*(.+)$", stderr, re.M)
        if not m:
            raise SystemExit(f"/usr/bin/time -v gave no '{label}' line:\n{stderr[-2000:]}")
        return m.group(1).strip()

    parts = [float(x) for x in grab("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    wall = sum(p * 60 ** k for k, p in enumerate(reversed(parts)))
    user, system = float(grab("User time (seconds)")), float(grab("System time (seconds)"))
    return {"wall_s": wall, "cpu_s": user + system, "user_s": user, "sys_s": system,
            "peak_rss_gb": int(grab("Maximum resident set size (kbytes)")) * 1024 / 1e9}


def run_once(ws: Path, nice: int) -> dict:
    """One ``credgraph resolve --fresh`` into a scratch output folder, measured by ``/usr/bin/time -v``."""
    out = ws / "bench-entities"
    shutil.rmtree(out, ignore_errors=True)
    exe = Path(sys.executable).parent / "credgraph"
    cmd = ["nice", "-n", str(nice), "/usr/bin/time", "-v", str(exe), "resolve", "--fresh",
           "--records", str(ws / "records" / "records.parquet"), "--out", str(out)]
    env = dict(os.environ, CREDGRAPH_WORKSPACE__PATH=str(ws))
    load_before = os.getloadavg()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ws)
    if p.returncode != 0:
        raise SystemExit(f"credgraph resolve failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")
    r = _time_v(p.stderr)
    r["load_before"], r["load_after"] = load_before, os.getloadavg()
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    r["mentions"], r["entities"] = run["mentions"], run["entities"]
    r["stages"] = {"mentions": run.get("seconds_mentions")}
    for t, s in run["stats"].items():
        r["stages"][t] = {k[5:-2]: v for k, v in s.items() if k.startswith("time_")}
        r["stages"][t]["pairs"] = s.get("candidate_pairs")
    r["resolve_s"] = run["seconds"]
    shutil.rmtree(out, ignore_errors=True)
    return r


def _spread(xs: list[float]) -> str:
    return f"{min(xs):.1f} / {statistics.median(xs):.1f} / {max(xs):.1f}" if len(xs) > 1 else f"{xs[0]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, default=230_000, help="entities in the city (230k gives ~1M records)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--name-noise", type=float, default=0.05)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--nice", type=int, default=10, help="niceness of the timed process (the machine is shared)")
    ap.add_argument("--dir", type=Path, default=ROOT / "bench" / "out", help="where cities are generated and reused")
    args = ap.parse_args()
    if not Path("/usr/bin/time").is_file():
        sys.exit("this bench needs GNU time at /usr/bin/time (apt-get install time)")
    args.dir.mkdir(parents=True, exist_ok=True)
    ws = prepare(args.dir, args.entities, args.seed, args.name_noise)
    import polars as pl

    n_records = pl.scan_parquet(ws / "records" / "records.parquet").select(pl.len()).collect().item()
    print(f"city: {args.entities:,} entities, seed {args.seed}, name noise {args.name_noise} -> {n_records:,} records "
          f"({ws})  cores {os.cpu_count()}", flush=True)
    runs = []
    for k in range(args.runs):
        r = run_once(ws, args.nice)
        runs.append(r)
        lb, la = r["load_before"], r["load_after"]
        print(f"run {k + 1}: wall {r['wall_s']:.1f} s  cpu {r['cpu_s']:.1f} s (user {r['user_s']:.1f}, sys "
              f"{r['sys_s']:.1f})  peak RSS {r['peak_rss_gb']:.2f} GB  resolve() {r['resolve_s']:.1f} s  "
              f"load avg before {lb[0]:.1f}/{lb[1]:.1f}/{lb[2]:.1f} after {la[0]:.1f}/{la[1]:.1f}/{la[2]:.1f}",
              flush=True)
        print(f"   stages: {json.dumps(r['stages'])}", flush=True)
    wall = [r["wall_s"] for r in runs]
    cpu = [r["cpu_s"] for r in runs]
    rss = [r["peak_rss_gb"] for r in runs]
    print(f"\n{n_records:,} records, {runs[0]['mentions']:,} mentions -> {runs[0]['entities']:,} entities, "
          f"{len(runs)} run(s), min / median / max:")
    print(f"  wall {_spread(wall)} s   cpu {_spread(cpu)} s   peak RSS {_spread(rss)} GB")
    scale = 1_000_000 / n_records
    print(f"  targets at 1M records: <= {TARGET_S:.0f} s wall: {'met' if min(wall) * scale <= TARGET_S else 'MISSED'} "
          f"(best run scaled to 1M: {min(wall) * scale:.1f} s; cpu scaled {min(cpu) * scale:.1f} s), "
          f"<= {TARGET_GB:.0f} GB: {'met' if max(rss) <= TARGET_GB else 'MISSED'}")


if __name__ == "__main__":
    main()
