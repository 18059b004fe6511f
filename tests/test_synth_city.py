"""The synthetic city: its files say what the ground truth says they say.

A small city is generated with heavy noise and every written row is checked against the
truth: identifiers validate unless the row is tagged as broken, noise tags describe the
text that is really in the file, every row's parties are in truth/mentions.parquet, and
the planted structures (branches, shell clusters, holding chains, violators) are real.
"""

from __future__ import annotations

import unicodedata

import json
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import openpyxl
import opencc
import polars as pl
import pytest

from credgraph.identifiers import (
    id_from_15,
    id_is_valid,
    is_masked,
    masked_id_compatible,
    org_code_is_valid,
    reg_no_is_valid,
    uscc_is_valid,
)
from credgraph.records import EVENT_STATUSES, FIELD_NAMES, IDENTIFIER_SCHEMES, RELATIONS
from credgraph.synth import CATALOGS, NOISE_TAGS, generate_city

NAME_TAGS = {"traditional", "fullwidth", "bracket_region", "missing_region", "form_variant", "homophone"}
ID_FIELDS = ("uscc", "org_code", "reg_no", "id_number")
T2S = opencc.OpenCC("t2s")
HALFWIDTH = str.maketrans({"（": "(", "）": ")"} | {chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
                          | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)})


# ----------------------------------------------------------------------------- reading
def read_catalog(spec_path: Path) -> tuple[dict, pl.DataFrame]:
    """A generated catalog as all-text columns, read the way its spec declares it."""
    spec = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    path = spec_path.parent / spec["file"]
    fmt = spec["format"]
    if fmt in ("csv", "tsv"):
        text = path.read_bytes().decode(spec["encoding"])  # strict: the declared encoding must be right
        frame = pl.read_csv(text.encode("utf-8"), separator="\t" if fmt == "tsv" else ",", infer_schema=False)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        keys = list(rows[0])
        frame = pl.DataFrame({k: [None if r[k] is None else str(r[k]) for r in rows] for k in keys},
                             schema={k: pl.Utf8 for k in keys})
    else:
        ws = openpyxl.load_workbook(path, read_only=True)[spec.get("sheet", "Sheet1")]
        it = ws.iter_rows(values_only=True)
        header = next(it)
        rows = list(it)
        frame = pl.DataFrame({h: [None if r[i] is None else str(r[i]) for r in rows] for i, h in enumerate(header)},
                             schema={h: pl.Utf8 for h in header})
    return spec, frame


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "city"
    # Heavy noise so that every kind shows up in a small city; small chunks so files are appended.
    # Only the court and tax-violation lists carry organisation codes, and few of their rows are old
    # firms: legacy identifiers are made common there so that some are written whatever the draws.
    legacy = {"subject.legacy_id": 0.3}
    summary = generate_city(out, entities=600, seed=11, noise=3.0, chunk_rows=150,
                            rates={"COURT_DISHONEST": legacy, "TAX_VIOLATION": legacy})
    truth = {n: pl.read_parquet(out / "truth" / f"{n}.parquet")
             for n in ("mentions", "entities", "relationships", "shell_clusters", "violators")}
    catalogs = {p.stem: read_catalog(p) for p in sorted((out / "specs").glob("*.toml"))}
    return summary, truth, catalogs


@pytest.fixture(scope="module")
def mentions(city):
    """Every mention joined with what its row says about that party and the true entity."""
    _, truth, catalogs = city
    ent = {r["entity_id"]: r for r in truth["entities"].iter_rows(named=True)}
    by_key = {(r["source_file"], r["source_row"], r["role"]): r for r in truth["mentions"].iter_rows(named=True)}
    out = []
    for code, (spec, frame) in catalogs.items():
        file = Path(spec["file"]).name
        cols = spec["columns"]
        for i, row in enumerate(frame.iter_rows(named=True), start=1):
            for role in ("subject", "object"):
                name_col = cols.get(f"{role}_name")
                if name_col is None:
                    continue
                m = by_key.get((file, i, role))
                written = {f: row[cols[f"{role}_{f}"]] for f in ("name", *ID_FIELDS) if f"{role}_{f}" in cols}
                out.append(dict(code=code, file=file, row=i, role=role, mention=m, written=written,
                                truth=ent[m["entity_id"]] if m else None,
                                tags=set(filter(None, m["noise"].split(","))) if m else set()))
    return out


# ----------------------------------------------------------------------------- tests
def test_every_row_has_its_mentions(city, mentions):
    summary, truth, catalogs = city
    assert set(catalogs) == {c.code for c in CATALOGS}
    for code, (_, frame) in catalogs.items():
        assert frame.height == summary.counts[code] > 0, code
    for m in mentions:
        has_party = m["written"]["name"] is not None
        assert (m["mention"] is not None) == has_party, (m["file"], m["row"], m["role"])
        if m["role"] == "subject":
            assert has_party
    # No mention points at a row that is not in the file.
    assert truth["mentions"].height == sum(m["mention"] is not None for m in mentions)
    ids = set(truth["entities"]["entity_id"])
    assert set(truth["mentions"]["entity_id"]) <= ids
    # Every entity is seen in some catalog (persons outside firms hold a licence).
    assert set(truth["mentions"]["entity_id"]) == ids


def test_identifiers_validate_unless_tagged(mentions):
    seen = Counter()
    for m in mentions:
        if m["mention"] is None:
            continue
        w, t, tags = m["written"], m["truth"], m["tags"]
        where = (m["file"], m["row"], m["role"], w)
        if w.get("uscc"):
            if "transposed" in tags:
                assert not uscc_is_valid(w["uscc"]) and sorted(w["uscc"]) == sorted(t["uscc"]), where
                seen["uscc transposed"] += 1
            else:
                assert uscc_is_valid(w["uscc"]) and w["uscc"] == t["uscc"], where
                seen["uscc"] += 1
        if w.get("org_code"):
            assert org_code_is_valid(w["org_code"]) and w["org_code"] == t["org_code"], where
            assert "legacy_id" in tags and not w.get("uscc"), where
            seen["org_code"] += 1
        if w.get("reg_no"):
            assert reg_no_is_valid(w["reg_no"]) and w["reg_no"] == t["reg_no"], where
            seen["reg_no"] += 1
        if w.get("id_number"):
            v = w["id_number"]
            if "masked_id" in tags:
                assert is_masked(v) and masked_id_compatible(v, t["id_number"]) and v[-4:] == t["id_number"][-4:], where
                seen["masked"] += 1
            elif "legacy_id" in tags:
                assert len(v) == 15 and id_from_15(v) == t["id_number"], where
                seen["id15"] += 1
            elif "transposed" in tags:
                assert not id_is_valid(v) and sorted(v) == sorted(t["id_number"]), where
                seen["id transposed"] += 1
            else:
                assert id_is_valid(v) and v == t["id_number"], where
                seen["id"] += 1
        if "missing_id" in tags:
            assert not any(w.get(f) for f in ID_FIELDS), where
            seen["missing"] += 1
        if t["type"] == "legal":
            assert not w.get("id_number"), where
        else:
            assert not w.get("uscc") and not w.get("org_code"), where
    for kind in ("uscc", "uscc transposed", "org_code", "reg_no", "masked", "id15", "id transposed", "id", "missing"):
        assert seen[kind] > 0, f"no {kind} identifiers were written: {seen}"


def test_noise_tags_describe_the_written_names(mentions):
    seen = Counter()
    for m in mentions:
        if m["mention"] is None:
            continue
        written, clean = m["written"]["name"], m["truth"]["name"]
        tags = m["tags"] & (NAME_TAGS | {"accents_stripped"})  # a GBK file cannot write ô, ö, ç, ñ
        where = (m["file"], m["row"], m["role"], written, clean, tags)
        if not tags:
            assert written == clean, where
            continue
        assert written != clean, where
        if len(tags) > 1:
            seen["combined"] += 1
            continue
        (tag,) = tags
        seen[tag] += 1
        if tag == "traditional":
            assert T2S.convert(written) == clean, where
        elif tag == "fullwidth":
            assert written.translate(HALFWIDTH) == clean, where
        elif tag == "form_variant":
            assert "有限责任公司" in written and written.replace("有限责任公司", "有限公司") == clean, where
        elif tag == "bracket_region":
            assert written.replace("(深圳)", "", 1) == clean.replace("深圳市", "", 1) and "(深圳)" in written, where
        elif tag == "missing_region":
            assert "深圳" not in written.split("(")[0][:3] and len(written) < len(clean), where
            it = iter(clean)
            assert all(c in it for c in written), where  # the written name is the clean one minus the region
        elif tag == "homophone":
            assert len(written) == len(clean) and sum(a != b for a, b in zip(written, clean)) == 1, where
        elif tag == "accents_stripped":
            plain = "".join(c for c in unicodedata.normalize("NFD", clean) if unicodedata.category(c) != "Mn")
            assert written == plain and written.isascii(), where
    assert set(seen) >= NAME_TAGS, seen
    persons = [m for m in mentions if m["mention"] and m["truth"]["type"] == "natural" and "homophone" in m["tags"]]
    assert persons, "person names get homophone typos too"


def test_every_noise_tag_is_used_and_known(city):
    _, truth, _ = city
    tags = Counter(t for s in truth["mentions"]["noise"] for t in s.split(",") if t)
    from credgraph.synth.catalogs import NAME_NOISE_KINDS

    # name noise is off unless --name-noise; only a GBK file strips accents it cannot write
    assert set(tags) - {"accents_stripped"} == set(NOISE_TAGS) - set(NAME_NOISE_KINDS), tags
    hard = Counter(t for s in truth["mentions"]["hard_case"] for t in s.split(",") if t)
    assert set(hard) == {"branch", "same_brand_other_industry", "same_name_person"}, hard


def test_duplicate_rows_repeat_an_earlier_row(city):
    _, truth, catalogs = city
    dups = truth["mentions"].filter(pl.col("noise").str.contains("duplicate") & (pl.col("role") == "subject"))
    assert dups.height > 0
    frames = {Path(spec["file"]).name: frame for spec, frame in catalogs.values()}
    for file, row in dups.select("source_file", "source_row").iter_rows():
        rows = frames[file].rows()
        assert rows[row - 1] in rows[: row - 1], (file, row)


def test_branches_are_named_after_their_parents(city):
    _, truth, catalogs = city
    ent = truth["entities"]
    parents = ent.select(pl.col("entity_id").alias("parent_id"), pl.col("name").alias("parent_name"),
                         pl.col("brand").alias("parent_brand"))
    branches = ent.filter(pl.col("parent_id").is_not_null()).join(parents, on="parent_id")
    assert branches.height > 0
    for name, pname, pbrand, form in branches.select("name", "parent_name", "parent_brand", "legal_form").iter_rows():
        assert name.startswith(pname) and name.endswith("分公司") and pbrand in name and form.endswith("分公司")
    # MR_BRANCH says the same as the truth, row by row.
    rel = truth["relationships"].filter(pl.col("relation") == "branch_of")
    truth_pairs = set(rel.select("src_id", "dst_id").iter_rows())
    m = truth["mentions"].filter(pl.col("source_file") == "mr_branch.csv")
    s = m.filter(pl.col("role") == "subject").select("source_row", pl.col("entity_id").alias("s"))
    o = m.filter(pl.col("role") == "object").select("source_row", pl.col("entity_id").alias("o"))
    pairs = set(s.join(o, on="source_row").select("s", "o").iter_rows())
    assert pairs == truth_pairs
    assert catalogs["MR_BRANCH"][0]["constants"]["relation"] == "branch_of"


def test_shell_clusters_share_what_they_claim(city):
    _, truth, catalogs = city
    shells = truth["shell_clusters"]
    ent = truth["entities"]
    rel = truth["relationships"]
    assert shells.height >= 5
    agent = dict(rel.filter(pl.col("relation") == "agent_of").select("dst_id", "src_id").iter_rows())
    rep = dict(rel.filter(pl.col("relation") == "legal_rep_of").select("dst_id", "src_id").iter_rows())
    insured = truth["mentions"].filter(pl.col("source_file") == "hrss_insured.csv", pl.col("role") == "subject")
    ins_frame = catalogs["HRSS_INSURED"][1].with_row_index("source_row", offset=1)
    ins = insured.join(ins_frame.with_columns(pl.col("source_row").cast(pl.Int64)), on="source_row")
    for cid, group in shells.join(ent, on="entity_id").group_by("cluster_id"):
        shared = set(group["shared"][0].split(","))
        assert len(shared) >= 2 and group.height >= 5, cid
        ids = group["entity_id"].to_list()
        if "address" in shared:
            assert group["address"].n_unique() == 1
        if "phone" in shared:
            assert group["phone"].n_unique() == 1
        if "agent" in shared:
            assert len({agent.get(i) for i in ids}) == 1 and agent.get(ids[0]) is not None
        if "legal_rep" in shared:
            assert len({rep[i] for i in ids}) == 1
        assert (group["registered_capital"] <= 10).all()
        days = group["est_date"].max() - group["est_date"].min()
        assert days.days <= 10  # a registration burst
        counts = ins.filter(pl.col("entity_id").is_in(ids))["参保人数"].cast(pl.Int64)
        assert (counts == 0).all()


def test_hard_negatives_are_really_different_entities(city):
    _, truth, _ = city
    ent = truth["entities"]
    m = truth["mentions"]
    same_name = m.filter(pl.col("hard_case").str.contains("same_name_person"))["entity_id"].unique()
    persons = ent.filter(pl.col("type") == "natural")
    counts = persons.group_by("name").len()
    tagged = persons.filter(pl.col("entity_id").is_in(same_name.implode())).join(counts, on="name")
    assert tagged.height > 0 and (tagged["len"] > 1).all()
    brand = m.filter(pl.col("hard_case").str.contains("same_brand_other_industry"))["entity_id"].unique()
    firms = ent.filter(pl.col("type") == "legal", pl.col("parent_id").is_null())
    names_per_brand = firms.group_by("brand").agg(pl.col("name").n_unique().alias("names"))
    tagged = firms.filter(pl.col("entity_id").is_in(brand.implode())).join(names_per_brand, on="brand")
    assert tagged.height > 0 and (tagged["names"] > 1).all()
    # Canonical names of legal persons are unique: two firms never share a registered name.
    assert ent.filter(pl.col("type") == "legal")["name"].n_unique() == ent.filter(pl.col("type") == "legal").height
    # Nor a brand in one trade: names without region and form differ (else no resolver could tell them apart).
    companies = ent.filter(pl.col("legal_form").is_in(["有限责任公司", "股份有限公司"]))
    core = companies["name"].str.replace("深圳市", "").str.replace(r"\(深圳\)", "").str.replace("(股份|有限责任|有限)公司$", "")
    assert core.n_unique() == companies.height


def test_people_were_adults_when_their_firms_were_founded(city):
    _, truth, _ = city
    ent = truth["entities"]
    rel = truth["relationships"].join(ent.select(pl.col("entity_id").alias("src_id"), "birth_date"), on="src_id")
    rel = rel.join(ent.select(pl.col("entity_id").alias("dst_id"), "est_date"), on="dst_id")
    persons = rel.filter(pl.col("birth_date").is_not_null())
    assert persons.height > 0
    age_days = (persons["est_date"] - persons["birth_date"]).dt.total_days()
    assert age_days.min() >= 18 * 365


def test_shareholdings_sum_to_one_and_form_chains(city):
    _, truth, catalogs = city
    rel = truth["relationships"].filter(pl.col("relation") == "shareholder_of")
    sums = rel.group_by("dst_id").agg(pl.col("ratio").sum())
    assert (sums["ratio"] - 1).abs().max() < 1e-3
    legal = set(truth["entities"].filter(pl.col("type") == "legal")["entity_id"])
    held_by = defaultdict(set)
    for src, dst in rel.select("src_id", "dst_id").iter_rows():
        if src in legal:
            held_by[dst].add(src)

    def depth(e, seen=()):
        return 1 + max((depth(h, seen + (e,)) for h in held_by.get(e, ()) if h not in seen), default=0)

    assert max(depth(e) for e in list(held_by)) >= 3  # multi-layer holding chains
    ratios = catalogs["MR_SHAREHOLDER"][1]["出资比例"]
    assert ratios.str.ends_with("%").all()


def test_small_firms_supervisors_are_often_co_shareholders(city):
    """A small 有限公司's supervisor is usually one of its other shareholders, not a stranger:
    that is the context that lets resolution place a supervisor listed without an ID number."""
    _, truth, _ = city
    rel = truth["relationships"]
    sup = rel.filter((pl.col("relation") == "officer_of") & (pl.col("role") == "监事"))
    holders = rel.filter(pl.col("relation") == "shareholder_of").select("src_id", "dst_id").unique()
    # firms where the supervisor could have been a co-shareholder: some natural holder besides the representative
    reps = rel.filter(pl.col("relation") == "legal_rep_of").select(pl.col("dst_id"), pl.col("src_id").alias("rep"))
    others = (holders.filter(pl.col("src_id").str.starts_with("N")).join(reps, on="dst_id")
              .filter(pl.col("src_id") != pl.col("rep")).select("dst_id").unique())
    eligible = sup.join(others, on="dst_id")
    share = eligible.join(holders, on=["src_id", "dst_id"], how="semi").height / max(eligible.height, 1)
    assert eligible.height >= 20
    assert 0.4 <= share <= 0.95, share  # often, not always


def test_specs_use_the_briefing_format(city):
    _, _, catalogs = city
    for code, (spec, frame) in catalogs.items():
        assert spec["code"] == code and spec["kind"] in ("entity", "relationship", "event")
        assert set(spec) <= {"code", "name", "source_unit", "kind", "file", "format", "encoding", "sheet", "required",
                             "columns", "constants", "values", "severity", "identifiers", "object_identifiers"}
        for table in ("identifiers", "object_identifiers"):  # foreign nationals' passports
            assert set(spec.get(table, {})) <= set(IDENTIFIER_SCHEMES), code
            assert set(spec.get(table, {}).values()) <= set(frame.columns), code
        if "severity" in spec:  # adverse event catalogs say how much one active record weighs
            assert spec["kind"] == "event" and 0 < spec["severity"] <= 1
        assert set(spec["columns"]) | set(spec.get("constants", {})) <= set(FIELD_NAMES)
        assert set(spec["columns"].values()) <= set(frame.columns), code
        for field_name, mapping in spec.get("values", {}).items():
            raw = set(frame[spec["columns"][field_name]].drop_nulls())
            assert raw <= set(mapping), (code, field_name, raw - set(mapping))
            if field_name == "status":
                assert set(mapping.values()) <= set(EVENT_STATUSES)
        if "relation" in spec.get("constants", {}):
            assert spec["constants"]["relation"] in RELATIONS
    formats = Counter((s["format"], s.get("encoding")) for s, _ in catalogs.values())
    assert {("csv", "gbk"), ("csv", "gb18030"), ("csv", "utf-8"), ("jsonl", "utf-8"), ("xlsx", None)} <= set(formats)


def test_clean_city_has_only_publication_rules(tmp_path):
    out = tmp_path / "clean"
    generate_city(out, entities=200, seed=5, noise=0.0)
    m = pl.read_parquet(out / "truth" / "mentions.parquet")
    assert set(m["noise"].unique()) <= {"", "masked_id"}  # courts and red lists always mask IDs


@pytest.fixture(scope="module")
def big_city(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth_big") / "city"
    generate_city(out, entities=6000, seed=3, noise=1.0)
    return out


def test_violators_are_findable_through_the_graph_but_not_the_visible_list(big_city):
    t = {n: pl.read_parquet(big_city / "truth" / f"{n}.parquet")
         for n in ("mentions", "entities", "relationships", "violators", "shell_clusters")}
    bad_files = ["mr_abnormal.csv", "mr_serious.jsonl", "court_dishonest.jsonl", "tax_violation.csv",
                 "admin_penalty.xlsx", "hrss_arrears.xlsx"]
    bad = (t["mentions"].filter(pl.col("role") == "subject", pl.col("source_file").is_in(bad_files))
           .group_by("entity_id").len().rename({"len": "bad"}))
    firms = t["entities"].filter(pl.col("type") == "legal").select("entity_id")
    reps = (t["relationships"].filter(pl.col("relation") == "legal_rep_of")
            .select(pl.col("src_id").alias("rep"), pl.col("dst_id").alias("entity_id")))
    df = (firms.join(bad, on="entity_id", how="left").join(reps, on="entity_id", how="left")
          .join(bad.rename({"entity_id": "rep", "bad": "rep_bad"}), on="rep", how="left").fill_null(0))
    sib = df.group_by("rep").agg(pl.col("bad").sum().alias("rep_firms_bad"), pl.len().alias("rep_firms"))
    df = df.join(sib, on="rep").with_columns(
        ((pl.col("rep_firms_bad") - pl.col("bad")) / pl.max_horizontal(pl.col("rep_firms") - 1, 1)).alias("sib_bad"),
        pl.col("entity_id").is_in(t["violators"]["entity_id"].implode()).alias("v"))
    base = df["v"].mean()
    assert 0.05 < base < 0.15

    def lift(score: pl.Expr) -> float:
        top = df.with_columns(score.alias("s")).sort(["s", "entity_id"], descending=[True, False]).head(df.height // 10)
        return top["v"].mean() / base

    # A graph-risk score (own records, the legal rep's records, the rep's other firms) finds violators at >= 3x.
    assert lift(pl.col("bad") + pl.col("rep_bad") + pl.col("sib_bad")) >= 3.0
    # Even without the firm's own records, its links carry signal.
    assert lift(pl.col("rep_bad") + pl.col("sib_bad")) >= 1.5
    # But the hidden truth is not the visible list.
    assert df.filter(pl.col("v"))["bad"].eq(0).mean() > 0.25
    assert df.filter(pl.col("bad") > 0)["v"].mean() < 0.6
    # Cross-holdings close cycles in the ownership graph (A holds B holds ... holds A).
    legal = set(firms["entity_id"])
    edges = t["relationships"].filter(pl.col("relation") == "shareholder_of", pl.col("src_id").is_in(list(legal)))
    held_by = defaultdict(set)
    for src, dst in edges.select("src_id", "dst_id").iter_rows():
        held_by[dst].add(src)

    def on_cycle(start):
        stack, seen = [start], set()
        while stack:
            for h in held_by.get(stack.pop(), ()):
                if h == start:
                    return True
                if h not in seen:
                    seen.add(h)
                    stack.append(h)
        return False

    assert any(on_cycle(e) for e in list(held_by))
    # Shells are mostly violators.
    shells = df.filter(pl.col("entity_id").is_in(t["shell_clusters"]["entity_id"].implode()))
    assert shells["v"].mean() > 0.4
