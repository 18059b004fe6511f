"""Benchmark: natural-person resolution under ``--name-noise``, overall and on foreign nationals.

    nice -n 10 .venv/bin/python bench/bench_name_noise_foreign.py --entities 20000 --seeds 1 2 3 --name-noise 0 0.05

For each (seed, name noise): generate a city (foreign nationals at the generator's default share),
load it, resolve it in process, and score natural persons pairwise against the ground truth: all of
them, and the pairs that involve a foreign national's mention (their precision counts a foreigner
merged with anyone else). Prints one JSON line per run, then mean [min, max] per name-noise level,
and a few foreign persons split over several entities (names as written) for the report.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import polars as pl


def run(base: Path, entities: int, seed: int, name_noise: float, examples: int, foreign_share: float) -> dict:
    from credgraph.loaders import load_specs
    from credgraph.resolution import resolve
    from credgraph.resolution.evaluate import _joined, load_truth, scores
    from credgraph.synth import generate_city

    root = base / f"c{entities}-{seed}-{name_noise}-{foreign_share}"
    t = time.perf_counter()
    generate_city(root / "city", entities=entities, seed=seed, name_noise=name_noise, foreign_share=foreign_share)
    load_specs(sorted((root / "city" / "specs").glob("*.toml")), root / "ws")
    records = pl.read_parquet(root / "ws" / "records" / "records.parquet")
    res = resolve(records)
    truth_m, truth_e = load_truth(root / "city" / "truth")
    j = _joined(res.mentions, res.assignments, truth_m).filter(pl.col("true").is_not_null())
    nat = truth_e.filter(pl.col("type") == "natural").select(
        pl.col("entity_id").alias("true"), (pl.col("nationality") != "CN").alias("_f"), pl.col("name").alias("true_name"))
    jn = j.join(nat, on="true", how="inner")
    out = {"entities": entities, "seed": seed, "name_noise": name_noise, "foreign_share": foreign_share,
           "foreign_persons": int(nat["_f"].sum()),
           "foreign_persons_mentioned": int(jn.filter(pl.col("_f"))["true"].n_unique()),
           "natural": scores(jn), "foreign": scores(jn, tagged="_f"),
           "seconds": round(time.perf_counter() - t, 1)}
    # Examples: foreign persons split over several predicted entities, with the names as written.
    f = jn.filter(pl.col("_f")).join(res.mentions.select("mention_id", "name"), on="mention_id", how="left")
    split = f.group_by("true").agg(pl.col("pred").n_unique().alias("k")).filter(pl.col("k") > 1).sort("true")
    ex = []
    for tid in split["true"].head(examples).to_list():
        g = f.filter(pl.col("true") == tid)
        ex.append({"true_name": g["true_name"][0],
                   "entities": sorted(sorted(set(x["name"].drop_nulls().to_list())) for _, x in g.group_by("pred"))})
    # Why: mentions outside their person's largest entity, by catalog and whether they carry a passport.
    fm = f.join(res.mentions.select("mention_id", "catalog", pl.col("identifiers").fill_null("")
                                    .str.contains('"passport"').alias("has_passport")), on="mention_id", how="left")
    main = fm.group_by("true", "pred").len().sort("len", descending=True).unique("true", keep="first")
    stray = fm.join(main.select("true", pl.col("pred").alias("main")), on="true").filter(pl.col("pred") != pl.col("main"))
    out["stray_foreign_mentions"] = {
        "count": stray.height,
        "with_passport": int(stray["has_passport"].sum()),
        "name_as_in_truth": int((stray["name"] == stray["true_name"]).sum()),
        "by_catalog": dict(stray.group_by("catalog").len().sort("catalog").iter_rows()),
    }
    # Wrong merges involving a foreign national: a predicted entity holding two true persons.
    mixed = jn.group_by("pred").agg(pl.col("true").n_unique().alias("k"), pl.col("_f").any().alias("f")).filter(
        (pl.col("k") > 1) & pl.col("f"))
    from credgraph.synth.foreign import LATIN_NOISE_KINDS

    tagged = jn.with_columns(pl.col("tags").str.split(",").alias("_t"))
    out["by_latin_tag"] = {}
    for tag in LATIN_NOISE_KINDS:  # pairs involving a mention with this kind of Latin name noise
        sc = scores(tagged.with_columns(pl.col("_t").list.contains(tag).alias("_c")), tagged="_c")
        out["by_latin_tag"][tag] = {k: sc.get(k) for k in ("mentions", "pairwise_precision", "pairwise_recall")}
    out["split_foreign_persons"] = split.height
    out["mixed_entities_with_foreigner"] = mixed.height
    mj = jn.join(mixed.select("pred"), on="pred").join(
        res.mentions.select("mention_id", "name", "catalog", "identifiers"), on="mention_id", how="left")
    out["mixed_examples"] = [
        {"persons": sorted(set(zip(g["true"].to_list(), g["true_name"].to_list()))),
         "written": sorted(set(zip(g["catalog"].to_list(), g["name"].to_list(), g["identifiers"].fill_null("").to_list())))}
        for _, g in mj.group_by("pred")][:examples]
    out["examples"] = ex
    shutil.rmtree(root, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=20000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--name-noise", type=float, nargs="+", default=[0.0, 0.05])
    ap.add_argument("--examples", type=int, default=5)
    ap.add_argument("--foreign-share", type=float, default=None, help="default: the generator's (0.02)")
    ap.add_argument("--dir", type=Path, default=None)
    a = ap.parse_args()
    base = a.dir or Path(tempfile.mkdtemp(prefix="nn-foreign-"))
    from credgraph.synth.foreign import FOREIGN_SHARE

    share = FOREIGN_SHARE if a.foreign_share is None else a.foreign_share
    results = []
    for nn in a.name_noise:
        for s in a.seeds:
            r = run(base, a.entities, s, nn, a.examples, share)
            results.append(r)
            print(json.dumps(r, ensure_ascii=False), flush=True)
    for nn in a.name_noise:
        rs = [r for r in results if r["name_noise"] == nn]
        for part in ("natural", "foreign"):
            for k in ("pairwise_precision", "pairwise_recall", "pairwise_f1"):
                v = [r[part].get(k, float("nan")) for r in rs]
                print(f"name_noise {nn} {part:8s} {k:20s} {statistics.mean(v):.4f} [{min(v):.4f}, {max(v):.4f}]")
        for tag in rs[0]["by_latin_tag"]:
            v = [r["by_latin_tag"][tag] for r in rs]
            if all(x["mentions"] for x in v):
                print(f"name_noise {nn} {tag:16s} mentions {[x['mentions'] for x in v]} precision "
                      f"{min(x['pairwise_precision'] for x in v):.4f}-{max(x['pairwise_precision'] for x in v):.4f} "
                      f"recall {min(x['pairwise_recall'] for x in v):.4f}-{max(x['pairwise_recall'] for x in v):.4f}")
        print(f"name_noise {nn} foreign persons {[r['foreign_persons'] for r in rs]}, mentions "
              f"{[r['foreign']['mentions'] for r in rs]}, true pairs {[r['foreign']['true_pairs'] for r in rs]}")


if __name__ == "__main__":
    main()
