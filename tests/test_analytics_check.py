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
