"""Per-enterprise facts read off the graph, shared by grading, shell detection and checks.

One row per LegalPerson (column ``idx`` = node index), computed with group-bys over the
records and bincounts over the edges:

* registration: ``est_date`` (node property, else the registration record's date),
  ``capital`` (node ``registered_capital``, else the registration record's capital/amount),
  ``reg_status`` (node ``status``, else the registration record's status);
* operating: ``staff`` (count of the latest social insurance record; null = no record),
  ``arrears``, ``abnormal`` (active records: recency weight, 0 = none), ``tax_grade`` (latest);
* regulatory: ``penalties`` (sum of recency weights of active penalties), ``serious_illegal``,
  ``dishonest_debtor``, ``tax_violation`` (largest recency weight of an active record);
* social: ``red_list`` (active honours), ``licences`` (active licences);
* links: ``rep_firms`` (most firms any of its legal representatives represents),
  ``addr_firms`` / ``phone_firms`` (most entities sharing one of its addresses / phones),
  ``agent_firms`` (most firms one of its agents registered), ``abnormal_ever`` (any abnormal record).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from credgraph.config import AnalyticsConfig

from .network import CreditNetwork, resolve_as_of
from .propagation import active_records

__all__ = ["company_features", "group_members"]


def group_members(net: CreditNetwork, edge_type: str, company_side: str) -> tuple[np.ndarray, np.ndarray]:
    """(group node, company) pairs for one link kind, companies being LegalPersons.

    ``company_side`` is "src" (LOCATED_AT, USES_PHONE: company -> hub) or "dst"
    (LEGAL_REP_OF, AGENT_OF: hub -> company). Duplicate pairs are removed.
    """
    m = net.edges_of(edge_type)
    comp = net.src[m] if company_side == "src" else net.dst[m]
    hub = net.dst[m] if company_side == "src" else net.src[m]
    keep = net.legal_mask[comp]
    if not keep.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.stack([hub[keep], comp[keep]], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _max_group_size(net: CreditNetwork, edge_type: str, company_side: str) -> np.ndarray:
    hub, comp = group_members(net, edge_type, company_side)
    size = np.bincount(hub, minlength=net.n)
    out = np.zeros(net.n, dtype=np.int64)
    np.maximum.at(out, comp, size[hub])
    return out


def company_features(net: CreditNetwork, cfg: AnalyticsConfig, as_of=None) -> pl.DataFrame:
    """The facts above, one row per enterprise, in node-index order."""
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    comp = np.nonzero(net.legal_mask)[0]
    base = pl.DataFrame({"idx": comp, "node_id": net.ids[comp], "name": net.names[comp]})
    rec = active_records(net, cfg, as_of)
    rec = rec.filter(pl.Series(net.legal_mask[rec["owner"].to_numpy()]))
    act = rec.filter(pl.col("active"))

    def latest(event: str, cols: list[str], frame: pl.DataFrame = rec) -> pl.DataFrame:
        return (frame.filter(pl.col("event_type") == event)
                .sort(["owner", "date"], nulls_last=False)
                .group_by("owner", maintain_order=True).last()
                .select([pl.col("owner").alias("idx"), *cols]))

    reg = latest("registration", [pl.col("date").alias("_reg_date"),
                                  pl.coalesce(pl.col("capital"), pl.col("amount")).alias("_reg_capital"),
                                  pl.col("status").alias("_reg_status")])
    staff = latest("social_insurance", [pl.col("count").alias("staff")])
    tax = latest("tax_rating", [pl.col("grade").str.to_uppercase().alias("tax_grade")])
    agg = act.group_by("owner").agg(
        (pl.col("recency").filter(pl.col("event_type") == "penalty").sum()).alias("penalties"),
        *[pl.col("recency").filter(pl.col("event_type") == e).max().fill_null(0.0).alias(k) for e, k in (
            ("serious_illegal", "serious_illegal"), ("dishonest_debtor", "dishonest_debtor"),
            ("tax_violation", "tax_violation"), ("social_insurance_arrears", "arrears"),
            ("abnormal_operations", "abnormal"))],
        (pl.col("event_type") == "red_list").sum().alias("red_list"),
        (pl.col("event_type") == "licence").sum().alias("licences"),
    ).rename({"owner": "idx"})
    ever = rec.group_by("owner").agg(
        (pl.col("event_type") == "abnormal_operations").any().alias("abnormal_ever")).rename({"owner": "idx"})
    f = (base.join(reg, on="idx", how="left").join(staff, on="idx", how="left")
         .join(tax, on="idx", how="left").join(agg, on="idx", how="left").join(ever, on="idx", how="left"))
    est = net.prop("est_date", pl.Date)
    cap = net.prop("registered_capital")
    status = net.prop("status", pl.Utf8)
    f = f.with_columns(
        pl.Series("_node_est", est[comp] if est is not None else [None] * len(comp), dtype=pl.Date),
        pl.Series("_node_cap", cap[comp] if cap is not None else [None] * len(comp), dtype=pl.Float64),
        pl.Series("_node_status", list(status[comp]) if status is not None else [None] * len(comp), dtype=pl.Utf8),
        pl.Series("rep_firms", _max_group_size(net, "LEGAL_REP_OF", "dst")[comp]),
        pl.Series("agent_firms", _max_group_size(net, "AGENT_OF", "dst")[comp]),
        pl.Series("addr_firms", _max_group_size(net, "LOCATED_AT", "src")[comp]),
        pl.Series("phone_firms", _max_group_size(net, "USES_PHONE", "src")[comp]),
    )
    zero = ["penalties", "serious_illegal", "dishonest_debtor", "tax_violation", "arrears", "abnormal"]
    f = f.with_columns(
        pl.coalesce("_node_est", "_reg_date").alias("est_date"),
        pl.coalesce("_node_cap", "_reg_capital").alias("capital"),
        pl.coalesce("_node_status", "_reg_status").alias("reg_status"),
        *[pl.col(c).fill_null(0.0) for c in zero],
        pl.col("red_list").fill_null(0), pl.col("licences").fill_null(0),
        pl.col("abnormal_ever").fill_null(False),
    ).with_columns(
        ((pl.lit(as_of) - pl.col("est_date")).dt.total_days() / 365.25).alias("age_years"),
    )
    return f.drop([c for c in f.columns if c.startswith("_")])
