"""The data interface through a real uvicorn server (``credgraph serve`` in a subprocess) over a
small generated city; expected answers come from the city's ground truth and the catalog rows,
or from a full recompute of the analytics, never from the API itself."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import requests

from credgraph.config import load_config

CLI = [sys.executable, "-m", "credgraph.cli"]


def _run(env, cwd, *args, check=True) -> subprocess.CompletedProcess:
    p = subprocess.run(CLI + list(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


def _start_server(env: dict, root, log_name: str):
    """``credgraph serve`` on a free loopback port, waited for until /v1/health answers
    (its output in ``root/log_name``, shown if it does not start within 120 s)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(root / log_name, "w") as log:  # the server keeps its own copy of the file
        proc = subprocess.Popen(CLI + ["serve", "--port", str(port)], env=env, cwd=root, stdout=log,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    t0 = time.time()
    while True:
        try:
            if requests.get(base + "/v1/health", timeout=2).status_code == 200:
                return proc, base
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.time() - t0 > 120:
            proc.kill()
            raise AssertionError("server did not start: " + (root / log_name).read_text())
        time.sleep(0.3)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    ws = root / "workspace"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDGRAPH_")}
    # Small batch and chunk sizes, so the tests reach the batch limit and the chunked path.
    env.update(CREDGRAPH_WORKSPACE__PATH=str(ws), CREDGRAPH_API__MAX_BATCH="50", CREDGRAPH_API__MATCH_CHUNK="20")
    _run(env, root, "demo", "--entities", "600", "--seed", "7", "--workspace", str(ws))
    return root, ws, env


def _key(env, cwd, institution, *scopes) -> str:
    """A key made with the real CLI (which prints it once, on the last line)."""
    args = ["api-keys", "create", institution] + [x for s in scopes for x in ("--scope", s)]
    return _run(env, cwd, *args).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def server(city):
    from credgraph.api.db import ApiDB

    root, ws, env = city
    db = ApiDB(ws / "api" / "api.sqlite")
    keys = {
        "all": _key(env, root, "某银行 Bank", "public", "personal", "checks", "reports", "repair", "review"),
        "public": db.create_key("公共资源交易中心", ["public"])[1],
        "applicant": db.create_key("企业服务窗口", ["public", "repair"])[1],
        "slow": db.create_key("限速机构", ["public"], rate_per_minute=3)[1],
        "quota": db.create_key("配额机构", ["public"], daily_quota=2)[1],
        "revoked": db.create_key("已撤销机构", ["public", "reports"])[1],
        "reporter": db.create_key("征信机构", ["public", "reports"])[1],
    }
    db.close()
    _run(env, root, "api-keys", "revoke", keys["revoked"].split("_")[1])
    proc, base = _start_server(env, root, "serve.log")
    yield {"base": base, "keys": keys, "ws": ws, "root": root, "env": env}
    proc.terminate()
    proc.wait(15)


def _h(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _problem(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["detail"]
    return body


@pytest.fixture(scope="module")
def truth(city):
    """The city's true firms, people and relations, and the catalog rows."""
    _, ws, _ = city
    t = ws / "raw" / "truth"
    return {"entities": pl.read_parquet(t / "entities.parquet"), "rels": pl.read_parquet(t / "relationships.parquet"),
            "records": pl.read_parquet(ws / "records" / "records.parquet")}


def _firm_with_listed_rep(truth, as_of) -> tuple[dict, dict, dict]:
    """A firm on the court's dishonest-debtor list (active as of ``as_of``), its true legal
    representative, and the court's row — all from the city's truth and catalog files."""
    return _listed_firms_with_reps(truth, as_of)[0]


def _listed_firms_with_reps(truth, as_of) -> list[tuple[dict, dict, dict]]:
    """Every (firm, legal representative, court row) as in :func:`_firm_with_listed_rep`."""
    ents, rels, recs = truth["entities"], truth["rels"], truth["records"]
    court = recs.filter((pl.col("catalog") == "COURT_DISHONEST") & (pl.col("subject_type") == "legal")
                        & (pl.col("status") == "active") & pl.col("subject_uscc").is_not_null()
                        & (pl.col("end_date").is_null() | (pl.col("end_date") >= as_of)) & (pl.col("date") <= as_of))
    firms = ents.filter(pl.col("type") == "legal")
    out = []
    for row in court.iter_rows(named=True):
        f = firms.filter(pl.col("uscc") == row["subject_uscc"])
        if f.height != 1:
            continue
        rep = rels.filter((pl.col("dst_id") == f["entity_id"][0]) & (pl.col("relation") == "legal_rep_of"))
        if rep.height != 1:
            continue
        person = ents.filter(pl.col("entity_id") == rep["src_id"][0]).row(0, named=True)
        if person["id_number"]:
            out.append((f.row(0, named=True), person, row))
    if not out:
        pytest.fail("the city has no dishonest-debtor firm with a known legal representative")
    return out


def _as_of(server) -> "object":
    import datetime as dt

    return dt.date.fromisoformat(requests.get(server["base"] + "/v1/health").json()["as_of"])


def _entity_id_of_uscc(server, uscc: str) -> str:
    r = requests.post(server["base"] + "/v1/match", headers=_h(server["keys"]["all"]),
                      json={"queries": {"q": {"type": "legal", "uscc": uscc}}})
    assert r.status_code == 200, r.text
    res = r.json()["responses"]["q"]
    assert res["decision"] == "match", res
    return res["candidates"][0]["entity_id"]


# ------------------------------------------------------------------------------------------ keys
def test_missing_wrong_revoked_and_wrong_scope_keys_are_refused(server, truth):
    b, k = server["base"], server["keys"]
    firm, person, _ = _firm_with_listed_rep(truth, _as_of(server))
    eid = _entity_id_of_uscc(server, firm["uscc"])
    assert "Bearer" in _problem(requests.get(f"{b}/v1/entities/{eid}"), 401)["detail"]
    assert "unknown" in _problem(requests.get(f"{b}/v1/entities/{eid}", headers=_h(k["all"][:-3] + "xyz")), 401)["detail"]
    assert "revoked" in _problem(requests.get(f"{b}/v1/entities/{eid}", headers=_h(k["revoked"])), 401)["detail"]
    assert "'reports'" in _problem(requests.get(f"{b}/v1/entities/{eid}/report.pdf", headers=_h(k["public"])), 403)["detail"]
    assert "'checks'" in _problem(requests.post(f"{b}/v1/checks", headers=_h(k["public"]),
                                                json={"subjects": [{"name": "x"}]}), 403)["detail"]
    # A natural person's data needs the personal scope.
    ent = requests.get(f"{b}/v1/entities/{eid}", headers=_h(k["public"])).json()
    rep = [x for x in ent["related"] if x["rel_type"] == "LEGAL_REP_OF"][0]["id"]
    assert "'personal'" in _problem(requests.get(f"{b}/v1/entities/{rep}", headers=_h(k["public"])), 403)["detail"]
    assert "'personal'" in _problem(requests.get(f"{b}/v1/entities/{rep}/report.pdf", headers=_h(k["reporter"])), 403)["detail"]
    assert requests.get(f"{b}/v1/entities/{eid}/report", headers=_h(k["reporter"])).status_code == 200
    r = requests.get(f"{b}/v1/entities/{rep}", headers=_h(k["all"]))
    assert r.status_code == 200
    masked = r.json()["identity"]["id_number"]
    assert "*" in masked and masked[:6] == person["id_number"][:6] and person["id_number"] not in r.text


def test_bad_requests_get_clear_4xx(server):
    b, h = server["base"], _h(server["keys"]["all"])
    p = _problem(requests.post(f"{b}/v1/match", headers={**h, "content-type": "application/json"}, data=b'{"queries": {'), 400)
    assert p["title"] == "Malformed JSON"
    p = _problem(requests.post(f"{b}/v1/match", headers=h, json={"queries": {f"q{i}": {"name": "甲"} for i in range(51)}}), 413)
    assert "51 queries" in p["detail"] and "at most 50" in p["detail"]
    p = _problem(requests.post(f"{b}/v1/match", headers=h, json={"queries": {"a": {"name": "甲", "colour": "red"}}}), 422)
    assert "colour" in p["detail"]
    # A bad example deep in a batch is named by its place in the caller's batch.
    q = {f"q{i}": {"type": "legal", "name": "甲"} for i in range(45)}
    q["q44"] = {"type": "legal", "name": "甲", "colour": "red"}
    p = _problem(requests.post(f"{b}/v1/match", headers=h, json={"queries": q}), 422)
    assert p["detail"].startswith("example 45:") and "colour" in p["detail"]
    p = _problem(requests.post(f"{b}/v1/checks", headers=h, json={
        "subjects": [{"name": "甲"}], "measures": [{"id": "X1", "name": "n", "kind": "punishment", "legal_basis": "b",
                                                  "bodies": ["x"], "trigger_types": ["penalty"], "reach": ["entity"],
                                                  "triggers": ["penalty"]}]}), 422)
    assert "measure 1 (X1)" in p["detail"] and "'triggers'" in p["detail"]
    p = _problem(requests.post(f"{b}/v1/checks", headers=h, json={
        "subjects": [{"name": "甲"}], "measures": [{"id": "X1", "name": "n", "kind": "punishment", "legal_basis": "b",
                                                  "bodies": ["x"], "trigger_types": ["penalty"], "reach": ["spouse"]}]}), 422)
    assert "'spouse'" in p["detail"]
    p = _problem(requests.get(f"{b}/v1/entities/L-NOT-THERE", headers=h), 404)
    assert "L-NOT-THERE" in p["detail"]
    p = _problem(requests.post(f"{b}/v1/match", headers=h, json={"queries": {}, "limt": 3}), 422)
    assert "limt" in p["detail"]
    big = json.dumps({"queries": {"a": {"name": "x" * 2_100_000}}})
    assert "bytes" in _problem(requests.post(f"{b}/v1/match", headers={**h, "content-type": "application/json"}, data=big), 413)["detail"]
    assert "/v1/nothing" in _problem(requests.get(f"{b}/v1/nothing", headers=h), 404)["detail"]


def test_rate_limit_and_daily_quota_answer_429_with_retry_after(server):
    b, k = server["base"], server["keys"]
    codes = [requests.get(f"{b}/v1/measures", headers=_h(k["slow"])) for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert 1 <= int(codes[-1].headers["Retry-After"]) <= 61
    codes = [requests.get(f"{b}/v1/measures", headers=_h(k["quota"])) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert "daily quota of 2" in codes[-1].json()["detail"] and int(codes[-1].headers["Retry-After"]) > 0


# ------------------------------------------------------------------------------------------ match, entities, checks
def test_match_finds_firms_by_code_and_by_a_name_variant(server, truth):
    b, h = server["base"], _h(server["keys"]["all"])
    firms = truth["entities"].filter((pl.col("type") == "legal") & pl.col("uscc").is_not_null()).head(5)
    q = {f"u{i}": {"type": "legal", "uscc": r["uscc"]} for i, r in enumerate(firms.iter_rows(named=True))}
    res = requests.post(f"{b}/v1/match", headers=h, json={"queries": q, "limit": 3}).json()["responses"]
    for i, r in enumerate(firms.iter_rows(named=True)):
        got = res[f"u{i}"]
        assert got["decision"] == "match", got
        ent = requests.get(f"{b}/v1/entities/{got['candidates'][0]['entity_id']}", headers=h).json()
        assert ent["identity"]["uscc"] == r["uscc"]
        assert got["candidates"][0]["features"], "each candidate explains its score field by field"
    nothing = requests.post(f"{b}/v1/match", headers=h, json={"queries": {"z": {"type": "legal", "name": "完全不存在的某某某有限公司"}}})
    assert nothing.json()["responses"]["z"]["decision"] in ("no_match", "ambiguous")
    assert nothing.json()["responses"]["z"]["decision"] != "match"


def test_check_on_a_listed_firms_legal_representative_returns_measures_reaching_persons(server, truth):
    b, h = server["base"], _h(server["keys"]["all"])
    cases = _listed_firms_with_reps(truth, _as_of(server))
    r = requests.post(f"{b}/v1/checks", headers=h, json={"subjects": [
        x for firm, person, _ in cases for x in (
            {"type": "natural", "name": person["name"], "id_number": person["id_number"]},
            {"type": "legal", "name": firm["name"], "uscc": firm["uscc"]})]})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    for k, (firm, person, court) in enumerate(cases):
        rep_res = res[2 * k]
        if rep_res["decision"] != "match":  # e.g. a person the resolver left in two entities
            assert rep_res["measures"] == [] and rep_res["candidates"], "an ambiguous match gets no measure"
            continue
        break
    else:
        pytest.fail(f"none of the {len(cases)} listed firms' legal representatives was matched on name and ID number")
    firm_res = res[2 * k + 1]
    assert rep_res["entity"]["name"] == person["name"]
    by_id = {m["id"]: m for m in rep_res["measures"]}
    # The sample catalogue: P-DD-02 (high consumption) and P-DD-03 reach the legal representative;
    # P-DD-01 (procurement) reaches only the listed entity itself: the person only through a list
    # entry of their own, never through the firm.
    assert {"P-DD-02", "P-DD-03"} <= set(by_id)
    for x in by_id.get("P-DD-01", {"records": []})["records"]:
        assert x["reach"] == ["entity"] and x["owner_id"] == rep_res["entity"]["id"]
    rec = [x for x in by_id["P-DD-02"]["records"] if x["case_no"] == court["case_no"]]
    assert rec and "legal_rep" in rec[0]["reach"] and rec[0]["event_type"] == "dishonest_debtor"
    assert by_id["P-DD-02"]["kind"] == "punishment" and by_id["P-DD-02"]["legal_basis"]
    assert firm_res["decision"] == "match"
    assert "P-DD-01" in {m["id"] for m in firm_res["measures"]}
    assert person["id_number"] not in r.text  # nothing personal comes back in clear


# ------------------------------------------------------------------------------------------ reports
def test_pdf_report_embeds_a_cjk_font_and_verifies(server, truth):
    b, h = server["base"], _h(server["keys"]["all"])
    firm, _, court = _firm_with_listed_rep(truth, _as_of(server))
    eid = _entity_id_of_uscc(server, firm["uscc"])
    r = requests.get(f"{b}/v1/entities/{eid}/report.pdf", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf and b"WenQuanYi" in pdf
    number, digest = r.headers["X-Report-Number"], r.headers["X-Report-Hash"]
    v = requests.get(f"{b}/v1/reports/{number}/verify", params={"hash": digest}, headers=h).json()
    assert v == {**v, "issued": True, "entity_id": eid, "hash_matches": True}
    assert requests.get(f"{b}/v1/reports/{number}/verify", params={"hash": "0" * 64}, headers=h).json()["hash_matches"] is False
    _problem(requests.get(f"{b}/v1/reports/CGR-NOPE/verify", headers=h), 404)
    j = requests.get(f"{b}/v1/entities/{eid}/report", headers=h).json()
    assert j["basic"]["uscc"] == firm["uscc"] and j["basic"]["name"]
    assert court["case_no"] in [x["case_no"] for x in j["records"]["dishonest_debtor"]]
    from credgraph.analytics.report import report_hash

    assert report_hash(j) == j["verification_hash"]


# ------------------------------------------------------------------------------------------ repair
def test_repair_changes_exactly_the_grades_it_should_and_is_in_the_change_feed(server, city):
    from credgraph.analytics.frames import load_frames
    from credgraph.analytics.grading import grade_enterprises
    from credgraph.analytics.network import CreditNetwork, resolve_as_of

    b, k = server["base"], server["keys"]
    root, ws, env = city
    cfg = load_config(None, env=env)
    nodes, edges = load_frames(cfg)
    net = CreditNetwork.from_frames(nodes, edges)
    as_of = resolve_as_of(net, None)
    g0 = grade_enterprises(net, cfg.analytics, as_of)
    before = g0.grades.select("node_id", "grade", "score")
    # A repair grades against the cut points in force; the next full grading re-calibrates them.
    fixed = dataclasses.replace(cfg.analytics, grade_method="cuts", grade_cuts=tuple(g0.cuts))
    # An active serious-illegal record of an enterprise (grade E by veto): its repair must move grades.
    rec = net.records.filter((pl.col("event_type") == "serious_illegal") & (pl.col("status") == "active")
                             & (pl.col("end_date").is_null() | (pl.col("end_date") >= as_of))
                             & pl.Series(net.legal_mask[net.records["owner"].to_numpy()]))
    rec = rec.filter(pl.col("owner_id").is_in(before.filter(pl.col("grade") == "E")["node_id"].to_list()))
    assert rec.height, "the city has no active serious-illegal record"
    # Prefer an owner whose only veto record this is, so its grade must leave E.
    counts = rec.group_by("owner_id").len()
    owner = counts.filter(pl.col("len") == 1)["owner_id"][0] if (counts["len"] == 1).any() else counts["owner_id"][0]
    record_id = rec.filter(pl.col("owner_id") == owner)["record_node"][0]
    # The oracle: a full recompute over the network with that record repaired.
    net2 = dataclasses.replace(net, records=net.records.with_columns(
        pl.when(pl.col("record_node") == record_id).then(pl.lit("repaired")).otherwise(pl.col("status")).alias("status")))
    after = grade_enterprises(net2, fixed, as_of).grades.select("node_id", "grade", "score")
    diff = before.join(after, on="node_id", suffix="_after").filter(
        (pl.col("grade") != pl.col("grade_after")) | ((pl.col("score") - pl.col("score_after")).abs() > 0.011))
    expected = {r["node_id"]: (r["grade_after"], r["score_after"]) for r in diff.iter_rows(named=True)}
    assert owner in expected

    since = requests.get(f"{b}/v1/changes", headers=_h(k["public"])).json()["next"] or "0"
    app = requests.post(f"{b}/v1/repairs", headers=_h(k["applicant"]), json={
        "entity_id": owner, "record_id": record_id, "reason": "已履行全部义务并完成整改", "evidence": "整改报告及缴款凭证"})
    assert app.status_code == 201, app.text
    rid = app.json()["id"]
    assert "'review'" in _problem(requests.post(f"{b}/v1/repairs/{rid}/approve", headers=_h(k["applicant"]), json={}), 403)["detail"]
    assert requests.post(f"{b}/v1/repairs/{rid}/review", headers=_h(k["all"]), json={"note": "受理"}).json()["status"] == "under_review"
    ok = requests.post(f"{b}/v1/repairs/{rid}/approve", headers=_h(k["all"]), json={"note": "同意修复"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert [x["action"] for x in ok.json()["history"]] == ["applied", "review", "approve"]
    _problem(requests.post(f"{b}/v1/repairs/{rid}/approve", headers=_h(k["all"]), json={}), 409)

    ch = requests.get(f"{b}/v1/changes", params={"since": since}, headers=_h(k["public"])).json()["changes"]
    grades = {c["entity_id"]: (c["grade"], c["score"]) for c in ch if c["kind"] == "grade"}
    assert grades.keys() == expected.keys()
    for e, (g, sc) in grades.items():
        assert g == expected[e][0] and abs(sc - expected[e][1]) <= 0.011, (e, g, sc, expected[e])
    assert any(c["kind"] == "record" and c["record_id"] == record_id and c["status"] == "repaired" for c in ch)
    assert [c["status"] for c in ch if c["kind"] == "repair"] == ["pending", "under_review", "approved"]
    ent = requests.get(f"{b}/v1/entities/{owner}", headers=_h(k["all"])).json()
    assert ent["grade"]["grade"] == expected[owner][0]
    assert record_id not in json.dumps(ent["active_records"])
    rep = requests.get(f"{b}/v1/entities/{owner}/report", headers=_h(k["all"])).json()
    assert rep["repairs"][0]["status"] == "approved"
    # A repaired record cannot be repaired again.
    _problem(requests.post(f"{b}/v1/repairs", headers=_h(k["applicant"]), json={
        "entity_id": owner, "record_id": record_id, "reason": "again", "evidence": "none"}), 409)


# ------------------------------------------------------------------------------------------ audit, usage, docs, CLI
def test_every_call_is_audited_without_personal_data_and_usage_is_counted(server, truth):
    from credgraph.security.audit import read_events, verify

    b, k = server["base"], server["keys"]
    _, person, _ = _firm_with_listed_rep(truth, _as_of(server))
    requests.post(f"{b}/v1/match", headers=_h(k["public"]), json={"queries": {"p": {"name": person["name"], "id_number": person["id_number"]}}})
    requests.get(f"{b}/v1/entities/NOPE", headers=_h(k["public"]))
    requests.get(f"{b}/v1/entities/NOPE")
    time.sleep(0.5)
    log = server["ws"] / "audit" / "audit.jsonl"
    assert verify(log).ok
    ev = [e for e in read_events(log) if e["action"] == "api_call"]
    pub = k["public"].split("_")[1]
    assert any(e["actor"] == pub and e["detail"]["endpoint"] == "/v1/match" and e["detail"]["status"] == 200 for e in ev)
    assert any(e["actor"] == pub and e["target"] == "NOPE" and e["detail"]["status"] == 404 for e in ev)
    assert any(e["actor"] == "anonymous" and e["detail"]["status"] == 401 for e in ev)
    assert person["id_number"] not in log.read_text(encoding="utf-8")
    u = requests.get(f"{b}/v1/usage", headers=_h(k["public"])).json()
    calls = {x["endpoint"]: x["calls"] for x in u["usage"]}
    assert calls["POST /v1/match"] >= 1 and calls["GET /v1/entities/{entity_id}"] >= 1
    out = _run(server["env"], server["root"], "api-keys", "list").stdout
    assert "公共资源交易中心" in out and "revoked" in out


def test_docs_are_served_without_a_cdn(server):
    b = server["base"]
    html = requests.get(f"{b}/docs").text
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    js = [x.split('"')[0] for x in html.split('src="')[1:]]
    assert js and all(requests.get(b + u).status_code == 200 for u in js)
    spec = requests.get(f"{b}/openapi.json").json()
    assert {"/v1/match", "/v1/checks", "/v1/entities/{entity_id}/report.pdf", "/v1/changes"} <= set(spec["paths"])


def test_cli_report_and_catalogue_validation(server, truth, tmp_path):
    firm, _, _ = _firm_with_listed_rep(truth, _as_of(server))
    eid = _entity_id_of_uscc(server, firm["uscc"])
    out = tmp_path / "r.pdf"
    p = _run(server["env"], server["root"], "report", eid, "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF") and "hash" in p.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[[measure]]\nid = "M1"\nname = "n"\nkind = "fine"\nlegal_basis = "b"\nbodies = ["x"]\n'
                   'trigger_types = ["penalty"]\nreach = ["entity"]\n', encoding="utf-8")
    p = _run(server["env"], server["root"], "measures", "validate", str(bad), check=False)
    assert p.returncode == 2 and "measure 1 (M1)" in p.stderr and "'kind'" in p.stderr and "Traceback" not in p.stderr


def test_connect_answers_read_only_cypher_as_pandas(server):
    import credgraph

    with credgraph.connect(workspace=str(server["ws"]), config=None) as g:
        df = g.query("MATCH (c:LegalPerson) RETURN count(c) AS n")
        from credgraph.graph import QueryError

        with pytest.raises(QueryError):
            g.query("CREATE (x:LegalPerson {node_id: 'x'})")
    from credgraph.analytics.frames import load_frames

    cfg = load_config(None, env=server["env"])
    nodes, _ = load_frames(cfg)
    assert type(df).__module__.startswith("pandas")
    assert int(df["n"].iloc[0]) == nodes.filter(pl.col("label") == "LegalPerson").height


def test_concurrent_single_matches_each_get_their_own_answer(server, truth):
    """Concurrent small requests are matched together; each must still get its own results, and
    a bad example must fail only the request that sent it."""
    from concurrent.futures import ThreadPoolExecutor

    b, h = server["base"], _h(server["keys"]["all"])
    firms = truth["entities"].filter((pl.col("type") == "legal") & pl.col("uscc").is_not_null()).head(24)

    def ask(r):
        if r is None:
            return requests.post(f"{b}/v1/match", headers=h, json={"queries": {"x": {"type": "legal", "name": "甲", "size": 3}}})
        return requests.post(f"{b}/v1/match", headers=h, json={"queries": {"x": {"type": "legal", "uscc": r["uscc"]}}})

    rows = list(firms.iter_rows(named=True))
    jobs = rows[:12] + [None] + rows[12:]
    with ThreadPoolExecutor(13) as ex:
        answers = list(ex.map(ask, jobs))
    for r, a in zip(jobs, answers):
        if r is None:
            assert a.status_code == 422 and "size" in a.json()["detail"]
            continue
        assert a.status_code == 200, a.text
        best = a.json()["responses"]["x"]["candidates"][0]["entity_id"]
        assert requests.get(f"{b}/v1/entities/{best}", headers=h).json()["identity"]["uscc"] == r["uscc"]


def test_render_report_pdf_for_the_dashboard(server, truth):
    """render_report_pdf(cfg, id): the numbered PDF the API serves; a person's only when allowed."""
    from credgraph.analytics.report import render_report_pdf
    from credgraph.api.service import Forbidden

    firm, _, _ = _firm_with_listed_rep(truth, _as_of(server))
    eid = _entity_id_of_uscc(server, firm["uscc"])
    cfg = load_config(None, env=server["env"])
    pdf = render_report_pdf(cfg, eid)
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf
    rep = [x for x in requests.get(f"{server['base']}/v1/entities/{eid}", headers=_h(server["keys"]["all"])).json()["related"]
           if x["rel_type"] == "LEGAL_REP_OF"][0]["id"]
    with pytest.raises(Forbidden):
        render_report_pdf(cfg, rep)
    assert render_report_pdf(cfg, rep, personal=True).startswith(b"%PDF")


# ------------------------------------------------------------------------------------------ lanes
@pytest.fixture(scope="module")
def big_server(city, server):
    """A second server over the same city that takes batches of 1,000 names and matches a batch
    in one Matcher call (``match_chunk`` 1,000), so a single match that had to wait for a batch
    would wait for all of it. ``api.match_lanes`` is 2 (the default) unless CG_TEST_MATCH_LANES
    says otherwise (1 shows this test failing without a lane for single matches)."""
    root, ws, env = city
    env = {**env, "CREDGRAPH_API__MAX_BATCH": "1000", "CREDGRAPH_API__MATCH_CHUNK": "1000",
           "CREDGRAPH_API__MATCH_LANES": os.environ.get("CG_TEST_MATCH_LANES", "2")}
    proc, base = _start_server(env, root, "serve_big.log")
    yield base
    proc.terminate()
    proc.wait(15)


def test_single_matches_are_answered_while_a_1000_name_batch_runs(big_server, server, truth):
    """Single matches have a matcher worker of their own: sent one after another while a batch of
    1,000 names is being matched, they are answered (correctly) before the batch is; with one
    worker they would wait for the batch's whole Matcher call."""
    import threading

    b, h = big_server, _h(server["keys"]["all"])
    listed = truth["records"].filter(pl.col("subject_type") == "legal")["subject_uscc"].drop_nulls().unique()
    firms = truth["entities"].filter((pl.col("type") == "legal") & pl.col("uscc").is_in(listed.implode())
                                     & pl.col("name").is_not_null())  # firms the catalogs name: resolved
    rows = list(firms.iter_rows(named=True))
    queries = {f"q{i}": {"type": "legal", "name": rows[i % len(rows)]["name"]} for i in range(1000)}
    batch: dict = {}

    def send_batch():
        batch["r"] = requests.post(f"{b}/v1/match", headers=h, json={"queries": queries}, timeout=120)
        batch["end"] = time.perf_counter()

    # Warm both workers (first calls load code paths), then race singles against a batch.
    assert requests.post(f"{b}/v1/match", headers=h, json={"queries": dict(list(queries.items())[:100])}).ok
    th = threading.Thread(target=send_batch)
    start = time.perf_counter()
    th.start()
    singles = []  # (answered before the batch?, seconds, firm, answer)
    k = 0
    while th.is_alive() and k < 400:
        firm = rows[k % len(rows)]
        k += 1
        t = time.perf_counter()
        r = requests.post(f"{b}/v1/match", headers=h, json={"queries": {"x": {"type": "legal", "uscc": firm["uscc"]}}})
        t1 = time.perf_counter()
        singles.append(("end" not in batch, t1 - t, firm, r))
    th.join()
    assert batch["r"].status_code == 200, batch["r"].text
    assert len(batch["r"].json()["responses"]) == 1000
    batch_s = batch["end"] - start
    during = [s for s in singles if s[0]]
    assert len(during) >= 5, (f"only {len(during)} single matches were answered during a {batch_s:.2f} s batch: "
                              "singles wait behind the batch")
    assert sorted(s[1] for s in during)[len(during) // 2] < batch_s / 4
    for _, _, firm, r in singles:
        assert r.status_code == 200, r.text
        got = r.json()["responses"]["x"]
        assert got["decision"] == "match", (firm["uscc"], got)
        best = got["candidates"][0]["entity_id"]
        assert requests.get(f"{b}/v1/entities/{best}", headers=h).json()["identity"]["uscc"] == firm["uscc"]
