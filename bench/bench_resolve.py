"""Benchmark of the resolution stage: accuracy on a generated city, speed and memory at 1M records, Splink beside it.

Run from a fresh clone:

    .venv/bin/python bench/bench_resolve.py                 # ~1M records (230k entities), Splink beside
    .venv/bin/python bench/bench_resolve.py --entities 20000 --no-splink

Steps: generate a city (cached in bench/out/), load it with the loaders, then time
``credgraph.resolution`` end to end (read records.parquet → resolve → write the outputs)
in a fresh process, reporting wall time, CPU time and peak RSS; evaluate against the
ground truth (pairwise / B-cubed F1 per subject type and hard case, branch → parent
merges, clusters with two USCCs, candidate pairs and blocking recall). Then (unless
``--no-splink``) Splink 5 (DuckDB backend) resolves the same mentions, configured the way its
documentation recommends (u by random sampling, m by EM on two blocking rules, predict,
cluster at 0.95), and both F1s and the time ratio are printed.

Targets (the issue): legal pairwise F1 >= 0.99, natural >= 0.97, zero branch → parent
merges, zero clusters with two valid USCCs, 1M records <= 120 s, peak RSS <= 8 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def prepare(entities: int, seed: int) -> tuple[Path, Path]:
    """Generate and load a city once per (entities, seed); return (city dir, workspace)."""
    from credgraph.loaders import load_specs
    from credgraph.synth import generate_city

    base = OUT / f"city-{entities}-{seed}"
    city, ws = base / "city", base / "ws"
    records = ws / "records" / "records.parquet"
    if not records.is_file():
        t = time.perf_counter()
        if not (city / "truth" / "mentions.parquet").is_file():
            summary = generate_city(city, entities=entities, seed=seed)
            print(f"generated {summary.total_records:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
        t = time.perf_counter()
        report = load_specs(sorted((city / "specs").glob("*.toml")), ws)
        print(f"loaded {report.accepted:,} records ({report.quarantined:,} quarantined) "
              f"in {time.perf_counter() - t:.0f} s", flush=True)
    return city, ws


def timed_run(ws: Path) -> dict:
    """Resolve in a fresh process (so that peak RSS is the stage's own) and return its numbers."""
    code = f"""
import json, resource, time
t0, c0 = time.perf_counter(), time.process_time()
import polars as pl
from credgraph.resolution import resolve, write_resolution
records = pl.read_parquet({str(ws / 'records' / 'records.parquet')!r})
res = resolve(records)
write_resolution(res, {str(ws / 'entities')!r})
print(json.dumps({{"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                   "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                   "records": records.height, "run": res.run}}, default=str))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"resolution failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def evaluate_run(city: Path, ws: Path):
    import polars as pl

    from credgraph.resolution import evaluate, load_resolution, resolve

    res = load_resolution(ws / "entities")
    ev = evaluate(res, city / "truth")
    # Blocking recall needs the in-memory groups: one more (untimed) run.
    full = resolve(pl.read_parquet(ws / "records" / "records.parquet"), model=res.model)
    ev.blocking = evaluate(full, city / "truth").blocking
    return res, ev


# ------------------------------------------------------------------------------- Splink
def splink_run(res, city: Path, ws: Path) -> dict:
    """Splink 5 on the same mentions, per subject type; returns F1s and time."""
    import logging

    import polars as pl
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)  # its training chatter, not results

    from credgraph.resolution.evaluate import _joined, load_truth, scores

    # The same mentions, with the generic cleaning Splink's documentation asks for
    # (Unicode NFKC, no whitespace); no Chinese-specific normalisation.
    from credgraph.resolution.mentions import extract_mentions

    m = extract_mentions(pl.read_parquet(ws / "records" / "records.parquet"))
    company = m.select(pl.col("mention_id").alias("counterpart"), pl.col("name").alias("company"))
    m = m.join(company, on="counterpart", how="left").with_columns(
        pl.col("name", "address", "company").str.normalize("NFKC").str.replace_all(r"\s+", ""),
        pl.col("phone").str.replace_all(r"\D", ""),
        pl.when(pl.col("id_full") != "").then(pl.col("id_full").str.slice(6, 8)).alias("dob"),
        pl.when(pl.col("id_full") != "").then(pl.col("id_full")).otherwise(pl.col("id_masked")).alias("id_number"),
    )
    t0 = time.perf_counter()
    preds = []
    for type_ in ("legal", "natural"):
        sub = m.filter(pl.col("type") == type_).with_row_index("unique_id")
        cols = ["unique_id", "mention_id", "name", "uscc_v", "org_v", "reg_v", "address", "phone"] if type_ == "legal" \
            else ["unique_id", "mention_id", "name", "id_number", "dob", "company"]
        df = sub.select(cols).with_columns(pl.col(pl.Utf8).replace("", None)).to_pandas()
        db = DuckDBAPI()
        sdf = db.register(df, dataset_display_name=f"mentions_{type_}")
        if type_ == "legal":
            comparisons = [
                cl.JaroWinklerAtThresholds("name", [0.95, 0.88]).configure(term_frequency_adjustments=True),
                cl.ExactMatch("uscc_v"), cl.ExactMatch("org_v"), cl.ExactMatch("reg_v"),
                cl.LevenshteinAtThresholds("address", [2, 5]), cl.ExactMatch("phone"),
            ]
            rules = [block_on("name"), block_on("uscc_v"), block_on("org_v"), block_on("reg_v"), block_on("phone")]
            deterministic = [block_on("uscc_v")]
            em_rules = [block_on("name"), block_on("uscc_v")]
        else:
            comparisons = [
                cl.ExactMatch("name").configure(term_frequency_adjustments=True),
                cl.ExactMatch("id_number"), cl.ExactMatch("dob"),
                cl.JaroWinklerAtThresholds("company", [0.95, 0.88]),
            ]
            rules = [block_on("name", "company"), block_on("id_number"), block_on("name", "dob")]
            deterministic = [block_on("id_number")]
            em_rules = [block_on("name", "company"), block_on("id_number")]
        settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons,
                                   blocking_rules_to_generate_predictions=rules)
        linker = Linker(sdf, settings, log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
        for rule in em_rules:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        pairs = linker.inference.predict(threshold_match_weight=-10)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.95)
        cl_df = pl.from_pandas(clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]])
        preds.append(sub.select("unique_id", "mention_id").join(
            cl_df.with_columns(pl.col("unique_id").cast(pl.UInt32)), on="unique_id")
            .select("mention_id", (pl.lit(type_ + ":") + pl.col("cluster_id").cast(pl.Utf8)).alias("entity_id")))
    seconds = time.perf_counter() - t0
    assignments = pl.concat(preds)
    truth_m, truth_e = load_truth(city / "truth")
    j = _joined(res.mentions, assignments, truth_m).filter(pl.col("true").is_not_null())
    j = j.join(truth_e.select(pl.col("entity_id").alias("true"), pl.col("type").alias("true_type")), on="true")
    out = {"seconds": seconds}
    for t in ("legal", "natural"):
        out[t] = scores(j.filter(pl.col("true_type") == t))
    return out


def matcher_run(ws: Path, n_queries: int = 1000, seed: int = 1) -> dict:
    """The public Matcher over the run just written: time to open (load + index) and to match a batch
    of ``n_queries`` company names written as another source would (region in brackets, traditional
    characters, 有限责任公司), and how the batch was decided (the target: 1,000 names <= 3 s)."""
    import numpy as np
    import opencc
    import polars as pl

    from credgraph.config import Config
    from credgraph.resolution import Matcher

    cfg = Config()
    cfg.workspace.path = str(ws)
    t0 = time.perf_counter()
    m = Matcher.open(cfg)
    t_open = time.perf_counter() - t0
    ents = pl.read_parquet(ws / "entities" / "entities.parquet").filter(
        (pl.col("type") == "legal") & pl.col("uscc").is_not_null())
    rng = np.random.default_rng(seed)
    pick = ents[rng.choice(ents.height, size=min(n_queries, ents.height), replace=False)]
    s2t = opencc.OpenCC("s2t")
    names = []
    for k, nm in enumerate(pick["name"].to_list()):
        if k % 3 == 0 and nm.startswith("深圳市") and nm.endswith("有限公司") and "分公司" not in nm:
            nm = nm[3:-4] + "(深圳)有限公司"
        elif k % 3 == 1:
            nm = s2t.convert(nm)
        elif nm.endswith("有限公司") and not nm.endswith("股份有限公司"):
            nm = nm[:-4] + "有限责任公司"
        names.append(nm)
    t1 = time.perf_counter()
    res = m.match_many([{"name": x} for x in names])
    t_match = time.perf_counter() - t1
    right = sum(r.entity_id == e for r, e in zip(res, pick["entity_id"].to_list()))
    wrong = sum(r.decision == "match" and r.entity_id != e for r, e in zip(res, pick["entity_id"].to_list()))
    return {"open_s": t_open, "match_s": t_match, "queries": len(names), "right": right, "wrong": wrong,
            "ambiguous": sum(r.decision == "ambiguous" for r in res)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, default=230_000, help="entities in the city (230k gives ~1M records)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-splink", dest="splink", action="store_false",
                    help="skip Splink 5 (it needs the bench extra: pip install -e '.[bench]')")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    city, ws = prepare(args.entities, args.seed)

    print("\n== credgraph resolution (fresh process: read records → resolve → write outputs)")
    t = timed_run(ws)
    run = t["run"]
    print(f"records {t['records']:,}   mentions {run['mentions']:,}   entities {run['entities']:,} "
          f"({run['legal_entities']:,} legal, {run['natural_entities']:,} natural)")
    print(f"wall {t['wall_s']:.1f} s   cpu {t['cpu_s']:.1f} s   peak RSS {t['peak_rss_gb']:.2f} GB   "
          f"(targets: <= 120 s at 1M records, <= 8 GB)   load average {os.getloadavg()[0]:.1f}")
    for type_, s in run["stats"].items():
        print(f"  {type_}: {s['candidate_pairs']:,} candidate pairs, {s['blocks']:,} blocks "
              f"({s['blocks_over_cap']:,} over the cap, largest {s['largest_block']:,} groups), "
              f"{s['pairs_merge']:,} merges, {s['pairs_review']:,} to review, {s.get('pairs_ambiguous', 0):,} ambiguous")

    print("\n== accuracy against the ground truth")
    res, ev = evaluate_run(city, ws)
    print(ev.format())
    ok = (ev.by_type["legal"]["pairwise_f1"] >= 0.99, ev.by_type["natural"]["pairwise_f1"] >= 0.97,
          ev.branch_parent_merges == 0, ev.multi_uscc_clusters == 0,
          t["wall_s"] <= 120 or t["records"] < 900_000, t["peak_rss_gb"] <= 8)
    names = ("legal F1 >= 0.99", "natural F1 >= 0.97", "no branch→parent merge", "no multi-USCC cluster",
             "<= 120 s", "<= 8 GB")
    print("targets: " + ", ".join(f"{n}: {'met' if o else 'MISSED'}" for n, o in zip(names, ok)))

    print("\n== the public Matcher (credgraph.resolution.Matcher) over this run")
    mr = matcher_run(ws)
    print(f"  open (load + index) {mr['open_s']:.1f} s; {mr['queries']} name variants matched in {mr['match_s']:.2f} s "
          f"(target <= 3 s): {mr['right']} right, {mr['wrong']} wrong firm, {mr['ambiguous']} ambiguous")

    if args.splink:
        print("\n== Splink 5 (DuckDB) on the same mentions")
        sp = splink_run(res, city, ws)
        for type_ in ("legal", "natural"):
            a, b = ev.by_type[type_], sp[type_]
            print(f"  {type_:8} pairwise F1: credgraph {a['pairwise_f1']:.4f}   splink {b['pairwise_f1']:.4f}   "
                  f"(P {b['pairwise_precision']:.4f} R {b['pairwise_recall']:.4f})")
        print(f"  time: credgraph {t['wall_s']:.1f} s (incl. reading and writing)   splink {sp['seconds']:.1f} s "
              f"(train + predict + cluster)   ratio splink/credgraph {sp['seconds'] / t['wall_s']:.2f}")
    print(f"\n(this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB)")


if __name__ == "__main__":
    main()
