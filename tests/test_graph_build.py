"""The graph builder: directions, merging of repeated links, hubs, records, provenance, privacy."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from graph_fixtures import HASH_KEY, ID_A, TRICKY, city_inputs, small_frames, small_inputs  # noqa: E402

from credgraph.graph.build import InputError, build_frames, keyed_hash  # noqa: E402
from credgraph.graph.model import NODE_LABELS, REL_TYPES, edge_columns, node_columns  # noqa: E402


def _edges(g, t):
    return sorted((r["src"], r["dst"]) for r in g.edges[t].iter_rows(named=True))


def test_counts_and_directions_of_the_small_graph():
    g = small_frames()
    assert g.counts() == {
        "LegalPerson": 5, "NaturalPerson": 2, "Address": 1, "Phone": 1, "CreditRecord": 3,
        "SHAREHOLDER_OF": 3, "LEGAL_REP_OF": 1, "OFFICER_OF": 2, "BRANCH_OF": 1, "AGENT_OF": 1,
        "LOCATED_AT": 3, "USES_PHONE": 2, "HAS_RECORD": 4,
    }
    assert _edges(g, "SHAREHOLDER_OF") == [("C3", "C1"), ("P1", "C1"), ("P1", "C3")]
    assert _edges(g, "LEGAL_REP_OF") == [("P1", "C1")]
    assert _edges(g, "BRANCH_OF") == [("C2", "C1")]  # the subject (branch) points at its parent
    assert _edges(g, "AGENT_OF") == [("P2", "C4")]
    assert g.report["relationship_records_unresolved"] == 1


def test_repeated_links_merge_and_keep_every_record():
    g = small_frames()
    sh = {(r["src"], r["dst"]): r for r in g.edges["SHAREHOLDER_OF"].iter_rows(named=True)}
    # two records say P1 holds C1: one relationship, the newest record's ratio, both record ids
    assert sh[("P1", "C1")]["ratio"] == 0.7
    assert sh[("P1", "C1")]["record_ids"] == ["r02", "r03"]
    officers = sorted((r["role"], r["record_ids"][0]) for r in g.edges["OFFICER_OF"].iter_rows(named=True))
    assert officers == sorted([("董事", "r08"), ("经理", "r07")])  # one per role


def test_shared_address_and_phone_written_differently_are_one_node_each():
    g = small_frames()
    # half-width, full-width + traditional, and Chinese numerals with the province: one door
    assert sorted(s for s, _ in _edges(g, "LOCATED_AT")) == ["C1", "C4", "C5"]
    assert len({d for _, d in _edges(g, "LOCATED_AT")}) == 1
    phone = g.nodes["Phone"].row(0, named=True)
    assert phone["name"] == "138****5678"
    digest = keyed_hash("13812345678", HASH_KEY)
    assert "phone_hash" not in phone and digest[:16] not in phone["node_id"]  # a surrogate id, no hash
    assert g.keyed.filter(pl.col("kind") == "phone").rows() == [("phone", digest, phone["node_id"])]
    assert sorted(s for s, _ in _edges(g, "USES_PHONE")) == ["C4", "P1"]


def test_registration_is_properties_and_events_are_records():
    g = small_frames()
    c1 = g.nodes["LegalPerson"].filter(pl.col("node_id") == "C1").row(0, named=True)
    assert (c1["legal_form"], c1["industry"], c1["registered_capital"], c1["status"]) == ("有限责任公司", "电子", 500.0,
                                                                                          "存续")
    assert str(c1["est_date"]) == "2001-05-01"
    recs = {r["node_id"]: r for r in g.nodes["CreditRecord"].iter_rows(named=True)}
    assert set(recs) == {"rec:r12", "rec:r13", "rec:r14"}  # the registration r01 is no record node
    assert recs["rec:r12"]["severity"] == 3 and recs["rec:r13"]["severity"] == 2
    assert recs["rec:r14"]["severity"] == 3  # tax grade D
    has = sorted((r["src"], r["dst"], r["role"]) for r in g.edges["HAS_RECORD"].iter_rows(named=True))
    assert has == [("C1", "rec:r13", "subject"), ("C1", "rec:r14", "subject"), ("P1", "rec:r12", "subject"),
                   ("P1", "rec:r13", "object")]


def test_provenance_on_nodes_and_merges():
    g = small_frames()
    lp = {r["node_id"]: r for r in g.nodes["LegalPerson"].iter_rows(named=True)}
    assert lp["C1"]["record_ids"] == ["r01", "r02", "r03", "r04", "r06", "r13", "r14"]
    assert lp["C1"]["member_count"] == 7 and "7 mentions" in lp["C1"]["evidence"]
    assert "MR_SH" in lp["C1"]["evidence"] and "0.9" in lp["C1"]["evidence"]
    assert lp["C5"]["evidence"] is None  # not a merge
    addr = g.nodes["Address"].row(0, named=True)
    assert addr["record_ids"] == ["r01", "r10", "r11"]
    for t, f in g.edges.items():
        assert f.filter(pl.col("record_ids").list.len() == 0).height == 0 or t in ("USES_PHONE", "LOCATED_AT"), t


def test_no_clear_id_number_or_phone_anywhere():
    g = small_frames()
    nodes, edges = g.contract()
    text = " ".join(str(v) for f in (nodes, edges) for col in f.columns for v in f[col].to_list())
    for secret in (ID_A, "13812345678", "1234-5678"):
        assert secret not in text
    p1 = g.nodes["NaturalPerson"].filter(pl.col("node_id") == "P1").row(0, named=True)
    assert p1["id_masked"] == "110105********002X" and "id_hash" not in p1  # the graph holds no hash
    p2 = g.nodes["NaturalPerson"].filter(pl.col("node_id") == "P2").row(0, named=True)
    assert p2["id_masked"] == "440301********123X"
    # the application's keyed index: the full number's hash; a masked ID has none
    assert g.keyed.filter(pl.col("kind") == "id").rows() == [("id", keyed_hash(ID_A, HASH_KEY), "P1")]
    assert nodes.filter(pl.col("node_id") == "P1")["id_hash"].to_list() == [keyed_hash(ID_A, HASH_KEY)]


def test_frames_follow_the_model_and_the_contract():
    g = small_frames()
    for lab in NODE_LABELS:
        assert dict(g.nodes[lab].schema) == node_columns(lab)
    for t in REL_TYPES:
        assert {c: d for c, d in g.edges[t].schema.items() if c not in ("src_label", "dst_label")} == edge_columns(t)
    nodes, edges = g.contract()
    assert nodes.columns[:3] == ["node_id", "label", "name"]
    assert edges.columns[:7] == ["src", "dst", "type", "ratio", "capital", "role", "record_ids"]
    assert nodes["node_id"].is_unique().all() and edges["edge_id"].is_unique().all()
    assert set(edges["src"]) | set(edges["dst"]) <= set(nodes["node_id"])
    assert TRICKY in nodes["name"].to_list()  # stored verbatim


def test_bad_entity_ids_are_refused_with_a_message():
    recs, asg, ents = small_inputs()
    ents = ents.with_columns(pl.when(pl.col("entity_id") == "C5").then(pl.lit("C|5")).otherwise("entity_id")
                             .alias("entity_id"))
    with pytest.raises(InputError, match=r"\|"):
        build_frames(recs, asg, ents, hash_key="k")
    with pytest.raises(InputError, match="entity_id"):
        build_frames(recs, asg, ents.drop("entity_id"), hash_key="k")


def test_generated_city_with_true_assignment_gives_the_true_network(tmp_path):
    records, assignments, ents, city = city_inputs(tmp_path, entities=250, seed=3)
    g = build_frames(records, assignments, ents, hash_key="k")
    truth = pl.read_parquet(city / "truth" / "relationships.parquet")
    kinds = {"shareholder_of": "SHAREHOLDER_OF", "legal_rep_of": "LEGAL_REP_OF", "officer_of": "OFFICER_OF",
             "branch_of": "BRANCH_OF", "agent_of": "AGENT_OF"}
    # relationships that some catalog row reports (the truth may hold a few that no catalog shows)
    built = {(r["src"], r["dst"], t) for t in kinds.values() for r in g.edges[t].iter_rows(named=True)}
    true = {(r["src_id"], r["dst_id"], kinds[r["relation"]]) for r in truth.iter_rows(named=True)}
    assert built <= true
    assert len(built) >= 0.95 * len(true)
    ratio_true = {(r["src_id"], r["dst_id"]): r["ratio"] for r in truth.filter(
        pl.col("relation") == "shareholder_of").iter_rows(named=True)}
    for r in g.edges["SHAREHOLDER_OF"].iter_rows(named=True):
        assert r["ratio"] == pytest.approx(ratio_true[(r["src"], r["dst"])], abs=1e-4)
    ids = set(g.nodes["LegalPerson"]["node_id"]) | set(g.nodes["NaturalPerson"]["node_id"])
    assert ids == set(ents["entity_id"])
    events = records.filter(pl.col("event_type").is_not_null() & (pl.col("event_type") != "registration"))
    assert g.nodes["CreditRecord"].height == events.height
    assert g.edges["HAS_RECORD"].filter(pl.col("role") == "subject").height == events.height
