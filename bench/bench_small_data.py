"""Benchmark: the model on small data sets (a few hundred candidate pairs), where priors decide.

    .venv/bin/python bench/bench_small_data.py --records 150 --seeds 1 2 3 4 5

Draws whole true entities of a public Febrl set (records nobody here wrote) at random until about
``--records`` records, resolves them with the defaults, and prints pairwise precision / recall / F1
per seed and their mean [min, max], with the fitted natural-person model's size and how m was set
(``anchor``: fixed = the prior table plus identified pairs; unsupervised = EM). ``--drop`` removes
fields first (e.g. ``--drop subject_identifiers`` for name + birth date + address only).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import polars as pl


def run(name: str, records: int, seed: int, drop: list[str]) -> dict:
    from credgraph.resolution import resolve
    from credgraph.resolution.datasets import entity_pairs, febrl_records, pairwise_scores, true_pairs

    rec = febrl_records(name)
    ent = rec["record_id"].str.extract(r"rec-(\d+)-", 1)
    ids = ent.unique().sort().to_numpy()
    rng = np.random.default_rng(seed)
    rng.shuffle(ids)
    take, n = [], 0
    counts = dict(zip(*np.unique(ent.to_numpy(), return_counts=True)))
    for e in ids:
        if n >= records:
            break
        take.append(e)
        n += counts[e]
    sub = rec.filter(ent.is_in(take))
    for col in drop:
        sub = sub.with_columns(pl.lit(None, dtype=sub.schema[col]).alias(col))
    res = resolve(sub)
    out = pairwise_scores(true_pairs(sub), entity_pairs(res.assignments))
    tm = res.model.types["natural"]
    out.update(records=sub.height, pairs=tm.info.get("pairs"), anchor=str(tm.info.get("anchor")),
               lam=round(tm.lam, 3))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="febrl3")
    ap.add_argument("--records", type=int, default=150)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--drop", nargs="*", default=[])
    a = ap.parse_args()
    f1 = []
    for s in a.seeds:
        r = run(a.set, a.records, s, a.drop)
        f1.append(r["f1"])
        print(f"seed {s}: records {r['records']} pairs {r['pairs']} anchor {r['anchor']} lam {r['lam']}  "
              f"P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f}", flush=True)
    print(f"{a.set} ~{a.records} records: F1 mean {statistics.mean(f1):.3f} [{min(f1):.3f}, {max(f1):.3f}]")


if __name__ == "__main__":
    main()
