"""Benchmark on data nobody here wrote: Senzing's public entity-resolution truth set (demo folder).

    .venv/bin/python bench/bench_truthset.py [FOLDER]     # FOLDER defaults to /tmp/truthset

The data is NOT in this repository and is not fetched at run time: copy ``customers.csv``,
``reference.csv``, ``watchlist.csv`` and ``truthset_key.csv`` from
https://github.com/Senzing/truth-sets, folder ``truthsets/demo``, into FOLDER yourself.
142 records (CUSTOMERS, REFERENCE, WATCHLIST): persons and organisations, Western names with
nicknames and typos, US-style dates, passports, SSNs, driver's licences, e-mails, phones, and
some Chinese, Khmer, Arabic and Cyrillic names.

What it does: loads the three files with the specs in ``loaders/examples/senzing_truthset/``
(copied next to the data into a temporary workspace; no settings for this data set), resolves
with ``credgraph.resolution.resolve`` and its defaults, and scores against the key.

The key: ``truthset_key.csv`` lists (DATA_SOURCE, RECORD_ID) -> CLUSTER_ID. It was written for
another version of the data files, so a record is matched to the key by (source, record id),
else by record id alone when the key holds that id once under a source that has no such record
in the data (e.g. the key's REFERENCE 2041 is CUSTOMERS 2041 in the files). Records the key does
not list (e.g. REFERENCE 2023-2026, 2082, 2092) are left out of the scores: no pair with them
counts either way. The script prints how many.

Output: pairwise precision / recall / F1 and B-cubed precision / recall / F1, for persons,
organisations and all; then every missed and every wrong pair with record ids and names; and the
values the loader set aside, by field.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl

SPECS = Path(__file__).resolve().parent.parent / "loaders" / "examples" / "senzing_truthset"
FILES = ("customers.csv", "reference.csv", "watchlist.csv")


def read_key(folder: Path) -> dict[tuple[str, str], str]:
    """(DATA_SOURCE, RECORD_ID) -> CLUSTER_ID from ``truthset_key.csv``."""
    with open(folder / "truthset_key.csv", encoding="utf-8", newline="") as fh:
        return {(r["DATA_SOURCE"].strip(), r["RECORD_ID"].strip()): r["CLUSTER_ID"].strip() for r in csv.DictReader(fh)}


def map_key(records: pl.DataFrame, key: dict[tuple[str, str], str]) -> tuple[dict[str, str], list[str]]:
    """record_id -> true cluster for the records the key covers; and the records it does not."""
    present = set(zip(records["catalog"].to_list(), records["user_id"].to_list()))
    by_id: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for src, rid in key:
        by_id[rid].append((src, rid))
    truth, left_out = {}, []
    for rec_id, src, uid in records.select("record_id", "catalog", "user_id").iter_rows():
        if (src, uid) in key:
            truth[rec_id] = key[(src, uid)]
            continue
        cands = [k for k in by_id.get(uid, []) if k not in present]
        if len(cands) == 1:
            truth[rec_id] = key[cands[0]]
        else:
            left_out.append(f"{src}:{uid}")
    return truth, left_out


def pairs(groups: dict[str, str], keep: set[str]) -> set[tuple[str, str]]:
    """Unordered record pairs sharing a group, among ``keep``."""
    members: dict[str, list[str]] = defaultdict(list)
    for r, g in groups.items():
        if r in keep:
            members[g].append(r)
    out = set()
    for ids in members.values():
        ids.sort()
        out.update((ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, len(ids)))
    return out


def prf(p: float, r: float) -> tuple[float, float, float]:
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def bcubed(truth: dict[str, str], found: dict[str, str], keep: set[str]) -> tuple[float, float, float]:
    """B-cubed precision, recall, F1 over the records in ``keep``."""
    t, f = defaultdict(set), defaultdict(set)
    for r in keep:
        t[truth[r]].add(r)
        f[found[r]].add(r)
    ps, rs = [], []
    for r in keep:
        inter = len(t[truth[r]] & f[found[r]])
        ps.append(inter / len(f[found[r]]))
        rs.append(inter / len(t[truth[r]]))
    return prf(sum(ps) / len(ps), sum(rs) / len(rs)) if keep else (1.0, 1.0, 1.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default="/tmp/truthset", type=Path)
    args = ap.parse_args(argv)
    missing = [f for f in (*FILES, "truthset_key.csv") if not (args.folder / f).is_file()]
    if missing:
        print(f"{args.folder}: missing {', '.join(missing)} - fetch them from github.com/Senzing/truth-sets "
              "(truthsets/demo); see this script's docstring", file=sys.stderr)
        return 2

    from credgraph.loaders.load import load_specs, read_findings, read_records
    from credgraph.resolution import resolve

    with tempfile.TemporaryDirectory(prefix="truthset-") as tmp:
        tmp = Path(tmp)
        for f in FILES:
            shutil.copy(args.folder / f, tmp / f)
        specs = []
        for s in sorted(SPECS.glob("*.toml")):
            shutil.copy(s, tmp / s.name)
            specs.append(tmp / s.name)
        load_specs(specs, tmp / "ws")
        records = read_records(tmp / "ws")
        findings = read_findings(tmp / "ws")
        t0 = time.perf_counter()
        res = resolve(records)
        seconds = time.perf_counter() - t0

    truth, left_out = map_key(records, read_key(args.folder))
    subj = res.assignments.filter(pl.col("role") == "subject")
    found = dict(zip(subj["record_id"].to_list(), subj["entity_id"].to_list()))
    info = {r: (c, u, n or "", t) for r, c, u, n, t in
            records.select("record_id", "catalog", "user_id", "subject_name", "subject_type").iter_rows()}
    print(f"records {records.height}, scored {len(truth)}, true entities {len(set(truth.values()))}, "
          f"left out (not in the key) {len(left_out)}: {' '.join(left_out)}; resolve {seconds:.2f} s")

    print(f"\n{'':14}{'pairs':>6}{'found':>6}  {'P':>6}{'R':>6}{'F1':>6}   B3 {'P':>6}{'R':>6}{'F1':>6}")
    miss_all, wrong_all = [], []
    for label, types in (("persons", {"natural"}), ("organisations", {"legal"}), ("all", {"natural", "legal"})):
        keep = {r for r in truth if info[r][3] in types and r in found}
        tp_set, fp_set = pairs(truth, keep), pairs(found, keep)
        tp = len(tp_set & fp_set)
        p, r, f1 = prf(tp / len(fp_set) if fp_set else 1.0, tp / len(tp_set) if tp_set else 1.0)
        bp, br, bf = bcubed(truth, found, keep)
        print(f"{label:14}{len(tp_set):6}{len(fp_set):6}  {p:6.3f}{r:6.3f}{f1:6.3f}      {bp:6.3f}{br:6.3f}{bf:6.3f}")
        if label == "all":
            miss_all, wrong_all = sorted(tp_set - fp_set), sorted(fp_set - tp_set)

    def show(a: str, b: str) -> str:
        (ca, ua, na, _), (cb, ub, nb, _) = info[a], info[b]
        return f"  {ca}:{ua} {na!r}  ~  {cb}:{ub} {nb!r}"

    print(f"\nmissed pairs ({len(miss_all)}):")
    for a, b in miss_all:
        print(show(a, b))
    print(f"\nwrong pairs ({len(wrong_all)}):")
    for a, b in wrong_all:
        print(show(a, b))
    if findings.height:
        cnt = Counter(zip(findings["catalog"].to_list(), findings["field"].to_list(), findings["reason"].to_list()))
        print(f"\nvalues set aside by the loader ({findings.height}):")
        for (c, f, why), n in cnt.most_common():
            print(f"  {n:3} {c} {f}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
