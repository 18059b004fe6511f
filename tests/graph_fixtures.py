"""Shared inputs of the graph tests: a small hand-made graph with awkward names, a generated
city with a perfect (truth) assignment, and the real test Neo4j server.

Imported by tests/test_graph_*.py (conftest.py is the lead's). Nothing here is mocked: the
Neo4j fixture starts the real server (port 17687, its own data) when it is not running,
and stops it again only if it started it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from credgraph.config import Config
from credgraph.records import polars_schema

HASH_KEY = "test-key-only-for-the-test-suite"
ID_A = "11010519491231002X"          # 张三's full ID number
PHONE_A = "138-1234-5678"            # written two ways below
PHONE_A2 = "+86 13812345678"
USCC_HUAQIANG = "914403001922038216"
# names that break naive string-built queries
TRICKY = "甲'乙\"丙{x}\\丁`) DETACH DELETE n //"
TRICKY2 = "'}) MATCH (m) RETURN m //公司"


def _rec(**kw) -> dict:
    return kw


def small_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Records, assignments and entities of a small graph whose right answers are known.

    Companies: C1 华强 (USCC), C2 branch of C1, C3 holds 30% of C1, C4 tricky name, C5 tricky2;
    P1 张三 (full ID, phone) legal rep of C1 and holds 70% of C1 and 100% of C3, officer of C2
    (two roles), P2 李四 agent of C4; C1, C4, C5 share an address (written three ways),
    C4 and P1 share a phone (written two ways). Records: a dishonest listing of P1, a
    penalty of C1 naming P1 as responsible person, C1's registration.
    """
    rows = [
        _rec(record_id="r01", catalog="MR_REG", kind="entity", event_type="registration", subject_type="legal",
             subject_name="深圳市华强电子有限公司", subject_uscc=USCC_HUAQIANG,
             subject_address="深圳市福田区深南大道1001号华强大厦A座", legal_form="有限责任公司",
             industry="电子", capital=500.0, date=dt.date(2001, 5, 1), status="存续",
             object_name="张三", object_type="natural", relation="legal_rep_of"),
        _rec(record_id="r02", catalog="MR_SH", kind="relationship", relation="shareholder_of",
             subject_name="深圳市华强电子有限公司", object_name="张三", ratio=0.6, date=dt.date(2010, 1, 1)),
        _rec(record_id="r03", catalog="MR_SH", kind="relationship", relation="shareholder_of",
             subject_name="华强电子(深圳)有限公司", object_name="张三", ratio=0.7, date=dt.date(2020, 1, 1)),
        _rec(record_id="r04", catalog="MR_SH", kind="relationship", relation="shareholder_of",
             subject_name="深圳市华强电子有限公司", object_name="深圳市甲投资有限公司", ratio=0.3,
             date=dt.date(2020, 1, 1)),
        _rec(record_id="r05", catalog="MR_SH", kind="relationship", relation="shareholder_of",
             subject_name="深圳市甲投资有限公司", object_name="张三", ratio=1.0),
        _rec(record_id="r06", catalog="MR_BRANCH", kind="relationship", relation="branch_of",
             subject_name="深圳市华强电子有限公司南山分公司", object_name="深圳市华强电子有限公司"),
        _rec(record_id="r07", catalog="MR_STAFF", kind="relationship", relation="officer_of",
             subject_name="深圳市华强电子有限公司南山分公司", object_name="张三", role="经理"),
        _rec(record_id="r08", catalog="MR_STAFF", kind="relationship", relation="officer_of",
             subject_name="深圳市华强电子有限公司南山分公司", object_name="张三", role="董事"),
        _rec(record_id="r09", catalog="MR_AGENT", kind="relationship", relation="agent_of",
             subject_name=TRICKY, object_name="李四"),
        _rec(record_id="r10", catalog="MR_REG", kind="entity", subject_name=TRICKY,
             subject_address="深圳市福田区深南大道１００１号華強大廈A座", subject_phone=PHONE_A),
        _rec(record_id="r11", catalog="MR_REG", kind="entity", subject_name=TRICKY2,
             subject_address="广东省深圳市福田区深南大道一千零一号华强大厦A座"),
        _rec(record_id="r12", catalog="COURT_DISHONEST", kind="event", event_type="dishonest_debtor",
             subject_type="natural", subject_name="张三", subject_id_number=ID_A, subject_phone=PHONE_A2,
             case_no="(2021)粤0305执123号", status="active", date=dt.date(2021, 3, 4), amount=120000.0),
        _rec(record_id="r13", catalog="PENALTY", kind="event", event_type="penalty",
             subject_name="深圳市华强电子有限公司", object_name="张三", case_no="深市监罚〔2022〕1号",
             status="active", amount=50000.0, date=dt.date(2022, 6, 1)),
        _rec(record_id="r14", catalog="TAX", kind="event", event_type="tax_rating", subject_name="深圳市华强电子有限公司",
             grade="D", date=dt.date(2023, 1, 1)),
        _rec(record_id="r15", catalog="MR_SH", kind="relationship", relation="shareholder_of",
             subject_name="无人认领有限公司", object_name="王五"),  # parties left unresolved
    ]
    records = pl.DataFrame(rows, schema_overrides=polars_schema(), infer_schema_length=None)
    records = records.select([pl.col(c) if c in records.columns else pl.lit(None, d).alias(c)
                              for c, d in polars_schema().items()])
    who = {
        "r01": ("C1", "P1"), "r02": ("C1", "P1"), "r03": ("C1", "P1"), "r04": ("C1", "C3"), "r05": ("C3", "P1"),
        "r06": ("C2", "C1"), "r07": ("C2", "P1"), "r08": ("C2", "P1"), "r09": ("C4", "P2"), "r10": ("C4", None),
        "r11": ("C5", None), "r12": ("P1", None), "r13": ("C1", "P1"), "r14": ("C1", None), "r15": (None, None),
    }
    asg = []
    for rid, (s, o) in who.items():
        for role, e in (("subject", s), ("object", o)):
            if e is not None:
                asg.append({"record_id": rid, "role": role, "entity_id": e, "confidence": 0.9,
                            "mention_id": f"{rid}:{role}"})
    assignments = pl.DataFrame(asg)
    entities = pl.DataFrame([
        {"entity_id": "C1", "type": "legal", "name": "深圳市华强电子有限公司",
         "names": ["深圳市华强电子有限公司", "华强电子(深圳)有限公司"], "uscc": USCC_HUAQIANG, "is_branch": False,
         "member_count": 7},
        {"entity_id": "C2", "type": "legal", "name": "深圳市华强电子有限公司南山分公司", "names": None,
         "is_branch": True, "member_count": 3},
        {"entity_id": "C3", "type": "legal", "name": "深圳市甲投资有限公司", "member_count": 2},
        {"entity_id": "C4", "type": "legal", "name": TRICKY, "member_count": 2},
        {"entity_id": "C5", "type": "legal", "name": TRICKY2, "member_count": 1},
        {"entity_id": "P1", "type": "natural", "name": "张三", "id_number": ID_A, "phone": PHONE_A2,
         "member_count": 9},
        {"entity_id": "P2", "type": "natural", "name": "李四", "id_number": "440301********123X", "member_count": 1},
    ], schema_overrides={"names": pl.List(pl.Utf8)})
    return records, assignments, entities


def small_frames():
    from credgraph.graph.build import build_frames

    return build_frames(*small_inputs(), hash_key=HASH_KEY)


def make_cfg(workspace: Path | None = None) -> Config:
    cfg = Config()
    cfg.graph.hash_key = HASH_KEY
    if workspace is not None:
        cfg.workspace.path = str(workspace)
    return cfg


# ----------------------------------------------------------------------- city + truth
def city_inputs(root: Path, entities: int = 300, seed: int = 11):
    """A generated city's records with the *true* assignment and truth entities (a perfect resolution)."""
    from credgraph.loaders import load_specs, read_records
    from credgraph.synth import generate_city, true_assignments, true_entities

    city = root / "city"
    generate_city(city, entities=entities, seed=seed)
    ws = root / "ws"
    load_specs([city / "specs"], ws)
    records = read_records(ws)
    return records, true_assignments(city, records), true_entities(city), city


# ---------------------------------------------------------------------------- neo4j
@pytest.fixture(scope="session")
def neo4j_cfg(tmp_path_factory):
    """Config of the real test Neo4j (started here when it is not running). Its workspace is a
    temporary folder: a load writes the workspace's private look-up index, and the default
    (``./workspace``) is where ``make demo`` works."""
    from credgraph.graph import neo4j_server as srv

    cfg = srv.config_for_tests(make_cfg(tmp_path_factory.mktemp("neo4j-workspace")))
    started = False
    if not srv.status(cfg).answering:
        srv.start(cfg, log=lambda m: None)
        started = True
    yield cfg
    if started:
        srv.stop(cfg, log=lambda m: None)


def open_backend(backend: str, tmp_path: Path, request):
    """A fresh, empty store of ``backend`` (the Neo4j test database is wiped first)."""
    if backend == "neo4j":
        from credgraph.graph.neo4j_store import Neo4jStore

        store = Neo4jStore(request.getfixturevalue("neo4j_cfg"))
        store.clear()
        return store
    from credgraph.graph.ladybug_store import LadybugStore

    return LadybugStore(make_cfg(tmp_path), tmp_path / "graph" / "ladybug")
