"""The check list's ID-number hash is the graph stage's own keyed hash."""

from __future__ import annotations

import polars as pl

from credgraph.analytics.lookup import EntityIndex, id_hash
from credgraph.analytics.network import CreditNetwork
from credgraph.graph import build_frames
from credgraph.records import polars_schema


def test_id_hash_equals_the_graph_builds_and_resolves_its_frames():
    recs = pl.DataFrame([
        {"record_id": "r1", "catalog": "MR_SH", "kind": "relationship", "relation": "legal_rep_of",
         "subject_name": "张三", "object_name": "深圳市甲科技有限公司"},
        {"record_id": "r2", "catalog": "MR_SH", "kind": "relationship", "relation": "legal_rep_of",
         "subject_name": "张三", "object_name": "深圳市乙科技有限公司"},
    ], schema_overrides=polars_schema())
    asg = pl.DataFrame({"record_id": ["r1", "r1", "r2", "r2"], "role": ["subject", "object", "subject", "object"],
                        "entity_id": ["P1", "C1", "P2", "C2"], "confidence": [1.0] * 4})
    ents = pl.DataFrame({"entity_id": ["C1", "C2", "P1", "P2"], "type": ["legal", "legal", "natural", "natural"],
                         "name": ["深圳市甲科技有限公司", "深圳市乙科技有限公司", "张三", "张三"],
                         "id_number": [None, None, "11010519491231002X", "110105********002X"]})
    g = build_frames(recs, asg, ents, hash_key="k")
    # the graph holds no hash; the application's contract frames carry it from the keyed index
    assert "id_hash" not in g.nodes["NaturalPerson"].columns
    people = g.contract()[0].filter(pl.col("label") == "NaturalPerson").sort("node_id")
    assert people["id_hash"].to_list()[0] == id_hash("11010519491231002x", "k")
    assert not people["id_hash"].to_list()[1]  # only masked known: no hash
    net = CreditNetwork.from_frames(*g.contract())
    idx = EntityIndex(net, hash_key="k")
    r = idx.resolve(["", "张三"], ["11010519491231002X", "11010519491231002X"])
    assert r.rows() == [("P1", 1.0, "id_hash", "resolved", ""), ("P1", 1.0, "id_hash", "resolved", "")]
    # P2's number is known only masked: another full number of that masked form and the name
    # still find P2 by the fallback (P1 is excluded: its full number is known and differs).
    r = idx.resolve(["张三"], ["11010519491207002X"])
    assert r.select("node_id", "method").rows() == [("P2", "masked_id+name")]


def test_check_uses_the_resolvers_matcher_and_never_resolves_an_ambiguous_row():
    from credgraph.analytics.check import credit_check, match_rows
    from credgraph.analytics.grading import grade_enterprises
    from credgraph.analytics.propagation import compute_risk
    from credgraph.config import AnalyticsConfig
    from credgraph.analytics.network import resolve_as_of
    from credgraph.resolution import Matcher, resolve
    from credgraph.resolution.sample import records_frame

    recs = records_frame([
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": "914403001922038216", "kind": "entity"},
        {"subject_name": "深圳市华强电子有限公司南山分公司", "kind": "entity"},
        {"subject_name": "张三", "subject_type": "natural", "object_name": "深圳市华强电子有限公司",
         "relation": "legal_rep_of", "kind": "relationship"},
    ])
    res = resolve(recs)
    g = build_frames(recs, res.assignments, res.entities, hash_key="k")
    net = CreditNetwork.from_frames(*g.contract())
    rows = pl.DataFrame({"row": [1, 2, 3, 4, 5],
                         "name": ["華強電子（深圳）有限公司", "华强电子有限公司南山分公司", "张三", "深圳市不存在的贸易有限公司", ""],
                         "code": ["", "", "", "", "914403001922038216"]})
    m = Matcher.from_resolution(res)
    got = match_rows(m, net, rows)
    firm, branch = res.entity_of("r000001:subject"), res.entity_of("r000002:subject")
    assert got["node_id"].to_list()[:2] == [firm, branch] and got["node_id"][4] == firm
    assert got["status"].to_list() == ["resolved", "resolved", "ambiguous", "unresolved", "resolved"]
    assert got["node_id"][2] is None and res.entity_of("r000003:subject") in got["candidates"][2]  # listed, not chosen
    cfg = AnalyticsConfig()
    as_of = resolve_as_of(net, cfg.as_of)
    rep = credit_check(net, rows, cfg, grade_enterprises(net, cfg, as_of, compute_risk(net, cfg, as_of)), matcher=m)
    assert rep.filter(pl.col("status") == "ambiguous")["node_id"].null_count() == 1
    assert "candidates" in rep.columns and rep.height == 5
