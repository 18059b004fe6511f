"""The profile's PDF credit report, built from the dashboard's own analysis (no data-interface
service loaded): the same content the data interface's service builds for the same entity,
registered so the interface verifies it, and a PDF that reads back with the firm's name."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from credgraph.config import Config
from credgraph.dashboard import Workbench
from credgraph.dashboard.sample import cached_city

ENTITIES = 600
SEED = 7


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    city = cached_city(tmp_path_factory.getbasetemp() / "dashboard-city", ENTITIES, SEED)
    ws = tmp_path_factory.mktemp("dash-report") / "ws"
    shutil.copytree(city, ws)  # reports are registered in the workspace's API database
    return ws


@pytest.fixture(scope="module")
def cfg(ws) -> Config:
    cfg = Config()
    cfg.workspace.path = str(ws)
    return cfg


@pytest.fixture(scope="module")
def wb(cfg):
    w = Workbench(cfg)
    yield w
    w.close()


def _comparable(content: dict) -> dict:
    """The content without what differs between two issues (number, time, hash), lists in a fixed order."""
    out = {k: v for k, v in content.items() if k not in ("report_number", "generated", "verification_hash")}
    for k in ("shareholders", "officers"):
        out[k] = sorted(out[k], key=lambda p: (p["id"], str(p.get("role"))))
    return out


def _chosen(wb) -> list[str]:
    """Companies with shareholders and officers, companies with adverse records, and persons."""
    a = wb.analysis()
    e = a.edges
    held = e.filter(pl.col("type") == "SHAREHOLDER_OF")["dst"].unique().sort().head(3).to_list()
    staffed = e.filter(pl.col("type") == "OFFICER_OF")["dst"].unique().sort().head(2).to_list()
    owners = a.risk.records.filter(pl.col("active") & (pl.col("severity") > 0))["owner"].unique().sort()
    ids = [str(a.net.ids[i]) for i in owners.to_list()]
    firms = [x for x in ids if a.net.labels[a.net.index_of([x])[0]] == "LegalPerson"][:3]
    persons = [x for x in ids if a.net.labels[a.net.index_of([x])[0]] == "NaturalPerson"][:2]
    persons = persons or a.net.nodes.filter(pl.col("label") == "NaturalPerson")["node_id"].sort().head(2).to_list()
    assert len(held) == 3 and len(staffed) == 2 and len(firms) == 3 and persons
    return held + staffed + firms + persons


def test_report_content_equals_the_data_interface_service(wb, cfg):
    from credgraph.api.service import Service

    svc = Service(cfg)  # the data interface's own answer, built its own way
    scopes = ("public", "reports", "personal")
    for node_id in _chosen(wb):
        mine = wb.profiles.report_content(node_id, actor="test")
        theirs = svc.report(node_id, scopes, "test")
        assert _comparable(mine) == _comparable(theirs), node_id
        # registered: the interface verifies the dashboard's report by number and hash
        v = svc.verify_report(mine["report_number"], mine["verification_hash"])
        assert v["issued"] and v["hash_matches"] and v["entity_id"] == node_id


def test_pdf_reads_back_and_needs_no_service(wb, cfg):
    from credgraph.api import service

    node_id = _chosen(wb)[0]
    before = dict(service._SHARED)
    pdf = wb.profiles.report_pdf(node_id)
    assert pdf.startswith(b"%PDF")
    assert service._SHARED == before  # no data-interface service was loaded for it
    name = wb.names([node_id])[node_id][1]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert name in text.replace("\n", "")


def test_profile_measures_equal_the_batch_over_every_record(wb, cfg):
    """The profile reads only the records of the entities a measure can come from; the
    analytics' batch function over every record of the city must give the same measures."""
    from credgraph.analytics.measures import measures_for
    from credgraph.analytics.propagation import active_records

    a = wb.analysis()
    catalogue, links, _ = wb.profiles.measure_inputs()
    every = active_records(a.net, cfg.analytics, a.as_of)
    reached = [x for x in _chosen(wb)]
    # and entities that a measure does reach (the legal representatives' firms of flagged persons)
    idx = [int(i) for i in a.net.index_of(reached)]
    batch = measures_for(a.net, catalogue, every, idx, a.as_of)
    assert any(batch), "no chosen entity has a measure: the comparison would be empty"
    for node_id, want in zip(reached, batch):
        got = wb.profiles.measures(node_id)
        expected = sorted((f"{m['id']} {m['name']}", "; ".join(r["relation"])) for m in want for r in m["records"])
        assert sorted(zip(got["措施 measure"].to_list(), got["经由 via"].to_list())) == expected, node_id
