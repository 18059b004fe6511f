"""Event severity from the catalog specs: a new catalog counts without a code change.

A catalog spec may say how much one active record of the catalog weighs as risk::

    code = "EPIDEMIC_PREVENTION"
    kind = "event"
    severity = 0.5        # 0-1

Analytics reads that key from the specs that were loaded (``records/load_report.json`` of the
workspace, or a generated city's ``specs/``) and puts it on each CreditRecord node as
``severity`` (by the record's ``catalog``). Records of catalogs whose spec has no
``severity`` fall back to the ``severity_*`` table of the configuration by event type, and
otherwise weigh nothing (:func:`unweighted_event_types` lists those, so it can be said).

>>> import polars as pl
>>> nodes = pl.DataFrame({"node_id": ["rec:1", "c1"], "label": ["CreditRecord", "LegalPerson"],
...                       "catalog": ["EPIDEMIC", None]})
>>> attach_severity(nodes, {"EPIDEMIC": 0.5})["severity"].to_list()
[0.5, None]
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Iterable

import polars as pl

__all__ = ["spec_severities", "workspace_spec_paths", "attach_severity", "unweighted_event_types"]


def spec_severities(spec_paths: Iterable[str | Path]) -> dict[str, float]:
    """Catalog code -> ``severity`` of every readable spec that has one (others are skipped).

    Raises ValueError naming the spec when a severity is not a number in [0, 1].
    """
    out: dict[str, float] = {}
    for p in spec_paths:
        try:
            with open(p, "rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if "severity" not in data or "code" not in data:
            continue
        v = data["severity"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= float(v) <= 1:
            raise ValueError(f"{p}: severity = {v!r}: must be a number from 0 to 1")
        out[str(data["code"])] = float(v)
    return out


def workspace_spec_paths(workspace: str | Path) -> list[Path]:
    """The spec files of the workspace's last load (``records/load_report.json``), existing ones only."""
    report = Path(workspace) / "records" / "load_report.json"
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    paths = {Path(f["spec"]) for f in data.get("files", []) if isinstance(f, dict) and f.get("spec")}
    return sorted(p for p in paths if p.is_file())


def attach_severity(nodes: pl.DataFrame, severities: dict[str, float]) -> pl.DataFrame:
    """``nodes`` with a ``severity`` column: the spec severity of each CreditRecord's catalog (else null)."""
    if "catalog" not in nodes.columns or not severities:
        return nodes
    sev = (pl.when(pl.col("label") == "CreditRecord")
           .then(pl.col("catalog").cast(pl.Utf8).replace_strict(severities, default=None, return_dtype=pl.Float64))
           .otherwise(None))
    if "severity" in nodes.columns:  # a severity the graph already holds wins
        sev = pl.coalesce(pl.col("severity").cast(pl.Float64, strict=False), sev)
    return nodes.with_columns(sev.alias("severity"))


def unweighted_event_types(records: pl.DataFrame, table: dict[str, float]) -> list[str]:
    """Event types of records that weigh nothing: no spec severity and not in the configured table."""
    r = records
    if "severity_spec" in r.columns:
        r = r.filter(pl.col("severity_spec").is_null())
    known = set(table) | {"tax_rating", "social_insurance", "licence", "red_list", "registration"}
    return sorted(set(r["event_type"].drop_nulls().unique().to_list()) - known)
