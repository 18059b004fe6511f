"""Foreign nationals in the synthetic city: their share, Latin names, passports, and the name noise of filings."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from credgraph.loaders import load_specs
from credgraph.synth import generate_city
from credgraph.synth.world import build_world

LATIN_TAGS = {"nickname", "family_first", "upper_case", "dropped_middle", "accents_stripped"}

# Passport formats as the issuing countries document them (hand-written, not the generator's table).
PASSPORT = {
    "US": r"\d{9}|[A-Z]\d{8}", "GB": r"\d{9}", "CA": r"[A-Z]{2}\d{6}", "AU": r"[A-Z]{1,2}\d{7}",
    "DE": r"[CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8}", "FR": r"\d{2}[A-Z]{2}\d{5}", "ES": r"[A-Z]{3}\d{6}",
}
# Short forms people really use (hand-written); a nickname mention of these names must use one.
NICKS = {"William": {"Bill", "Will", "Billy"}, "Robert": {"Bob", "Rob", "Bobby"},
         "Elizabeth": {"Liz", "Beth", "Betty"}, "Michael": {"Mike", "Mick"}, "James": {"Jim", "Jimmy", "Jamie"}}
COUNTRY = {"美国": "US", "英国": "GB", "加拿大": "CA", "澳大利亚": "AU", "德国": "DE", "法国": "FR", "西班牙": "ES"}
# The three registration catalogs that carry a person's nationality and passport (file, encoding, name column).
REGISTRATION = {"mr_reg.csv": ("utf-8-sig", "法定代表人", "法定代表人证件号码", "法定代表人国籍", "法定代表人护照号码"),
                "mr_shareholder.csv": ("gbk", "股东名称", "股东证件号码", "股东国籍", "股东护照号码"),
                "mr_personnel.csv": ("utf-8", "姓名", "身份证号码", "国籍", "护照号码")}


def plain(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("foreign")
    generate_city(root / "city", entities=1500, seed=21, name_noise=0.3, foreign_share=0.25)
    truth = pl.read_parquet(root / "city" / "truth" / "entities.parquet").filter(pl.col("type") == "natural")
    mentions = pl.read_parquet(root / "city" / "truth" / "mentions.parquet")
    frames = {f: pl.read_csv((root / "city" / f).read_bytes().decode(spec[0]).encode(), infer_schema_length=0)
              for f, spec in REGISTRATION.items()}
    return root, truth, mentions, frames


def test_share_of_foreign_nationals_is_the_default_two_percent():
    w = build_world(6000, seed=3)
    k = int(w.foreign.sum())
    # Binomial(n_natural, 0.02): mean 66, sd 8.1 for 3,300 natural persons; 4 sd either side.
    assert w.n_natural == 3300 and 33 <= k <= 99, k
    assert all(re.fullmatch(r"[A-Za-zÀ-ÿ' .-]+", n) for n in w.names[w.n_legal:][w.foreign]), "Latin names"
    assert (w.id18[w.foreign] == "").all() and (w.id18[~w.foreign] != "").all()


def test_foreign_share_changes_only_the_foreigners():
    a, b = build_world(1500, seed=8, foreign_share=0.0), build_world(1500, seed=8, foreign_share=0.1)
    assert not a.foreign.any() and b.foreign.any()
    same = ~b.foreign
    assert (a.names[a.n_legal:][same] == b.names[b.n_legal:][same]).all()
    assert (a.id18[same] == b.id18[same]).all() and (a.legal_rep == b.legal_rep).all()


def test_same_seed_same_bytes_with_name_noise(tmp_path):
    def digest(p: Path) -> dict:
        return {str(f.relative_to(p)): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(p.rglob("*")) if f.is_file()}

    a = generate_city(tmp_path / "a", entities=400, seed=5, name_noise=0.3, foreign_share=0.2).out
    b = generate_city(tmp_path / "b", entities=400, seed=5, name_noise=0.3, foreign_share=0.2).out
    assert digest(a) == digest(b)
    assert json.loads((a / "generator.json").read_text(encoding="utf-8"))["foreign_share"] == 0.2


def test_passports_are_wellformed_and_written_where_the_person_is(city):
    _, truth, mentions, frames = city
    foreign = truth.filter(pl.col("nationality") != "CN")
    assert foreign.height >= 100
    for nat, pp in foreign.select("nationality", "passport").iter_rows():
        assert re.fullmatch(PASSPORT[nat], pp), (nat, pp)
    assert foreign["passport"].n_unique() == foreign.height
    assert truth.filter(pl.col("nationality") == "CN")["passport"].null_count() == truth.height - foreign.height
    by_id = {r["entity_id"]: r for r in truth.iter_rows(named=True)}
    checked = 0
    for f, (_, _, id_col, nat_col, pp_col) in REGISTRATION.items():
        m = mentions.filter((pl.col("source_file") == f) & (pl.col("role") == "object"))
        rows = frames[f].rows(named=True)
        for row_no, eid, noise in m.select("source_row", "entity_id", "noise").iter_rows():
            e = by_id.get(eid)
            if e is None:
                continue  # a company shareholder
            row = rows[row_no - 1]
            if e["nationality"] == "CN":
                assert row[nat_col] == "中国" and row[pp_col] is None
                continue
            checked += 1
            assert COUNTRY[row[nat_col]] == e["nationality"] and row[id_col] is None
            assert row[pp_col] == (None if "missing_id" in noise else e["passport"]), (f, row_no)
    assert checked >= 200


def test_latin_name_noise_looks_like_filings(city):
    _, truth, mentions, frames = city
    names = dict(truth.select("entity_id", "name").iter_rows())
    nats = dict(truth.select("entity_id", "nationality").iter_rows())
    seen = {t: 0 for t in LATIN_TAGS}
    nick_seen = 0
    for f, (_, name_col, *_) in REGISTRATION.items():
        rows = frames[f].rows(named=True)
        m = mentions.filter((pl.col("source_file") == f) & (pl.col("role") == "object"))
        for row_no, eid, noise in m.select("source_row", "entity_id", "noise").iter_rows():
            if nats.get(eid, "CN") == "CN":
                continue
            tags = set(noise.split(",")) - {""}
            written, clean = rows[row_no - 1][name_col], names[eid]
            if tags & {"fullwidth", "traditional"}:
                continue
            lt = tags & LATIN_TAGS
            if not lt:
                assert written == clean, (f, row_no, written, clean)
                continue
            assert written != clean
            if len(lt) > 1:
                continue
            (tag,) = lt
            seen[tag] += 1
            parts = clean.split(" ")
            given, family, middle = parts[0], parts[-1], parts[1:-1]
            if tag == "upper_case":
                assert written == clean.upper()
            elif tag == "accents_stripped":
                assert written == plain(clean) and written.isascii()
            elif tag == "family_first":
                rest = " ".join(parts[:-1])
                assert written in (f"{family}, {rest}", f"{family} {rest}"), (written, clean)
            elif tag == "dropped_middle":
                assert middle and written in (f"{given} {family}", f"{given} {middle[0][0]}. {family}"), (written, clean)
            elif tag == "nickname":
                assert nats[eid] in ("US", "GB", "CA", "AU"), (written, clean)  # José stays José
                short = written.split(" ")[0]
                assert written == " ".join([short, *parts[1:]]) and short != given
                if given in NICKS:
                    assert short in NICKS[given], (written, clean)
                    nick_seen += 1
    assert all(v >= 5 for v in seen.values()), seen
    assert nick_seen >= 3


def test_loader_takes_the_passports_and_nationalities(city, tmp_path):
    root, truth, _, frames = city
    specs = [p for p in sorted((root / "city" / "specs").glob("*.toml"))
             if p.stem in ("MR_REG", "MR_SHAREHOLDER", "MR_PERSONNEL")]
    load_specs(specs, tmp_path / "ws")
    rec = pl.read_parquet(tmp_path / "ws" / "records" / "records.parquet")
    ids = rec["object_identifiers"].drop_nulls().to_list()
    got = {x["value"] for s in ids for x in json.loads(s) if x["scheme"] == "passport"}
    written = {v for f, spec in REGISTRATION.items() for v in frames[f][spec[4]].drop_nulls().to_list()}
    assert len(written) >= 100 and got == written  # every passport the files show, none lost or altered
    assert set(rec["object_nationality"].drop_nulls().unique().to_list()) <= {"CN", *PASSPORT}


def test_a_gbk_file_writes_letters_it_lacks_unaccented_in_every_column(tmp_path):
    """Not only party names: any text column of a GBK catalog (e.g. the tax list's finance officer)
    holding François or Ñúñez is written as a GBK export would, without the accent the encoding
    lacks; what GBK has (é, ü, ú, Chinese) is kept; the file is valid GBK."""
    import polars as pl

    from credgraph.synth.output import open_sink

    path = tmp_path / "t.csv"
    sink = open_sink(path, "csv", "gbk", ("name", "officer"))
    sink.write(pl.DataFrame({"name": ["深圳市华强电子有限公司", "Café Müller"], "officer": ["François Martin", "Ñúñez 张伟"]}))
    sink.close()
    text = path.read_bytes().decode("gbk")
    # GBK holds é, ü and ú (pinyin letters) but not ç or ñ
    assert text.splitlines() == ["name,officer", "深圳市华强电子有限公司,Francois Martin", "Café Müller,Núnez 张伟"]


# Event lists that name natural persons, with their passport column (file, reader).
LISTS = {"admin_licence.csv": "护照号码", "admin_penalty.xlsx": "护照号码", "court_dishonest.jsonl": "护照号码"}


def _read_list(path: Path) -> list[dict]:
    if path.suffix == ".csv":
        return pl.read_csv(path, infer_schema_length=0).rows(named=True)
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    import openpyxl

    rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_lists_name_foreigners_with_their_passports_and_resolution_uses_them(city, tmp_path):
    root, truth, mentions, _ = city
    by_id = {r["entity_id"]: r for r in truth.iter_rows(named=True)}
    shown = 0
    for f, pp_col in LISTS.items():
        rows = _read_list(root / "city" / f)
        m = mentions.filter((pl.col("source_file") == f) & (pl.col("role") == "subject"))
        for row_no, eid, noise in m.select("source_row", "entity_id", "noise").iter_rows():
            e = by_id.get(eid)
            if e is None:
                continue  # a firm
            row = rows[row_no - 1]
            want = e["passport"] if e["nationality"] != "CN" and "missing_id" not in (noise or "") else None
            assert row[pp_col] == want, (f, row_no)
            shown += want is not None
    assert shown >= 20
    # Loaded and resolved: a foreigner's list mention with a passport joins the entity of his registrations.
    from credgraph.resolution import resolve
    from credgraph.resolution.evaluate import _joined, load_truth

    load_specs(sorted((root / "city" / "specs").glob("*.toml")), tmp_path / "ws")
    rec = pl.read_parquet(tmp_path / "ws" / "records" / "records.parquet")
    res = resolve(rec)
    tm, _ = load_truth(root / "city" / "truth")
    j = _joined(res.mentions, res.assignments, tm).filter(pl.col("true").is_not_null())
    foreign = truth.filter(pl.col("nationality") != "CN").select(pl.col("entity_id").alias("true"))
    j = j.join(foreign, on="true").join(res.mentions.select("mention_id", "catalog", "identifiers"), on="mention_id")
    listed = j.filter(pl.col("catalog").is_in(["ADMIN_LICENCE", "ADMIN_PENALTY", "COURT_DISHONEST"])
                      & pl.col("identifiers").fill_null("").str.contains('"passport"'))
    registered = j.filter(pl.col("catalog").is_in(["MR_REG", "MR_SHAREHOLDER", "MR_PERSONNEL"])) \
        .group_by("true").agg(pl.col("pred").mode().first().alias("main"))
    both = listed.join(registered, on="true")
    assert both.height >= 10
    assert (both["pred"] == both["main"]).all()
