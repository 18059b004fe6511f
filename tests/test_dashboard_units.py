"""The dashboard without a browser: masking, the canvas, the Workbench's answers checked
against the generator's ground truth and against the stages' own results, the credit
report, the CLI and the launcher's contract.

The city (600 entities) is built once per test session with the stages' public APIs
(``credgraph.dashboard.sample``); tests that write copy it first.
"""

from __future__ import annotations

import time
import io
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from credgraph.config import Config
from credgraph.dashboard import DashboardError, Workbench, credit_report_html, streamlit_args
from credgraph.dashboard.data import config_from_json, config_to_json, graph_from_result
from credgraph.dashboard.graphview import Canvas, edge_caption, risk_band, style_key
from credgraph.dashboard.privacy import looks_like_id, mask_frame, mask_text
from credgraph.dashboard.sample import cached_city
from credgraph.identifiers import id_check_char, mask_id, mask_phone

ENTITIES = 600
SEED = 7


def _valid_id(prefix17: str = "44030519850317123") -> str:
    return prefix17 + id_check_char(prefix17)


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    return cached_city(tmp_path_factory.getbasetemp() / "dashboard-city", ENTITIES, SEED)


def _cfg(ws: Path) -> Config:
    cfg = Config()
    cfg.workspace.path = str(ws)
    return cfg


@pytest.fixture(scope="module")
def wb(city):
    w = Workbench(_cfg(city))
    w.warm_up(background=False)
    yield w
    w.close()


@pytest.fixture(scope="module")
def truth(city):
    t = city / "raw" / "truth"
    return {n: pl.read_parquet(t / f"{n}.parquet") for n in ("entities", "relationships", "shell_clusters")}


@pytest.fixture(scope="module")
def entity_of_truth(city, truth):
    """true entity id -> resolved entity id (by the mentions of the generator's truth)."""
    m = pl.read_parquet(city / "raw" / "truth" / "mentions.parquet")
    lineage = pl.read_parquet(city / "records" / "records.parquet").select("record_id", "source_file", "source_row")
    res = (pl.read_parquet(city / "entities" / "assignments.parquet").select("record_id", "role", "entity_id")
           .join(lineage, on="record_id").drop("record_id"))
    j = m.join(res, on=["source_file", "source_row", "role"], how="inner")
    best = (j.group_by("entity_id", "entity_id_right").len().sort("len", descending=True)
            .group_by("entity_id", maintain_order=True).first())
    return dict(zip(best["entity_id"].to_list(), best["entity_id_right"].to_list()))


# ------------------------------------------------------------------------------- privacy
def test_mask_text_masks_ids_and_mobiles_but_not_company_codes():
    pid = _valid_id()
    text = f"张三 {pid}，电话 13812345678 / +86 139-1234-5678；USCC 914403001922038216 注册号 440301000012345"
    out = mask_text(text)
    assert pid not in out and mask_id(pid) in out
    assert "13812345678" not in out and "138****5678" in out
    assert "1234-5678" not in out
    assert "914403001922038216" in out  # a valid USCC is not personal data
    # a mistyped ID (wrong check character) is still someone's number
    typo = pid[:-1] + ("0" if pid[-1] != "0" else "1")
    assert looks_like_id(typo) and typo not in mask_text(typo)


def test_mask_frame_by_column_and_in_text():
    pid = _valid_id()
    f = pl.DataFrame({"name": ["李四"], "id_number": [pid], "phone": ["0755-83421234"], "id_hash": ["abc"],
                      "note": [f"身份证 {pid}"], "names": [[f"x {pid}", "y"]]})
    out = mask_frame(f)
    assert "id_hash" not in out.columns
    row = out.row(0, named=True)
    assert row["id_number"] == mask_id(pid) and row["phone"] == mask_phone("0755-83421234")
    assert pid not in row["note"] and pid not in " ".join(row["names"])


# --------------------------------------------------------------------------------- canvas
def test_canvas_collapse_keeps_what_else_pins():
    c = Canvas()
    c.add_nodes([{"node_id": x, "label": "LegalPerson", "name": x} for x in ("A", "B", "C", "D")])
    c.centre = "A"
    c.expanded["A"] = {"shown": ["B", "C"], "total": 2}
    c.expanded["B"] = {"shown": ["D"], "total": 1}
    c.add_edges([{"src": "B", "dst": "D", "type": "SHAREHOLDER_OF", "ratio": 0.5, "edge_id": "SHAREHOLDER_OF|B|D"},
                 {"src": "X", "dst": "D", "type": "SHAREHOLDER_OF", "ratio": 0.5}])  # X absent: not drawn
    assert list(c.edges) == ["SHAREHOLDER_OF|B|D"]
    c.collapse("B")
    assert "D" not in c.nodes and not c.edges
    c.collapse("A")
    assert set(c.nodes) == {"A"}  # C went; B was expanded itself but its expansion is gone too


def test_styles_and_captions():
    assert style_key("LegalPerson", "grade", 0.0, "A+") == "企业 · 等级 A+"
    assert style_key("NaturalPerson", "risk", 0.5, None, high=0.3) == "自然人 · 高风险"
    assert risk_band(0.2, high=0.3) == "中风险"
    assert edge_caption("SHAREHOLDER_OF", 0.5) == "持股 50%"


# ------------------------------------------------------------------------------ workbench
def test_search_by_code_name_variant_and_pinyin(wb, truth, entity_of_truth):
    legal = truth["entities"].filter((pl.col("type") == "legal") & pl.col("uscc").is_not_null()
                                     & pl.col("name").str.contains("有限公司") & pl.col("parent_id").is_null())
    row = legal.row(0, named=True)
    want = entity_of_truth[row["entity_id"]]
    by_code = wb.find.search(row["uscc"])
    assert by_code["node_id"][0] == want and by_code["match"][0] == "uscc"
    assert wb.find.search(row["uscc"][8:17])["node_id"].to_list()[0] == want  # organisation code inside the USCC
    import opencc

    trad = opencc.OpenCC("s2t").convert(row["name"]).replace("(", "（").replace(")", "）")
    assert want in wb.find.search(trad)["node_id"].to_list()
    from pypinyin import lazy_pinyin

    brand = row["brand"]
    py = "".join(lazy_pinyin(brand))
    hits = wb.find.search(py)
    assert want in hits["node_id"].to_list() or hits.height == wb.cfg.dashboard.search_limit
    with pytest.raises(DashboardError, match="type a name"):
        wb.find.search("   ")


def test_quick_match_answers_codes_and_exact_names(wb, truth, entity_of_truth):
    import opencc

    legal = truth["entities"].filter((pl.col("type") == "legal") & pl.col("uscc").is_not_null())
    row = legal.row(3, named=True)
    want = entity_of_truth[row["entity_id"]]
    assert wb.find.quick_match(row["uscc"])["node_id"].to_list() == [want]
    nodes = wb.analysis().net.nodes.filter(pl.col("label") == "LegalPerson")
    unique = nodes.group_by("name").len().filter(pl.col("len") == 1)
    one = nodes.join(unique, on="name").filter(pl.col("name").str.contains("有限公司"))
    nid, name = one["node_id"][0], one["name"][0]
    trad = opencc.OpenCC("s2t").convert(name).replace("(", "（").replace(")", "）")
    assert wb.find.quick_match(trad)["node_id"].to_list() == [nid]
    assert wb.find.quick_match(name)["match"].to_list() == ["exact name"]
    person = truth["entities"].filter(pl.col("type") == "natural")["name"][0]
    assert wb.find.quick_match(person).height == 0  # a person's name alone designates no one
    with pytest.raises(DashboardError):
        wb.find.quick_match("")


def test_profile_matches_truth_and_masks_personal_data(wb, truth, entity_of_truth, city):
    rel = truth["relationships"].filter(pl.col("relation") == "legal_rep_of")
    r = rel.row(0, named=True)
    company, person = entity_of_truth[r["dst_id"]], entity_of_truth[r["src_id"]]
    p = wb.profiles.profile(company)
    assert p.kind == "LegalPerson" and p.grade is not None and p.grade["grade"] in ("A+", "A", "B", "C", "D", "E")
    assert any(x == person and rel_ == "法定代表人" for x, rel_ in
               zip(p.related["node_id"].to_list(), p.related["relation"].to_list()))
    # the timeline is exactly the entity's records in the graph frames
    a = wb.analysis()
    recs = a.edges.filter((pl.col("src") == company) & (pl.col("type") == "HAS_RECORD"))
    assert p.timeline.height == min(recs.height, wb.cfg.dashboard.timeline_limit)
    assert set(p.timeline["record"].to_list()) <= set(recs["dst"].to_list())
    # grade explanation: the points of the indicators add up to the score
    assert abs(100 + p.contributions["points"].sum() - p.grade["score"]) < 0.05 or p.grade["score"] in (0.0, 100.0)

    pp = wb.profiles.profile(person)
    true_id = truth["entities"].filter(pl.col("entity_id") == r["src_id"])["id_number"][0]
    true_phone = truth["entities"].filter(pl.col("entity_id") == r["src_id"])["phone"][0]
    html = credit_report_html(pp) + credit_report_html(p)
    blob = json.dumps([pp.identity, p.identity], ensure_ascii=False, default=str) + html
    assert true_id and true_id not in blob
    if pp.identity.get("id_masked"):
        assert pp.identity["id_masked"] == mask_id(true_id)
    if true_phone:
        assert true_phone.replace("-", "") not in blob.replace("-", "")
    assert "<script" not in html and "http" not in html.lower()


def test_unknown_and_wrong_ids_give_messages(wb):
    with pytest.raises(DashboardError, match="no entity with id"):
        wb.profiles.profile("NO-SUCH-ID")
    with pytest.raises(DashboardError, match="no node with id"):
        wb.network.expand("NO-SUCH-ID")
    addr = wb.analysis().edges.filter(pl.col("type") == "LOCATED_AT")["dst"][0]
    with pytest.raises(DashboardError, match="not a company or person"):
        wb.profiles.profile(addr)


def test_expand_pages_and_ranks_a_supernode(wb):
    a = wb.analysis()
    deg = (a.edges.filter(pl.col("type") == "LOCATED_AT").group_by("dst").len().sort("len", descending=True))
    hub, n = deg.row(0)
    assert n >= 3
    first = wb.network.expand(hub, 1, ["LOCATED_AT"], "relationship", limit=2, offset=0)
    second = wb.network.expand(hub, 1, ["LOCATED_AT"], "relationship", limit=2, offset=2)
    assert first["total"] == n == second["total"]
    ids1 = {x["node_id"] for x in first["nodes"]}
    ids2 = {x["node_id"] for x in second["nodes"]}
    assert len(ids1) == 2 and not ids1 & ids2
    by_risk = wb.network.expand(hub, 1, ["LOCATED_AT"], "risk", limit=n)
    risks = [a.risk_of.get(x["node_id"]) or 0.0 for x in by_risk["nodes"]]
    assert risks == sorted(risks, reverse=True)
    assert by_risk["by_type"] == {"LOCATED_AT": n}
    # every link returned joins the hub to a returned node
    assert all({e["src"], e["dst"]} <= ({hub} | {x["node_id"] for x in by_risk["nodes"]}) for e in by_risk["edges"])


def test_paths_between_legal_rep_and_company(wb, truth, entity_of_truth):
    r = truth["relationships"].filter(pl.col("relation") == "legal_rep_of").row(1, named=True)
    a, b = entity_of_truth[r["src_id"]], entity_of_truth[r["dst_id"]]
    paths = wb.network.paths(a, b, 3)
    assert paths["length"][0] == 1 and paths["types"][0][0] == "LEGAL_REP_OF"
    with pytest.raises(DashboardError, match="two different"):
        wb.network.paths(a, a)


def test_ownership_integrated_share_is_sum_of_chain_products(wb):
    a = wb.analysis()
    sh = a.edges.filter(pl.col("type") == "SHAREHOLDER_OF")
    # a company whose holder is itself held: two layers up
    two = sh.join(sh.select(pl.col("src").alias("top"), pl.col("dst").alias("src"), pl.col("ratio").alias("r2")),
                  on="src")
    assert two.height, "the city has no two-layer holdings"
    company = two["dst"][0]
    up = wb.network.ownership(company, "up", 5)
    # brute force over the frames: every chain, product of ratios, summed per holder
    holders: dict[str, float] = {}
    def walk(node, prod, seen):
        for s, r in sh.filter(pl.col("dst") == node).select("src", "ratio").iter_rows():
            if s in seen or r is None:
                continue
            holders[s] = holders.get(s, 0.0) + prod * r
            if len(seen) < 5:
                walk(s, prod * r, seen | {s})
    walk(company, 1.0, {company})
    got = dict(up.group_by("node_id").agg(pl.col("integrated").first()).iter_rows())
    assert set(got) == set(holders)
    assert all(abs(got[h] - holders[h]) < 1e-9 for h in holders)


def test_inspection_reproducible_and_exported(wb):
    l1 = wb.lists.inspection(11, 0.1)
    assert wb.lists.inspection(11, 0.1) is l1  # the same parameters: drawn once
    wb.lists._listings.clear()
    l2 = wb.lists.inspection(11, 0.1)  # drawn again: the same list
    l3 = wb.lists.inspection(12, 0.1)
    assert l1.targets["node_id"].to_list() == l2.targets["node_id"].to_list()
    assert l1.targets["node_id"].to_list() != l3.targets["node_id"].to_list()
    n_ent = wb.analysis().grades.grades.height
    assert abs(l1.targets.height - round(0.1 * n_ent)) <= max(2, 0.02 * n_ent)
    files = wb.lists.inspection_files(l1)
    import io

    back = pl.read_csv(io.BytesIO(files["csv"]))
    assert back["node_id"].to_list() == l1.targets["node_id"].to_list()
    assert files["xlsx"][:2] == b"PK"
    quick = wb.lists.inspection_csv(l1)
    assert quick.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads the Chinese
    assert pl.read_csv(io.BytesIO(quick[3:])).equals(back)  # the same rows and columns as the export
    assert wb.lists.inspection_files(l1) is files
    with pytest.raises(DashboardError, match="4 shares between 0 and 1"):
        wb.lists.inspection(1, 0.1, ratios=(0.1, 0.2))
    with pytest.raises(DashboardError, match="6 shares between 0 and 1"):
        wb.lists.inspection(1, 0.1, ratios=(0.1, 0.2), strata="grade")


def test_inspection_follows_the_configured_strata_and_the_directed_checks(wb):
    """As `credgraph inspect` draws: per risk class by default (analytics.inspection_strata), per
    grade when asked; flagged shells are on the directed-check list, never drawn at random."""
    from credgraph.analytics.inspection import RISK_CLASSES

    assert wb.cfg.analytics.inspection_strata == "risk"
    by_class = wb.lists.inspection(3, 0.0)
    assert by_class.allocation["stratum"].to_list() == list(RISK_CLASSES)
    by_grade = wb.lists.inspection(3, 0.0, strata="grade")
    assert by_grade.allocation["stratum"].to_list() == ["A+", "A", "B", "C", "D", "E"]
    # ratio 1.0 for the riskiest class: every firm of that class is drawn (pool == drawn)
    top = by_class.allocation.row(0, named=True)
    assert top["ratio"] == 1.0 and top["drawn"] == top["pool"] > 0
    flagged = set(wb.lists.shell_firms()["node_id"].to_list())
    assert flagged, "the test city has flagged shells"
    for listing in (by_class, by_grade):
        drawn = set(listing.targets.filter(pl.col("selection") == "random")["node_id"].to_list())
        assert not drawn & flagged


def test_shell_group_opens_with_its_shared_hub(wb, truth, entity_of_truth):
    groups = wb.lists.shell_groups()
    assert groups.height >= 1
    g = groups.row(0, named=True)
    loaded = wb.network.cluster_elements(g["members"])
    ids = {n["node_id"] for n in loaded["nodes"]}
    assert set(g["members"]) <= ids
    hubs = ids - set(g["members"])
    assert hubs, "the members' shared hub is missing"
    for h in hubs:  # each hub is linked to at least two members
        ends = [e["src"] if e["dst"] == h else e["dst"] for e in loaded["edges"] if h in (e["src"], e["dst"])]
        assert len(set(ends) & set(g["members"])) >= 2
    # the flagged group is one of the generator's planted shell clusters
    true_members = {entity_of_truth.get(x) for x in truth["shell_clusters"]["entity_id"].to_list()}
    assert len(set(g["members"]) & true_members) >= 0.8 * len(g["members"])


def test_cypher_read_only_limited_and_masked(wb):
    with pytest.raises(DashboardError, match="read-only"):
        wb.network.cypher("CREATE (n:Address {node_id: 'x'}) RETURN n")
    with pytest.raises(DashboardError, match="read-only"):
        wb.network.cypher("MATCH (n) DETACH DELETE n")
    with pytest.raises(DashboardError, match="not valid Cypher"):
        wb.network.cypher("MATCH (n RETURN n")
    with pytest.raises(DashboardError, match="type a Cypher"):
        wb.network.cypher("")
    # the graph holds no hash at all (issue 13): asking for one is an unknown property
    with pytest.raises(DashboardError, match="id_hash"):
        wb.network.cypher("MATCH (p:NaturalPerson) RETURN p.id_hash LIMIT 5")
    res = wb.network.cypher("MATCH (p:NaturalPerson)-[r:LEGAL_REP_OF]->(c:LegalPerson) RETURN p, r, c LIMIT 5")
    assert res.frame.height == 5
    assert all("id_hash" not in cell for cell in res.frame["p"].to_list())
    g = graph_from_result(res.frame)
    assert len(g["edges"]) == 5 and {e["type"] for e in g["edges"]} == {"LEGAL_REP_OF"}
    assert {e["src"] for e in g["edges"]} | {e["dst"] for e in g["edges"]} <= {n["node_id"] for n in g["nodes"]}
    limited = wb.network.cypher("MATCH (n:CreditRecord) RETURN n.node_id")
    assert limited.frame.height == wb.cfg.dashboard.cypher_row_limit or not limited.truncated


def test_review_decision_is_a_judgement_the_next_resolve_honours(city, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(city, ws)
    w = Workbench(_cfg(ws))
    queue = w.review.review_queue()
    assert queue.height >= 1, "the test city has no uncertain pair"
    pair = queue.row(0, named=True)
    left, right = w.review.mention(pair["left"]), w.review.mention(pair["right"])
    assert left["mention_id"] == pair["left"] and right["mention_id"] == pair["right"]
    with pytest.raises(DashboardError, match="who"):
        w.review.record_decision(pair["left"], pair["right"], "match", "", "same licence")
    w.review.record_decision(pair["left"], pair["right"], "match", "王调查员", "same licence number")
    after = w.review.review_queue()
    assert after.height == queue.height - 1
    assert after.filter((pl.col("left") == pair["left"]) & (pl.col("right") == pair["right"])).height == 0
    decided = w.review.review_queue(include_decided=True).filter(pl.col("left") == pair["left"])
    assert decided.filter(pl.col("right") == pair["right"])["decision"].to_list() == ["match"]
    j = pl.read_parquet(ws / "entities" / "judgements.parquet")
    assert j.select("decision", "who").row(-1) == ("match", "王调查员")

    from credgraph.resolution import load_resolution, resolve

    previous = load_resolution(ws / "entities")
    assert previous.judgements.height == 1
    records = pl.read_parquet(ws / "records" / "records.parquet")
    again = resolve(records, previous=previous, config=_cfg(ws).resolution)
    assert again.entity_of(pair["left"]) == again.entity_of(pair["right"])


def test_overview_pictures_add_up(wb):
    ov = wb.lists.overview()
    a = wb.analysis()
    assert ov["grades"]["enterprises"].sum() == a.grades.grades.height
    assert ov["risk"]["entities"].sum() == (a.risk.scores["risk"] > 0).sum()
    rec = a.net.records.filter(pl.col("date").is_not_null())
    assert ov["records"].drop("year").sum_horizontal().sum() == rec.height
    assert (ov["clusters"]["size"] * ov["clusters"]["clusters"]).sum() == a.shells.candidates["size"].sum()


# ----------------------------------------------------------------------- config and CLI
def test_config_round_trip():
    cfg = Config()
    cfg.workspace.path = "/x/y"
    cfg.analytics.sample_ratios = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    cfg.dashboard.port = 9999
    back = config_from_json(config_to_json(cfg))
    assert back.as_dict() == cfg.as_dict()


def test_server_command_line_is_local_headless_and_private():
    args = streamlit_args(8765)
    pairs = dict(zip(args[::2], args[1::2])) | dict(zip(args[1::2], args[2::2]))
    assert pairs["--server.address"] == "127.0.0.1" and pairs["--server.port"] == "8765"
    assert pairs["--server.headless"] == "true" and pairs["--browser.gatherUsageStats"] == "false"
    assert pairs["--client.showErrorDetails"] == "none"


def test_cli_refuses_a_workspace_without_graph(tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from credgraph.dashboard import cli

    app = typer.Typer()
    cli.register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command, so Typer keeps "dashboard" as a subcommand
        pass

    monkeypatch.setenv("CREDGRAPH_WORKSPACE__PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CREDGRAPH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["dashboard", "--port", "8799"])
    assert r.exit_code == 2
    assert "credgraph graph load" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["dashboard", "--backend", "sqlite"])
    assert r.exit_code == 2 and "embedded or neo4j" in r.output


def test_risk_sources_are_seeded_entities_with_paths_to_the_target(wb, city):
    a = wb.analysis()
    s = a.risk.scores
    target = s.filter(pl.col("received") > 0).sort("received", descending=True)["node_id"][0]
    p = wb.profiles.profile(target)
    src = p.sources
    assert src.height >= 1
    seeded = set(s.filter(pl.col("seed") > 0)["node_id"].to_list())
    assert set(src["source_id"].to_list()) <= seeded
    assert all(path[0] == sid and path[-1] == target for sid, path in zip(src["source_id"].to_list(),
                                                                         src["path"].to_list()))
    assert src["share"].sum() <= 1.0 + 1e-9
    # an entity nobody passes risk to has no sources
    calm = s.filter(pl.col("received") == 0)["node_id"]
    if calm.len():
        assert wb.profiles.risk_sources(calm[0], {"received": 0.0}).height == 0


def test_cli_serves_on_loopback_and_stops_with_its_server(city, tmp_path):
    """`credgraph dashboard` starts Streamlit on 127.0.0.1 and takes it down when stopped."""
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = ("import typer\nfrom credgraph.dashboard import cli\napp = typer.Typer()\ncli.register(app)\n"
              "@app.command('noop')\ndef noop():\n    pass\napp()\n")
    env = {**__import__("os").environ, "CREDGRAPH_WORKSPACE__PATH": str(city)}
    env.pop("CREDGRAPH_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-c", script, "dashboard", "--port", str(port)], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        from credgraph.dashboard import wait_until_up

        assert wait_until_up(port, 90, proc), proc.stdout.read().decode() if proc.poll() is not None else "no answer"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as r:
            assert r.status == 200
        # listening on the loopback interface only
        import psutil

        listening = [c for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port
                     and c.status == psutil.CONN_LISTEN]
        assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening)
        time.sleep(2)  # the command's own wait for the server ends and it says where it serves
        # SIGTERM: SIGINT may be ignored in a child of a non-interactive shell (Ctrl-C is the same path)
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode()
        assert f"http://127.0.0.1:{port}" in out and "Traceback" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
        except OSError:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the Streamlit server outlived the command")


def test_canvas_place_keeps_drawn_nodes_where_they_are_and_puts_new_ones_by_their_anchor():
    import math

    c = Canvas()
    c.add_nodes([{"node_id": "C", "label": "LegalPerson", "name": "C"}])
    c.centre = "C"
    c.add_nodes([{"node_id": f"a{i}", "label": "NaturalPerson", "name": f"a{i}"} for i in range(25)])
    c.add_edges([{"src": f"a{i}", "dst": "C", "type": "SHAREHOLDER_OF", "ratio": 0.04} for i in range(25)])
    assert c.place(anchor="C") == 26 and c.pos["C"] == (0.0, 0.0)
    before, version = dict(c.pos), c.version
    c.add_nodes([{"node_id": f"b{i}", "label": "LegalPerson", "name": f"b{i}"} for i in range(9)])
    c.add_edges([{"src": "a3", "dst": f"b{i}", "type": "LEGAL_REP_OF"} for i in range(9)])
    assert c.place(anchor="a3") == 9 and c.version > version
    assert all(c.pos[n] == p for n, p in before.items())  # what was drawn does not move
    near = [math.dist(c.pos[f"b{i}"], c.pos["a3"]) for i in range(9)]
    far = [math.dist(c.pos[f"b{i}"], c.pos["C"]) for i in range(9)]
    assert sum(near) < sum(far)  # the new nodes gather by the node expanded
    pts = list(c.pos.values())
    assert min(math.dist(p, q) for i, p in enumerate(pts) for q in pts[:i]) > 20  # none piled up
    el = c.elements("kind", {}, {})
    assert {n["data"]["id"]: (n["position"]["x"], n["position"]["y"]) for n in el["nodes"]} == c.pos
    c.remove_nodes(["b0"])
    assert "b0" not in c.pos and c.place() == 0


# ------------------------------------------------------------------ second edition (issue 16)
def _records_of(city: Path, entity_id: str) -> pl.DataFrame:
    """The loaded event records whose subject was resolved to ``entity_id`` (from the workspace's files)."""
    recs = pl.read_parquet(city / "records" / "records.parquet")
    a = pl.read_parquet(city / "entities" / "assignments.parquet").filter(pl.col("role") == "subject")
    return recs.join(a.select("record_id", "entity_id"), on="record_id").filter(
        (pl.col("entity_id") == entity_id) & (pl.col("kind") == "event"))


def test_search_tells_namesakes_apart_with_masked_ids(wb, truth, entity_of_truth):
    ents = truth["entities"].filter(pl.col("type") == "natural")
    shared = ents.group_by("name").agg(pl.col("entity_id"), pl.col("id_number")).filter(
        pl.col("entity_id").list.len() >= 2).sort("name").row(0, named=True)
    hits = wb.find.search(shared["name"], limit=200)
    by_id = {r["node_id"]: r for r in hits.iter_rows(named=True)}
    seen = 0
    for tid, pid in zip(shared["entity_id"], shared["id_number"]):
        nid = entity_of_truth.get(tid)
        if nid in by_id and pid:
            assert by_id[nid]["code"] == mask_id(pid)  # the masked ID tells them apart, never the full one
            assert by_id[nid]["type"] == "自然人"
            seen += 1
    assert seen >= 2
    assert not any(pid and pid in str(hits.to_dicts()) for pid in shared["id_number"])
    # a company: its legal representative and district as the generator made them
    rep = truth["relationships"].filter(pl.col("relation") == "legal_rep_of").row(3, named=True)
    firm = truth["entities"].filter(pl.col("entity_id") == rep["dst_id"]).row(0, named=True)
    person = truth["entities"].filter(pl.col("entity_id") == rep["src_id"]).row(0, named=True)
    row = wb.find.search(firm["uscc"]).row(0, named=True)
    assert row["node_id"] == entity_of_truth[firm["entity_id"]] and row["code"] == firm["uscc"]
    assert row["rep_name"] == person["name"]
    assert row["district"] and row["district"] in firm["address"]


def test_entry_boxes_resolve_names_codes_and_id_numbers(wb, truth, entity_of_truth):
    firm = truth["entities"].filter(pl.col("type") == "legal").row(5, named=True)
    assert wb.find.resolve(firm["uscc"])[0] == entity_of_truth[firm["entity_id"]]
    assert wb.find.resolve(entity_of_truth[firm["entity_id"]])[0] == entity_of_truth[firm["entity_id"]]
    person = truth["entities"].filter(pl.col("id_number").is_not_null() & (pl.col("type") == "natural"))
    hit = None
    for r in person.iter_rows(named=True):
        if r["entity_id"] in entity_of_truth and wb.node(entity_of_truth[r["entity_id"]]).get("id_masked") == mask_id(r["id_number"]):
            hit = r
            break
    assert hit is not None
    assert wb.find.resolve(hit["id_number"])[0] == entity_of_truth[hit["entity_id"]]
    namesakes = truth["entities"].filter(pl.col("type") == "natural").group_by("name").len().filter(
        pl.col("len") >= 2)["name"][0]
    found, cands = wb.find.resolve(namesakes)
    assert found is None and cands.height >= 2  # ambiguous: the user chooses
    with pytest.raises(DashboardError):
        wb.find.resolve("  ")


def test_profile_reads_like_a_credit_report(wb, truth, entity_of_truth, city):
    a = wb.analysis()
    # the firm with the most risk records of its own
    recs = pl.read_parquet(city / "records" / "records.parquet")
    asg = pl.read_parquet(city / "entities" / "assignments.parquet").filter(pl.col("role") == "subject")
    risky = (recs.filter(pl.col("event_type").is_in(["dishonest_debtor", "abnormal_operations", "penalty"])
                         & (pl.col("subject_type") == "legal"))
             .join(asg.select("record_id", "entity_id"), on="record_id").group_by("entity_id").len()
             .sort("len", "entity_id", descending=[True, False]))
    firm = risky["entity_id"][0]
    p = wb.profiles.profile(firm)
    own = _records_of(city, firm)
    risk_types = ("dishonest_debtor", "serious_illegal", "abnormal_operations", "tax_violation", "penalty",
                  "social_insurance_arrears")
    from credgraph.dashboard.labels import EVENT_LABELS

    active = (own.filter(pl.col("event_type").is_in(risk_types) & (pl.col("status").is_null() | (pl.col("status") == "active")))
              .group_by("event_type").len())
    want = {EVENT_LABELS[t]: n for t, n in active.iter_rows()}
    got = {r["event"]: r["count"] for r in p.risk_scan.filter(pl.col("category") == "自身风险").iter_rows(named=True)}
    assert got == want
    hist = own.filter(pl.col("event_type").is_in(risk_types) & pl.col("status").is_in(["expired", "repaired", "removed"]))
    assert p.risk_scan.filter(pl.col("category") == "历史风险")["count"].sum() == hist.height
    # header: the legal representative the registration names, the address, a masked phone
    reg = own.filter(pl.col("event_type") == "registration")
    legal_reps = set(recs.filter((pl.col("relation") == "legal_rep_of")).join(
        asg.select("record_id", "entity_id"), on="record_id").filter(pl.col("entity_id") == firm)["object_name"].to_list())
    assert p.header.get("法定代表人") in legal_reps
    if reg.height and reg["subject_address"][0]:
        assert p.header.get("注册地址")
    phone = p.header.get("联系电话", "")
    assert "*" in phone or phone == ""
    # reasons: in Chinese, naming the case numbers of the records behind them
    texts = " ".join(r["indicator"] + r["detail"] for r in p.reasons)
    assert not any(code in texts for code in ("dishonest_debtor", "no_staff", "rep_many_firms"))
    named = 0
    for ind, et in (("失信被执行人", "dishonest_debtor"), ("行政处罚", "penalty"), ("列入经营异常名录", "abnormal_operations")):
        detail = " ".join(r["detail"] for r in p.reasons if r["indicator"] == ind)
        if detail:  # the indicator cost points: its newest records are named (case number or authority and date)
            newest = own.filter(pl.col("event_type") == et).sort("date", descending=True).row(0, named=True)
            assert (newest["case_no"] or newest["authority"]) in detail and str(newest["date"]) in detail
            named += 1
    assert named >= 1
    # no amount anywhere in scientific notation
    from credgraph.dashboard.labels import fmt_amount

    assert all("e+" not in fmt_amount(x) for x in a.net.records["amount"].drop_nulls().to_list())


def test_inspection_list_is_field_ready_and_takes_uploads(wb, truth, entity_of_truth):
    rel = truth["relationships"].filter(pl.col("relation") == "legal_rep_of")
    rep_of = {entity_of_truth.get(d): s for s, d in zip(rel["src_id"], rel["dst_id"])}
    name_of = dict(zip(truth["entities"]["entity_id"], truth["entities"]["name"]))
    listing = wb.lists.inspection(5, 0.1)
    t = listing.targets
    assert {"legal_rep", "address", "district", "uscc"} <= set(t.columns)
    checked = 0
    for r in t.head(40).iter_rows(named=True):
        if r["node_id"] in rep_of and r["legal_rep"]:
            assert r["legal_rep"] == name_of[rep_of[r["node_id"]]]
            checked += 1
    assert checked >= 5
    # uploads: a past inspection by USCC (excluded), a complaint by name (drawn), a bad row (named)
    firms = truth["entities"].filter(pl.col("type") == "legal")
    past_firm = t.row(0, named=True)
    not_drawn = [r for r in firms.iter_rows(named=True)
                 if entity_of_truth.get(r["entity_id"]) not in set(t["node_id"].to_list())
                 and entity_of_truth.get(r["entity_id"]) in set(wb.analysis().grades.grades["node_id"].to_list())
                 and firms.filter(pl.col("name") == r["name"]).height == 1]
    comp = not_drawn[0]
    past_csv = f"统一社会信用代码,检查日期\n{past_firm['uscc']},{wb.analysis().as_of}\n91440300XXXXXXXXXX,2024-01-01\n".encode("utf-8-sig")
    past, bad = wb.lists.read_subjects(past_csv, "past.csv", "past")
    assert past["node_id"].to_list() == [past_firm["node_id"]]
    assert len(bad) == 1 and "past.csv row 3" in bad[0]
    comp_csv = f"名称,原因\n{comp['name']},群众举报无实际经营\n".encode("gb18030")
    complaints, bad2 = wb.lists.read_subjects(comp_csv, "c.csv", "complaints")
    assert bad2 == [] and complaints["node_id"].to_list() == [entity_of_truth[comp["entity_id"]]]
    again = wb.lists.inspection(5, 0.1, past=past, complaints=complaints).targets["node_id"].to_list()
    assert past_firm["node_id"] not in again and entity_of_truth[comp["entity_id"]] in again
    with pytest.raises(DashboardError, match="no column naming the firm"):
        wb.lists.read_subjects(b"foo,bar\n1,2\n", "x.csv", "past")


def test_shell_groups_per_firm_table_and_exports(wb):
    from credgraph.dashboard.data import frame_bytes_csv, frame_bytes_xlsx

    g = wb.lists.shell_groups().row(0, named=True)
    firms = wb.lists.shell_firms(g["group_id"])
    assert sorted(firms["node_id"].to_list()) == sorted(g["members"])
    from credgraph.analytics.shells import FIRM_FEATURES

    assert {*FIRM_FEATURES, "legal_rep", "address"} <= set(firms.columns)
    csv = frame_bytes_csv(firms)
    assert csv.startswith(b"\xef\xbb\xbf") and pl.read_csv(io.BytesIO(csv[3:])).height == firms.height
    x = frame_bytes_xlsx(firms)
    back = pl.read_excel(io.BytesIO(x), engine="openpyxl")
    assert back.height == firms.height and back["node_id"].to_list() == firms["node_id"].to_list()


def test_city_overview_by_district_industry_and_sources(wb, city, truth, entity_of_truth):
    by_d = wb.lists.city_by("district")
    firms = wb.analysis().grades.grades
    assert by_d["companies"].sum() == wb.analysis().net.nodes.filter(pl.col("label") == "LegalPerson").height
    assert by_d["graded"].sum() == firms.height
    grades = ["A+", "A", "B", "C", "D", "E"]
    assert (by_d.select(grades).sum_horizontal() == by_d["graded"]).all()
    # the district of a firm is the one in its registered address (the generator's truth)
    t = truth["entities"].filter((pl.col("type") == "legal") & pl.col("address").str.contains("区"))
    ctx = wb.find.context()
    checked = 0
    for r in t.head(60).iter_rows(named=True):
        got = ctx.filter(pl.col("node_id") == entity_of_truth.get(r["entity_id"], ""))
        if got.height and got["district"][0]:
            assert got["district"][0] in r["address"]
            checked += 1
    assert checked >= 20
    by_i = wb.lists.city_by("industry")
    assert by_i["companies"].sum() == by_d["companies"].sum()
    cov = wb.lists.coverage()
    report = json.loads((city / "records" / "load_report.json").read_text())
    assert cov["read"].sum() == sum(f["read"] for f in report["files"])
    assert (cov["read"] == cov["accepted"] + cov["quarantined"]).all()
    recs = pl.read_parquet(city / "records" / "records.parquet")
    newest = dict(recs.group_by("catalog").agg(pl.col("date").max()).iter_rows())
    assert all(newest.get(c) == d for c, d in zip(cov["catalog"], cov["newest_record"]))
    assert all(c in ("year",) or not c.isascii() for c in wb.lists.overview()["records"].columns)  # Chinese labels


def test_saved_investigation_round_trip_and_png(wb, tmp_path):
    from PIL import Image

    from credgraph.dashboard import investigations as inv

    page = wb.network.expand(wb.lists.shell_groups()["members"][0][0], 1, limit=25)
    c = Canvas()
    c.add_nodes(page["nodes"] + [{"node_id": wb.lists.shell_groups()["members"][0][0], "label": "LegalPerson",
                                  "name": "centre"}])
    c.add_edges(page["edges"])
    c.centre = wb.lists.shell_groups()["members"][0][0]
    c.place()
    path = inv.save(tmp_path, "太宁路 空壳群/1", c)
    assert path.parent == tmp_path / "investigations" and path.name == "太宁路_空壳群_1.json"
    assert inv.listing(tmp_path)[0]["name"] == "太宁路 空壳群/1"
    back = inv.load(tmp_path, "太宁路_空壳群_1")
    assert back.nodes == c.nodes and back.edges == c.edges and back.centre == c.centre
    assert {k: tuple(v) for k, v in back.pos.items()} == c.pos
    png = inv.canvas_png(back, wb.analysis().risk_of, wb.analysis().grade_of, title="太宁路")
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.width == 1600 and len(img.convert("RGB").getcolors(100_000) or []) > 20  # not blank
    with pytest.raises(inv.InvestigationError):
        inv.save(tmp_path, "  /// ", c)
    with pytest.raises(inv.InvestigationError):
        inv.load(tmp_path, "nope")


def test_profile_lists_measures_reaching_the_firm_and_its_legal_rep(wb, city):
    """A firm on the dishonest-debtor list (read from the loaded records, not from analytics) gets
    the entity measure with that case number; its legal representative gets the measure that
    reaches legal representatives, through that firm."""
    recs = pl.read_parquet(city / "records" / "records.parquet")
    asg = pl.read_parquet(city / "entities" / "assignments.parquet").filter(pl.col("role") == "subject")
    as_of = wb.analysis().as_of
    listed = (recs.filter((pl.col("event_type") == "dishonest_debtor") & (pl.col("subject_type") == "legal")
                          & (pl.col("status").is_null() | (pl.col("status") == "active"))
                          & (pl.col("end_date").is_null() | (pl.col("end_date") > as_of))
                          & (pl.col("date") <= as_of) & pl.col("case_no").is_not_null())
              .join(asg.select("record_id", "entity_id"), on="record_id").sort("entity_id"))
    assert listed.height > 0, "the test city has no firm on the dishonest-debtor list"
    firm, case_no = listed["entity_id"][0], listed["case_no"][0]
    m = wb.profiles.measures(firm)
    rows = [r for r in m.iter_rows(named=True) if r["措施 measure"].startswith("P-DD-01")]
    assert any(case_no in r["触发记录 record"] for r in rows), (case_no, m)
    reps = (recs.filter(pl.col("relation") == "legal_rep_of").join(asg.select("record_id", "entity_id"), on="record_id")
            .filter(pl.col("entity_id") == firm))
    rep_ids = set(pl.read_parquet(city / "entities" / "assignments.parquet")
                  .filter((pl.col("role") == "object") & pl.col("record_id").is_in(reps["record_id"].to_list()))["entity_id"])
    assert rep_ids, "the listed firm has no legal representative in the records"
    rep_rows = [r for r in wb.profiles.measures(sorted(rep_ids)[0]).iter_rows(named=True)
                if r["措施 measure"].startswith("P-DD-03")]
    assert any(case_no in r["触发记录 record"] for r in rep_rows)
    assert wb.profiles.grade_history(firm).columns[:3] == ["运行 run", "日期 as of", "等级 grade"]


def test_every_indicator_reads_in_chinese_on_the_profile():
    """Grade reasons name each indicator in Chinese: the label comes from the indicator file, so a
    new indicator without a label would show its code."""
    import re as _re

    from credgraph.analytics.indicators import load_indicators
    from credgraph.dashboard.labels import INDICATOR_LABELS

    names = [i.name for i in load_indicators()]
    assert len(names) >= 40
    missing = [n for n in names if not _re.search(r"[\u4e00-\u9fff]", INDICATOR_LABELS.get(n, n))]
    assert missing == []
