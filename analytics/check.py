"""Batch credit check (信用核查): a list of names and/or codes in, one report row per line out.

Each input row is matched to an entity by the resolver's own matcher
(:class:`credgraph.resolution.Matcher`: the blocking keys, comparisons, hard rules and fitted
model of the last ``credgraph resolve``): status ``resolved`` when it decides ``match``,
``ambiguous`` when some entity scores at least the review threshold but not enough to decide
(no entity is given: an ambiguous row is never reported as resolved; its candidates are listed),
``unresolved`` otherwise. ``confidence`` is the best candidate's match probability and
``candidates`` lists the best three with their probabilities and the fields that agreed.
Without a resolution in the workspace (a graph built from a city's truth), the name and code
look-up of :mod:`credgraph.analytics.lookup` is used instead.

The report gives the entity's active records, its grade and score (enterprises), its
propagated risk, and its risky related parties (entities within two links whose propagated
risk is at least ``check_risky_related``). No row is dropped. ID numbers and phones in the
report are masked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from credgraph.config import AnalyticsConfig
from credgraph.resolution.normalise import looks_like_company, normalise_text
from credgraph.identifiers import (id_is_valid, is_masked, looks_like_id, mask_id, normalise_code, org_code_is_valid,
                                   uscc_is_valid)

from .grading import GradeResult
from .lookup import EntityIndex
from .network import CreditNetwork
from .propagation import active_records
from .related import bfs_paths, link_graph

__all__ = ["read_check_list", "credit_check", "CheckListError", "match_rows", "open_matcher", "example_of"]

_NAME_COLS = ("name", "名称", "企业名称", "主体名称", "姓名", "subject_name")
_CODE_COLS = ("code", "uscc", "统一社会信用代码", "证件号码", "身份证号", "代码", "id_number", "subject_uscc")


class CheckListError(ValueError):
    """A check list that cannot be read (names the file and what is wrong)."""


def read_check_list(path: str | Path) -> pl.DataFrame:
    """Read a CSV (UTF-8 or GB18030) with a name column and/or a code column.

    Accepted headers: name/名称/企业名称/主体名称/姓名 and code/uscc/统一社会信用代码/证件号码/身份证号.
    Returns row (1-based data row), name, code (strings, empty when absent).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckListError(f"{path}: file not found")
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CheckListError(f"{path}: neither UTF-8 nor GB18030 text")
    import io

    try:
        df = pl.read_csv(io.StringIO(text), infer_schema=False)
    except Exception as exc:  # polars raises several kinds for malformed CSV
        raise CheckListError(f"{path}: not a readable CSV ({exc})") from None
    cols = {c.strip().lower(): c for c in df.columns}
    name = next((cols[c] for c in _NAME_COLS if c in cols), None)
    code = next((cols[c] for c in _CODE_COLS if c in cols), None)
    if name is None and code is None:
        raise CheckListError(f"{path}: needs a name column ({', '.join(_NAME_COLS)}) or a code column "
                             f"({', '.join(_CODE_COLS)}); found {', '.join(df.columns)}")
    return pl.DataFrame({
        "row": np.arange(1, df.height + 1),
        "name": df[name].fill_null("").str.strip_chars() if name else [""] * df.height,
        "code": df[code].fill_null("").str.strip_chars() if code else [""] * df.height,
    })


def _mask_code(code: str) -> str:
    c = normalise_code(code)
    if len(c) == 18 and c[:17].isdigit() and c[2:8].isdigit() and c[6:8] in ("19", "20"):
        return mask_id(c)  # a resident ID number
    return code


def example_of(name: str, code: str) -> dict:
    """A matcher example from a check-list row: the code goes to the field its shape says
    (USCC, resident ID full or masked, organisation code, registration number, else a typed
    identifier of scheme ``other``).

    >>> example_of("深圳市华强电子有限公司", "91440300192203821-6")
    {'name': '深圳市华强电子有限公司', 'uscc': '914403001922038216'}
    >>> example_of("张三", "110105********002X")
    {'name': '张三', 'id_number': '110105********002X', 'type': 'natural'}
    >>> example_of("张三", "110105194912310021")  # check character wrong: still an ID, weighed as a typo
    {'name': '张三', 'id_number': '110105194912310021', 'type': 'natural'}
    >>> example_of("甲公司", "914403001922038217")  # a mistyped USCC is no ID: kept as given
    {'name': '甲公司', 'identifiers': [{'scheme': 'other', 'value': '914403001922038217'}]}
    """
    ex: dict = {"name": name} if name else {}
    c = normalise_code(code) if code else ""
    if not c:
        return ex
    if len(c) == 18 and uscc_is_valid(c):
        ex["uscc"] = c
    elif len(c) == 18 and (is_masked(c) or id_is_valid(c)):
        ex["id_number"] = c
        ex["type"] = "natural"
    elif len(c) == 18 and looks_like_id(c):
        # the shape and birth date of a resident ID with a failed check (a typo): the matcher weighs it
        # as "one typo apart" from a known number, never as an identifier
        ex["id_number"] = c
        ex["type"] = "natural"
    elif len(c) == 9 and org_code_is_valid(c):
        ex["org_code"] = c
    elif len(c) == 15 and c.isdigit():
        # A legacy resident ID and a registration number are both 15 digits: the name tells which.
        if name and not looks_like_company(normalise_text(name)):
            ex["id_number"], ex["type"] = c, "natural"
        else:
            ex["reg_no"] = c
    else:
        ex["identifiers"] = [{"scheme": "other", "value": c}]
    return ex


def open_matcher(cfg_all):
    """The workspace's matcher, or None when no resolution has been run there."""
    from credgraph.resolution import Matcher

    if not (cfg_all.workspace_path / "entities" / "run.json").is_file():
        return None
    return Matcher.open(cfg_all)


def match_rows(matcher, net: CreditNetwork, rows: pl.DataFrame) -> pl.DataFrame:
    """node_id, confidence, method, status, note, candidates for each row, by the resolver's matcher."""
    examples = [example_of(n or "", c or "") for n, c in zip(rows["name"].to_list(), rows["code"].to_list())]
    results = matcher.match_many(examples, limit=3)
    status = {"match": "resolved", "ambiguous": "ambiguous", "no_match": "unresolved"}
    out = []
    for r in results:
        best = r.best
        agreed = (lambda c: ", ".join(f"{f.field} {f.level}" for f in c.features if f.weight > 0))
        cands = "; ".join(f"{c.entity_id} {c.name or ''} (p={c.probability:.3f}: {agreed(c)})" for c in r.candidates)
        node = r.entity_id if r.decision == "match" and net.index_of([r.entity_id])[0] >= 0 else None
        note = r.reason if node or r.decision != "match" else f"{r.reason}; entity {r.entity_id} not in the graph"
        out.append((node, round(best.probability, 4) if best else 0.0, "matcher" if best else "",
                    status[r.decision] if (node or r.decision != "match") else "unresolved", note, cands))
    return pl.DataFrame(out, schema={"node_id": pl.Utf8, "confidence": pl.Float64, "method": pl.Utf8,
                                     "status": pl.Utf8, "note": pl.Utf8, "candidates": pl.Utf8}, orient="row")


def credit_check(net: CreditNetwork, rows: pl.DataFrame, cfg: AnalyticsConfig, grades: GradeResult,
                 index: EntityIndex | None = None, hash_key: str | None = None, matcher=None,
                 catalogue=None) -> pl.DataFrame:
    """One report row per input row (see the module docstring).

    ``matcher``: the resolver's :class:`~credgraph.resolution.Matcher` (see :func:`open_matcher`);
    without it, the look-up of :mod:`.lookup`, where ``hash_key`` (the graph's ``graph.hash_key``)
    lets full ID numbers match persons exactly on their keyed hash.

    ``catalogue`` (joint reward and punishment measures, :mod:`credgraph.analytics.measures`)
    adds a ``measures`` column: the measures that apply now to each resolved row, with the
    records that trigger them.
    """
    if matcher is not None:
        res = match_rows(matcher, net, rows)
    else:
        index = index or EntityIndex(net, hash_key=hash_key)
        res = index.resolve(rows["name"].to_list(), rows["code"].to_list(), cfg.check_min_score)
        # An ambiguous look-up names no entity: it is never reported as if resolved.
        res = res.with_columns(pl.when(pl.col("status") == "ambiguous").then(None).otherwise(pl.col("node_id"))
                               .alias("node_id"),
                               pl.when(pl.col("status") == "ambiguous").then(pl.col("node_id")).otherwise(None)
                               .alias("candidates"))
    out = pl.concat([rows.rename({"name": "input_name", "code": "input_code"}), res], how="horizontal")
    idx = net.index_of([x or "" for x in out["node_id"].to_list()])
    ok = idx >= 0
    risk = grades.risk
    rec = active_records(net, cfg, risk.as_of).filter(pl.col("active") & (pl.col("severity") > 0))
    rec = rec.with_columns(pl.when(pl.col("event_type") == "tax_rating")
                           .then(pl.format("tax_rating {}", pl.col("grade").fill_null("?")))
                           .otherwise(pl.col("event_type")).alias("event_type"))
    summary = (rec.group_by("owner", "event_type").len().sort(["owner", "len", "event_type"], descending=[False, True, False])
               .group_by("owner", maintain_order=True)
               .agg(pl.format("{}×{}", "event_type", "len").str.join("; ").alias("active_records"),
                    pl.col("len").sum().alias("active_count")))
    A = link_graph(net, cfg.control_ratio)
    related = []
    for k in idx.tolist():  # one small BFS per checked entity
        if k < 0:
            related.append("")
            continue
        nodes, hops, _ = bfs_paths(A, k, 2)
        ents = nodes[(hops > 0) & net.entity_mask[nodes]]
        risky = ents[risk.risk[ents] >= cfg.check_risky_related]
        risky = risky[np.argsort(-risk.risk[risky])][:5]
        related.append("; ".join(f"{net.describe(j)} (risk {risk.risk[j]:.2f})" for j in risky))
    g = grades.grades.select("node_id", "grade", "score", pl.col("reasons").alias("grade_reasons"))
    out = out.with_columns(
        # Lists, not numpy object arrays: polars cannot cast those to strings.
        pl.Series("resolved_name", np.where(ok, net.names[np.maximum(idx, 0)], None).tolist(), dtype=pl.Utf8),
        pl.Series("label", np.where(ok, net.labels[np.maximum(idx, 0)], None).tolist(), dtype=pl.Utf8),
        pl.Series("own_risk", np.where(ok, risk.seed[np.maximum(idx, 0)], np.nan)),
        pl.Series("propagated_risk", np.where(ok, risk.risk[np.maximum(idx, 0)], np.nan)),
        pl.Series("owner", idx),
        pl.Series("risky_related", related, dtype=pl.Utf8),
        pl.col("input_code").map_elements(_mask_code, return_dtype=pl.Utf8),
    )
    out = (out.join(summary, on="owner", how="left").join(g, on="node_id", how="left")
           .with_columns(pl.col("active_count").fill_null(0), pl.col("active_records").fill_null(""))
           .drop("owner"))
    masked = _masked_ids(net, idx)
    out = out.with_columns(pl.Series("entity_code", masked, dtype=pl.Utf8))
    out = out.select("row", "input_name", "input_code", "status", "node_id", "resolved_name", "label", "confidence",
                     "method", "note", "candidates", "entity_code", "grade", "score", "grade_reasons", "active_count",
                     "active_records", "own_risk", "propagated_risk", "risky_related")
    if catalogue is not None:
        from .measures import measures_text

        text = measures_text(net, catalogue, active_records(net, cfg, risk.as_of), idx, risk.as_of,
                             (out["status"] == "resolved").to_list())
        out = out.with_columns(pl.Series("measures", text, dtype=pl.Utf8))
    return out


def _masked_ids(net: CreditNetwork, idx: np.ndarray) -> list:
    ids = net.prop("id_masked", pl.Utf8)
    if ids is None:
        ids = net.prop("id_number", pl.Utf8)
    uscc = net.prop("uscc", pl.Utf8)
    out = []
    for k in idx.tolist():
        if k < 0:
            out.append(None)
        elif net.labels[k] == "NaturalPerson":
            out.append(mask_id(ids[k]) if ids is not None and ids[k] else None)
        else:
            out.append(uscc[k] if uscc is not None else None)
    return out

