"""Load benchmark of the data interface: locust clients against a real ``credgraph serve``.

Targets (the issue): on a 100k-entity city with 50 concurrent clients on 2 cores, single
``match`` p95 <= 100 ms, ``GET entity`` p95 <= 50 ms, a batch of 1,000 names <= 3 s, an
enterprise PDF report <= 1 s, no errors other than intended 429s.

    .venv/bin/python bench/bench_api.py --workspace /tmp/city100k/ws      # an already built city
    .venv/bin/python bench/bench_api.py --entities 20000 --clients 50 --duration 60

Steps: build the city with ``credgraph demo`` when the workspace has none; create a bench key
(limits set high, so any 429 is unintended); start ``credgraph serve`` (its start-up time is
reported); time batches of 1,000 names on the idle server; then run locust headless
(``bench/locustfile_api.py``: GET entity, single match by name and by code, PDF report, each user
waiting ``--wait`` seconds between calls) and, in the middle of it, time more batches under that
load. Locust and the server share the machine's cores, so the numbers include the load
generator's own CPU.

To tell the server's share from the client's and the machine's, each run also reports: the
server-side time of every call (from the audit trail: the middleware's clock, from the request
reaching the app to its answer), the server's event-loop lag and the matcher lanes' queue waits
and call times (``api.timings``, printed by the server at shutdown), the CPU seconds used by the
server (with its worker processes) and by locust, and the machine's load average during the run
(other users of the machine count in it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import requests

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "credgraph.cli"]


def _env(ws: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDGRAPH_")}
    env["CREDGRAPH_WORKSPACE__PATH"] = str(ws)
    return env


def _cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (0 when it is gone)."""
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p] + p.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    tot = 0.0
    for q in procs:
        try:
            c = q.cpu_times()
            tot += c.user + c.system
        except psutil.NoSuchProcess:
            pass
    return tot


def _server_side(audit: Path, key_id: str, since: str, until: str) -> dict[str, dict]:
    """Percentiles of the server's own time per call (the audit trail's ``ms``) in a time window."""
    import numpy as np

    ms: dict[str, list[float]] = {}
    with audit.open(encoding="utf-8") as fh:
        for line in fh:
            if key_id not in line:
                continue
            e = json.loads(line)
            if e["actor"] != key_id or e["action"] != "api_call" or not since <= e["time"] <= until:
                continue
            d = e["detail"]
            name = {"/v1/entities/{entity_id}": "GET /v1/entities/{id}", "/v1/entities/{entity_id}/report.pdf":
                    "GET report.pdf"}.get(d["endpoint"], d["method"] + " " + d["endpoint"])
            if d["endpoint"] == "/v1/match":
                name = "POST /v1/match (1)" if e["target"] == "1 queries" else "POST /v1/match (batch)"
            ms.setdefault(name, []).append(float(d["ms"]))
    out = {}
    for name, v in sorted(ms.items()):
        p50, p95, p99 = np.percentile(v, [50, 95, 99])
        out[name] = {"n": len(v), "p50": round(p50, 1), "p95": round(p95, 1), "p99": round(p99, 1), "max": max(v)}
    return out


def _samples(ws: Path, n: int = 5000, seed: int = 1) -> dict:
    """Firms (name, USCC) from the city's catalog rows, and entity ids from the graph."""
    from credgraph.analytics.frames import load_frames
    from credgraph.config import load_config

    rng = random.Random(seed)
    cfg = load_config(None, env=_env(ws))
    nodes, _ = load_frames(cfg)
    ents = nodes.filter(pl.col("label").is_in(["LegalPerson", "NaturalPerson"]))
    firms_g = nodes.filter((pl.col("label") == "LegalPerson") & pl.col("uscc").is_not_null())
    recs = pl.read_parquet(ws / "records" / "records.parquet", columns=["subject_type", "subject_name", "subject_uscc"])
    firms = (recs.filter((pl.col("subject_type") == "legal") & pl.col("subject_uscc").is_not_null()
                         & pl.col("subject_name").is_not_null())
             .unique(["subject_name", "subject_uscc"]).sort("subject_name"))
    firms = firms.sample(min(n, firms.height), seed=seed)
    return {
        # Half companies, half people: GET entity serves both (the bench key has the personal scope).
        "entity_ids": rng.sample(ents["node_id"].to_list(), min(n, ents.height)),
        "firm_ids": rng.sample(firms_g["node_id"].to_list(), min(n, firms_g.height)),
        "firms": [{"name": a, "uscc": b} for a, b in firms.select("subject_name", "subject_uscc").iter_rows()],
    }


def _batch(base: str, key: str, firms: list[dict], rng: random.Random, size: int = 1000) -> tuple[float, dict]:
    picks = [rng.choice(firms) for _ in range(size)]
    q = {f"q{i}": ({"type": "legal", "name": f["name"]} if i % 2 else {"type": "legal", "name": f["name"], "uscc": f["uscc"]})
         for i, f in enumerate(picks)}
    t0 = time.perf_counter()
    r = requests.post(base + "/v1/match", json={"queries": q}, headers={"Authorization": f"Bearer {key}"}, timeout=120)
    dt = time.perf_counter() - t0
    r.raise_for_status()
    dec: dict[str, int] = {}
    for v in r.json()["responses"].values():
        dec[v["decision"]] = dec.get(v["decision"], 0) + 1
    return dt, dec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspace", type=Path, default=None, help="A built city's workspace (default: build one).")
    ap.add_argument("--entities", type=int, default=100_000)
    ap.add_argument("--clients", default="50", help="Concurrent clients; several (e.g. 10,50) run one after another.")
    ap.add_argument("--duration", type=int, default=60, help="Seconds of locust load.")
    ap.add_argument("--wait", default="0.5,1.5", help="Think time of each client between calls, min,max seconds.")
    ap.add_argument("--batches", type=int, default=3, help="1,000-name batches timed idle and again under load.")
    ap.add_argument("--out", type=Path, default=None, help="Write the results as JSON here.")
    a = ap.parse_args()

    ws = a.workspace or Path(f"/tmp/credgraph-bench-api-{a.entities}/workspace")
    env = _env(ws)
    if not (ws / "graph").exists():
        print(f"building a {a.entities:,}-entity city in {ws} (credgraph demo) ...", flush=True)
        subprocess.run(CLI + ["demo", "--entities", str(a.entities), "--workspace", str(ws)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    from credgraph.api.db import ApiDB

    db = ApiDB(ws / "api" / "api.sqlite")
    k, key = db.create_key("bench", ["public", "personal", "checks", "reports"], rate_per_minute=10**7, daily_quota=10**9)
    db.close()
    samples = _samples(ws)
    sfile = ws / "api" / "bench_samples.json"
    sfile.write_text(json.dumps(samples, ensure_ascii=False), encoding="utf-8")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = open(ws / "api" / "bench_serve.log", "w")
    t0 = time.perf_counter()
    server = subprocess.Popen(CLI + ["serve", "--port", str(port)], env={**env, "CREDGRAPH_API__TIMINGS": "1"},
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                if requests.get(base + "/v1/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None:
                raise SystemExit("the server stopped: see " + log.name)
            time.sleep(0.5)
        startup = time.perf_counter() - t0
        health = requests.get(base + "/v1/health").json()
        print(f"server ready in {startup:.1f} s ({health['entities']:,} entities)", flush=True)
        rng = random.Random(7)
        idle = [_batch(base, key, samples["firms"], rng) for _ in range(a.batches)]
        print("batch of 1,000 (idle): " + ", ".join(f"{t:.2f} s" for t, _ in idle) + f"; decisions {idle[0][1]}", flush=True)

        loaded: list[tuple[float, dict]] = []

        def under_load():
            time.sleep(min(15, a.duration / 3))
            for _ in range(a.batches):
                loaded.append(_batch(base, key, samples["firms"], rng))

        runs = []
        for clients in [int(c) for c in str(a.clients).split(",")]:
            loaded.clear()
            th = threading.Thread(target=under_load)
            prefix = ws / "api" / f"locust{clients}"
            lenv = {**env, "CG_BENCH_SAMPLES": str(sfile), "CG_BENCH_KEY": key, "CG_BENCH_WAIT": a.wait}
            loads: list[float] = []
            done = threading.Event()

            def sample_load():
                while not done.wait(2.0):
                    loads.append(os.getloadavg()[0])

            since = _utc()
            cpu0 = _cpu(server.pid)
            sampler = threading.Thread(target=sample_load, daemon=True)
            sampler.start()
            th.start()
            loc = subprocess.Popen([sys.executable, "-m", "locust", "-f", str(HERE / "locustfile_api.py"), "--headless",
                                    "-u", str(clients), "-r", str(clients), "-t", f"{a.duration}s", "--host", base,
                                    "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"], env=lenv,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            locust_cpu = 0.0
            while loc.poll() is None:
                locust_cpu = max(locust_cpu, _cpu(loc.pid))
                time.sleep(1.0)
            th.join()
            done.set()
            cpu = {"server": round(_cpu(server.pid) - cpu0, 1), "locust": round(locust_cpu, 1)}
            runs.append((clients, list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8"))), list(loaded),
                         since, _utc(), loads, cpu))
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    timing = [ln.strip() for ln in open(log.name, encoding="utf-8") if ln.startswith("TIMING")]
    out = {"entities": health["entities"], "wait": a.wait, "duration": a.duration, "startup_s": round(startup, 1),
           "batch_idle_s": [t for t, _ in idle], "runs": [], "server_timings": timing}
    for clients, rows, loaded_b, since, until, loads, cpu in runs:
        r = _report(clients, rows, loaded_b, idle, a, health)
        r["server_side_ms"] = _server_side(ws / "audit" / "audit.jsonl", k.key_id, since, until)
        r["load_average"] = loads
        r["cpu_s"] = cpu
        print(f"server side (the audit trail's ms per call, {since[11:19]}-{until[11:19]} UTC):")
        for name, v in r["server_side_ms"].items():
            print(f"  {name:26} {v['n']:>7} p50 {v['p50']:6.1f} p95 {v['p95']:6.1f} p99 {v['p99']:6.1f} max {v['max']:7.1f}")
        print(f"CPU during the run: server and its workers {cpu['server']} s, locust {cpu['locust']} s "
              f"(of {2 * a.duration} core-seconds on 2 cores); load average (1 min) "
              + (f"min {min(loads):.1f} median {statistics.median(loads):.1f} max {max(loads):.1f}" if loads else "n/a"))
        out["runs"].append(r)
    if timing:
        print("server diagnostics (whole run, api.timings):\n  " + "\n  ".join(timing))
    if a.out:
        a.out.write_text(json.dumps(out, indent=2), encoding="utf-8")


def _utc() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def _report(clients, rows, loaded, idle, a, health) -> dict:
    """Print one locust run's table against the targets; return it as data."""
    targets = {"GET /v1/entities/{id}": 50, "POST /v1/match (1, name)": 100, "POST /v1/match (1, code)": 100,
               "GET report.pdf": 1000}
    print(f"\n{clients} clients, think time {a.wait} s, {a.duration} s, {health['entities']:,} entities")
    print(f"{'request':28} {'n':>7} {'fail':>5} {'rps':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7}  target p95")
    out = {"clients": clients, "requests": {}}
    for r in rows:
        name = r["Name"]
        t = targets.get(name)
        print(f"{name:28} {r['Request Count']:>7} {r['Failure Count']:>5} {float(r['Requests/s']):6.1f} {r['50%']:>6} "
              f"{r['95%']:>6} {r['99%']:>6} {float(r['Max Response Time']):7.0f}  "
              + (f"<= {t} ms {'ok' if float(r['95%']) <= t else 'MISSED'}" if t else ""))
        out["requests"][name] = {k: r[k] for k in ("Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%",
                                                    "Max Response Time")}
    bt = [t for t, _ in idle]
    lt = [t for t, _ in loaded]
    print(f"batch of 1,000 names: idle median {statistics.median(bt):.2f} s (min {min(bt):.2f}, max {max(bt):.2f}); "
          + (f"under load median {statistics.median(lt):.2f} s (min {min(lt):.2f}, max {max(lt):.2f})" if lt else "")
          + "  target <= 3 s")
    out["batch_loaded_s"] = lt
    return out


if __name__ == "__main__":
    main()
