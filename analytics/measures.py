"""Joint reward and punishment (联合奖惩): a catalogue of measures as data, and which apply now.

A measure (see ``analytics/data/measures.toml``, the sample catalogue) names what it does, its
legal basis, the bodies that apply it, what triggers it (record event types, statuses and,
for tax ratings, grades), whom it reaches and for how long:

* ``entity``: the subject of the triggering record itself;
* ``legal_rep``: a person who is the legal representative of that subject;
* ``shareholders``: a holder of at least ``shareholder_min_ratio`` of that subject;
* ``officers``: a director, supervisor or manager of that subject.

A record triggers only while it is active (not repaired, expired or removed, its publicity
period not over, dated no later than the check date; a record without a status counts as
``active``) and, when ``duration_years`` is above 0, until that many years after its date.
So a check on a dishonest firm's legal representative returns the measures that reach
persons (e.g. restrictions on high consumption), each with the firm's records that trigger it.

>>> cat = parse_catalogue([{"id": "M1", "name": "n", "kind": "punishment", "legal_basis": "b",
...     "bodies": ["x"], "trigger_types": ["dishonest_debtor"], "trigger_statuses": ["active"],
...     "reach": ["entity"]}], "inline")
>>> cat[0].reach
('entity',)
>>> parse_catalogue([{"id": "M1", "colour": "red"}], "my.toml")
Traceback (most recent call last):
...
credgraph.analytics.measures.CatalogueError: my.toml: measure 1 (M1): unknown field 'colour' (known: ...
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import polars as pl

from .network import CreditNetwork

__all__ = ["Measure", "CatalogueError", "REACH", "KINDS", "load_catalogue", "parse_catalogue",
           "sample_catalogue_path", "PartyLinks", "measures_for", "measures_text"]

REACH = ("entity", "legal_rep", "shareholders", "officers")
KINDS = ("punishment", "reward")
#: How each reach reads in an answer.
REACH_TEXT = {"entity": "the subject itself", "legal_rep": "legal representative of",
              "shareholders": "shareholder of", "officers": "officer of"}
_REACH_EDGE = {"legal_rep": "LEGAL_REP_OF", "shareholders": "SHAREHOLDER_OF", "officers": "OFFICER_OF"}


class CatalogueError(ValueError):
    """A catalogue that cannot be used; the message names the file, the measure and the field."""


@dataclass(frozen=True)
class Measure:
    """One joint reward or punishment measure (the fields of the catalogue)."""

    id: str
    name: str
    kind: str
    legal_basis: str
    bodies: tuple[str, ...]
    trigger_types: tuple[str, ...]
    trigger_statuses: tuple[str, ...] = ("active",)
    reach: tuple[str, ...] = ("entity",)
    trigger_grades: tuple[str, ...] = ()
    shareholder_min_ratio: float = 0.0
    duration_years: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The measure as plain JSON-ready data."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


_FIELDS = {f.name: f for f in dataclasses.fields(Measure)}
_REQUIRED = ("id", "name", "kind", "legal_basis", "bodies", "trigger_types", "reach")
_LISTS = ("bodies", "trigger_types", "trigger_statuses", "reach", "trigger_grades")


def sample_catalogue_path() -> Path:
    """The sample catalogue that ships with the project."""
    return Path(str(resources.files("credgraph.analytics") / "data" / "measures.toml"))


def load_catalogue(path: str | Path | None = None) -> list[Measure]:
    """Read a TOML catalogue (``[[measure]]`` tables); the sample one when ``path`` is None."""
    p = Path(path) if path else sample_catalogue_path()
    if not p.is_file():
        raise CatalogueError(f"{p}: file not found")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{p}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"measure"})
    if extra:
        raise CatalogueError(f"{p}: unknown table(s) {', '.join(extra)}; write one [[measure]] table per measure")
    return parse_catalogue(data.get("measure", []), str(p))


def parse_catalogue(items: Iterable[dict], source: str = "catalogue") -> list[Measure]:
    """Validate measures given as dicts; raise :class:`CatalogueError` naming the first problem."""
    if not isinstance(items, list):
        raise CatalogueError(f"{source}: expected a list of measures")
    out: list[Measure] = []
    seen: set[str] = set()
    if not items:
        raise CatalogueError(f"{source}: no measures")
    for n, item in enumerate(items, start=1):
        where = f"{source}: measure {n}"
        if not isinstance(item, dict):
            raise CatalogueError(f"{where}: expected a table of fields, got {type(item).__name__}")
        if item.get("id"):
            where += f" ({item['id']})"
        unknown = [k for k in item if k not in _FIELDS]
        if unknown:
            raise CatalogueError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(_FIELDS)})")
        missing = [k for k in _REQUIRED if item.get(k) in (None, "", [])]
        if missing:
            raise CatalogueError(f"{where}: missing field {missing[0]!r}")
        kw: dict[str, Any] = {}
        for k, v in item.items():
            if k in _LISTS:
                if isinstance(v, str):
                    v = [v]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    raise CatalogueError(f"{where}: field {k!r} must be a list of texts")
                kw[k] = tuple(v)
            elif k in ("shareholder_min_ratio", "duration_years"):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise CatalogueError(f"{where}: field {k!r} must be a number, got {v!r}")
                kw[k] = float(v)
            else:
                if not isinstance(v, str):
                    raise CatalogueError(f"{where}: field {k!r} must be text, got {v!r}")
                kw[k] = v
        if kw["kind"] not in KINDS:
            raise CatalogueError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}, not {kw['kind']!r}")
        bad = [r for r in kw["reach"] if r not in REACH]
        if bad:
            raise CatalogueError(f"{where}: field 'reach' has {bad[0]!r}; use {', '.join(REACH)}")
        if not 0.0 <= kw.get("shareholder_min_ratio", 0.0) <= 1.0:
            raise CatalogueError(f"{where}: field 'shareholder_min_ratio' must be between 0 and 1")
        if kw.get("duration_years", 0.0) < 0:
            raise CatalogueError(f"{where}: field 'duration_years' must not be negative")
        if kw["id"] in seen:
            raise CatalogueError(f"{where}: id {kw['id']!r} is used twice")
        seen.add(kw["id"])
        out.append(Measure(**kw))
    return out


class PartyLinks:
    """Who is whose legal representative, shareholder (with ratio) or officer: the entities a
    subject's measures can come from, by reach. Built once per network (sorted edge arrays)."""

    def __init__(self, net: CreditNetwork):
        self.net = net
        self.by_reach: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for reach, etype in _REACH_EDGE.items():
            m = net.edges_of(etype)
            s, d, r = net.src[m], net.dst[m], net.ratio[m]
            order = np.argsort(s, kind="stable")
            self.by_reach[reach] = (s[order], d[order], r[order])

    def sources(self, subject: int, reach: str, min_ratio: float = 0.0) -> list[int]:
        """The entities whose records reach ``subject`` through ``reach``."""
        if reach == "entity":
            return [subject]
        s, d, r = self.by_reach[reach]
        lo, hi = np.searchsorted(s, subject), np.searchsorted(s, subject, side="right")
        dst = d[lo:hi]
        if reach == "shareholders" and min_ratio > 0:
            dst = dst[np.nan_to_num(r[lo:hi], nan=0.0) >= min_ratio]
        return sorted(set(dst.tolist()))


def _triggers(records: pl.DataFrame, m: Measure, as_of: _dt.date) -> pl.DataFrame:
    """The active records that trigger ``m`` as of ``as_of``."""
    status = pl.col("status").fill_null("active").str.to_lowercase()
    f = records.filter(pl.col("active") & pl.col("event_type").is_in(list(m.trigger_types))
                       & status.is_in([s.lower() for s in m.trigger_statuses]))
    if m.trigger_grades:
        f = f.filter(pl.col("grade").fill_null("").str.to_uppercase().is_in([g.upper() for g in m.trigger_grades]))
    if m.duration_years > 0:
        until = pl.col("date").dt.offset_by(f"{int(round(m.duration_years * 12))}mo")
        f = f.with_columns(until.alias("until")).filter(pl.col("until").is_null() | (pl.col("until") >= pl.lit(as_of)))
    else:
        f = f.with_columns(pl.col("end_date").alias("until"))
    return f


def measures_for(net: CreditNetwork, catalogue: list[Measure], records: pl.DataFrame, subjects: Iterable[int],
                 as_of: _dt.date, links: PartyLinks | None = None) -> list[list[dict]]:
    """Per subject (node index), the measures that apply now, each with its triggering records.

    ``records`` is :func:`credgraph.analytics.propagation.active_records` of ``net`` (it has
    ``active``). Each answer item: the measure's fields, ``via`` (how it reaches the subject)
    and ``records`` (record node id, type, date, status, authority, case number, owner and
    the relation through which it reaches, ``until``: the date the measure ends, if known).
    """
    links = links or PartyLinks(net)
    trig = {m.id: _triggers(records, m, as_of) for m in catalogue}
    by_owner = {mid: t.partition_by("owner", as_dict=True) if t.height else {} for mid, t in trig.items()}
    out: list[list[dict]] = []
    for s in subjects:
        found: list[dict] = []
        for m in catalogue:
            recs: dict[tuple[str, str], dict] = {}
            for reach in m.reach:
                for src in links.sources(int(s), reach, m.shareholder_min_ratio):
                    part = by_owner[m.id].get((src,))
                    if part is None:
                        continue
                    for r in part.iter_rows(named=True):
                        relation = REACH_TEXT[reach] + ("" if reach == "entity" else f" {net.describe(src)}")
                        seen = recs.get((r["record_node"], str(net.ids[src])))
                        if seen is not None:  # one record reaching by two links (legal rep and officer)
                            seen["reach"].append(reach)
                            seen["relation"].append(relation)
                            continue
                        recs[(r["record_node"], str(net.ids[src]))] = {
                            "record_id": r["record_node"], "event_type": r["event_type"],
                            "date": _iso(r["date"]), "status": r["status"] or "active", "grade": r["grade"],
                            "authority": r["authority"], "case_no": r["case_no"],
                            "owner_id": str(net.ids[src]), "owner_name": net.describe(src),
                            "reach": [reach], "relation": [relation],
                            "until": _iso(r["until"]),
                        }
            if recs:
                rows = list(recs.values())
                found.append({**m.as_dict(), "via": sorted({x for r in rows for x in r["relation"]}), "records": rows})
        out.append(found)
    return out


def _iso(v) -> str | None:
    return v.isoformat() if isinstance(v, _dt.date) else None


def measures_text(net: CreditNetwork, catalogue: list[Measure], records: pl.DataFrame, subjects: np.ndarray,
                  as_of: _dt.date, resolved: Iterable[bool] | None = None) -> list[str]:
    """One text per subject (node index, -1 for none) for a check report's ``measures`` column:
    ``id name [relation: event_type case_no date; ...]`` joined by `` | ``; empty when none applies
    or the subject is not ``resolved`` (an ambiguous match gets no measure: it is not a guess)."""
    subjects = np.asarray(subjects)
    ok = np.ones(len(subjects), dtype=bool) if resolved is None else np.asarray(list(resolved), dtype=bool)
    pick = [int(i) for i, y in zip(subjects, ok) if i >= 0 and y]
    found = iter(measures_for(net, catalogue, records, pick, as_of))
    out = []
    for i, y in zip(subjects, ok):
        if i < 0 or not y:
            out.append("")
            continue
        items = []
        for m in next(found):
            recs = "; ".join(f"{'/'.join(r['relation'])}: {r['event_type']} {r['case_no'] or ''} {r['date'] or ''}".strip()
                             for r in m["records"])
            items.append(f"{m['id']} {m['name']} [{recs}]")
        out.append(" | ".join(items))
    return out
