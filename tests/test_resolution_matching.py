"""The public matcher: decisions on hand-made records, and a battery of name variants of listed firms.

The battery writes each variant the way real lists do (traditional characters by OpenCC's s2t,
full-width brackets, the region moved into brackets or dropped, 有限公司 ↔ 有限责任公司, a homophone
in the brand from the generator's homophone table) and judges the answer against the city's
ground truth: the right entity is the one carrying the firm's true USCC.
"""

from __future__ import annotations

import datetime as dt

import opencc
from pypinyin import lazy_pinyin
import polars as pl
import pytest

from credgraph.loaders import load_specs
from credgraph.resolution import Matcher, MatchResult, resolve
from credgraph.resolution.errors import ResolutionError
from credgraph.resolution.sample import records_frame
from credgraph.synth import generate_city
from credgraph.synth.words import load_words

UNKNOWN_FIRM = "深圳市不存在的虚构商贸有限公司"


@pytest.fixture(scope="module")
def small():
    rows = [
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": "914403001922038216", "subject_phone": "13812345678"},
        {"subject_name": "華強電子（深圳）有限責任公司"},
        {"subject_name": "深圳市华强电子有限公司南山分公司"},
        {"subject_name": "张伟", "subject_type": "natural", "subject_birth_date": dt.date(1980, 5, 6),
         "subject_address": "深圳市南山区深南大道1001号", "object_name": "深圳市华强电子有限公司",
         "relation": "legal_rep_of"},
        {"subject_name": "张伟", "subject_type": "natural", "subject_birth_date": dt.date(1980, 5, 6),
         "subject_address": "深圳市南山区深南大道1001号"},
    ]
    frame = records_frame(rows)
    res = resolve(frame)
    return res, Matcher.from_resolution(res)


def test_codes_and_name_variants_match_the_firm_not_its_branch(small):
    res, m = small
    firm = res.entity_of("r000001:subject")
    branch = res.entity_of("r000003:subject")
    assert firm != branch
    for ex in ({"uscc": "914403001922038216"}, {"name": "华强电子(深圳)有限公司"}, {"name": "深圳市華強電子有限公司"},
               {"org_code": "192203821"}):
        r = m.match(ex)
        assert isinstance(r, MatchResult)
        assert r.decision == "match" and r.candidates[0].entity_id == firm, (ex, r)
        assert r.candidates[0].features[0].field == "name" and r.candidates[0].probability >= 0.9
    r = m.match({"name": "深圳市华强电子有限公司南山分公司"})
    assert r.decision == "match" and r.entity_id == branch
    assert firm not in [c.entity_id for c in r.candidates]  # branch ≠ parent: ruled out, not listed


def test_a_person_name_alone_is_never_a_match(small):
    _, m = small
    r = m.match({"type": "natural", "name": "张伟"})
    assert r.decision != "match" and r.entity_id is None
    r = m.match({"type": "natural", "name": "张伟", "birth_date": "1980-05-06",
                 "address": "深圳市南山区深南大道1001号"})
    assert r.decision == "match"


def test_unknown_firm_empty_query_and_bad_input(small):
    _, m = small
    assert m.match({"name": UNKNOWN_FIRM}).decision == "no_match"
    assert m.match({}).decision == "no_match"
    with pytest.raises(ResolutionError, match="unknown field"):
        m.match({"nmae": "x"})
    with pytest.raises(ResolutionError, match="birth_date"):
        m.match({"name": "张伟", "birth_date": "06/05/1980x"})
    assert [r.decision for r in m.match_many([{"name": UNKNOWN_FIRM}, {"uscc": "914403001922038216"}])] \
        == ["no_match", "match"]


# ------------------------------------------------------------------------------ battery
_S2T = opencc.OpenCC("s2t")
_FULL = str.maketrans({"(": "（", ")": "）"})


#: English industry words, written here from a dictionary (not from the resolver's table).
ENGLISH = {"电子": "Electronics", "科技": "Technology", "贸易": "Trading", "软件": "Software", "物流": "Logistics",
           "实业": "Industrial", "投资": "Investment", "广告": "Advertising", "医药": "Pharmaceutical",
           "服装": "Apparel", "食品": "Food", "家具": "Furniture", "印刷": "Printing", "照明": "Lighting"}


def _variants(name: str, brand: str, english: dict | None = None) -> dict[str, str]:
    """Every name form the generator writes, derived here independently of the resolver."""
    out = {"exact": name, "traditional": _S2T.convert(name)}
    if name.startswith("深圳市") and not name.startswith("深圳市深圳"):
        rest = name[3:]
        out["missing_region"] = rest
        for form in ("股份有限公司", "有限责任公司", "有限公司"):
            if rest.endswith(form) and "分公司" not in rest:
                out["bracket_region"] = f"{rest[: -len(form)]}(深圳){form}"
                out["fullwidth_bracket_region"] = out["bracket_region"].translate(_FULL)
                break
    if name.endswith("有限责任公司"):
        out["form_variant"] = name[: -len("有限责任公司")] + "有限公司"
    elif name.endswith("有限公司") and not name.endswith("股份有限公司"):
        out["form_variant"] = name[: -len("有限公司")] + "有限责任公司"
    # English, as a firm's own English name or a foreign list writes it: brand in pinyin, industry translated.
    if english and name.startswith("深圳市") and name.endswith("有限公司") and "分公司" not in name \
            and not name.endswith("股份有限公司"):
        mid = name[3:-4]
        if brand and mid.startswith(brand) and mid[len(brand):] in english:
            py = "".join(lazy_pinyin(brand)).capitalize()
            out["english"] = f"Shenzhen {py} {english[mid[len(brand):]]} Co., Ltd."
            out["english_bracket"] = f"{py} {english[mid[len(brand):]]} (Shenzhen) Company Limited"
    homo = load_words().homophones
    if brand and brand in name:
        for i, ch in enumerate(brand):
            if homo.get(ch):
                out["homophone"] = name.replace(brand, brand[:i] + homo[ch][0] + brand[i + 1:], 1)
                break
    return out


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("mcity")
    generate_city(root / "city", entities=600, seed=11)
    load_specs(sorted((root / "city" / "specs").glob("*.toml")), root / "ws")
    res = resolve(pl.read_parquet(root / "ws" / "records" / "records.parquet"))
    return root, res, Matcher.from_resolution(res)


def test_battery_of_listed_firm_name_variants(city):
    root, res, m = city
    truth = pl.read_parquet(root / "city" / "truth" / "entities.parquet").filter(pl.col("type") == "legal")
    listed = pl.read_parquet(root / "city" / "truth" / "violators.parquet")
    firms = truth.filter(pl.col("entity_id").is_in(listed["entity_id"].implode()) & pl.col("uscc").is_not_null())
    if firms.height < 30:  # a few listed firms: take registered firms as well
        firms = pl.concat([firms, truth.filter(pl.col("uscc").is_not_null()).head(60)]).unique("entity_id")
    right = dict(zip(res.entities["uscc"].to_list(), res.entities["entity_id"].to_list()))
    queries, expected, forms = [], [], []
    for row in firms.iter_rows(named=True):
        if row["uscc"] not in right:  # never written with its USCC: which entity is right is not known
            continue
        for form, text in _variants(row["name"], row["brand"] or "", ENGLISH).items():
            queries.append({"name": text})
            expected.append(right[row["uscc"]])
            forms.append(form)
    results = m.match_many(queries)
    table = pl.DataFrame({"form": forms, "decision": [r.decision for r in results],
                          "ok": [r.entity_id == e for r, e in zip(results, expected)],
                          "wrong": [r.decision == "match" and r.entity_id != e for r, e in zip(results, expected)]})
    wrong = table.filter(pl.col("wrong"))
    assert wrong.height == 0, wrong
    share = table["ok"].mean()
    assert len(queries) >= 200 and share >= 0.95, table.group_by("form").agg(pl.col("ok").mean(), pl.len())
    english = table.filter(pl.col("form").str.starts_with("english"))
    assert english.height >= 10 and english["ok"].mean() >= 0.9, english


# ------------------------------------------------------------------------------ mixed batches
def _same(a: MatchResult, b: MatchResult) -> bool:
    """Same decision, same candidates in the same order, scores equal to 1e-9."""
    return (a.decision == b.decision and [c.entity_id for c in a.candidates] == [c.entity_id for c in b.candidates]
            and all(abs(x.score - y.score) <= 1e-9 for x, y in zip(a.candidates, b.candidates)))


def test_a_batch_mixing_persons_companies_and_an_empty_example_answers_each_as_alone(city):
    """A batch is answered example by example as one-at-a-time ``match`` answers it (the batch used
    to index each type's rows by the example's place in the whole batch: OutOfBoundsError)."""
    root, res, m = city
    truth = pl.read_parquet(root / "city" / "truth" / "entities.parquet")
    persons = truth.filter(pl.col("type") == "natural").head(8)
    firms = truth.filter(pl.col("type") == "legal").head(8)
    batch: list[dict] = [{"type": "natural", "name": persons["name"][0]}, {}]
    for p, f in zip(persons.iter_rows(named=True), firms.iter_rows(named=True)):
        batch.append({"type": "natural", "name": p["name"]})
        batch.append({"name": f["name"]})
        if f.get("uscc"):
            batch.append({"uscc": f["uscc"]})
    batch += [{"name": UNKNOWN_FIRM}, {"type": "legal"}, {"name": persons["name"][1]}]
    alone = [m.match(ex) for ex in batch]
    # The public call (a batch this small takes the fast path) and the dataframe pipeline.
    for together in (m.match_many(batch), m._match_batch(batch, 5, m.auto_merge)):
        assert len(together) == len(batch)
        bad = [(k, ex, t, a) for k, (ex, t, a) in enumerate(zip(batch, together, alone)) if not _same(t, a)]
        assert not bad, bad[:3]
    decisions = {r.decision for r in alone}
    assert alone[1].decision == "no_match" and "match" in decisions  # the batch holds real matches


# ------------------------------------------------------------------------------ fast path = batch path
def _examples_of_every_kind(truth: pl.DataFrame, seed: int = 5) -> list[dict]:
    """Queries as institutions write them: exact codes, name variants of firms, persons with a full,
    masked or no ID (names in pinyin or with a homophone), look-ups that should find nothing, and
    input the fast path hands to the pipeline (surrounding spaces) or answers without looking."""
    import random

    rnd = random.Random(seed)
    homo = load_words().homophones
    out: list[dict] = []
    firms = truth.filter(pl.col("type") == "legal").sample(n=min(40, truth.height), seed=seed)
    for f in firms.iter_rows(named=True):
        for text in list(_variants(f["name"], f["brand"] or "", ENGLISH).values())[:5]:
            out.append({"name": text})
        brand = f["brand"] or ""
        if len(brand) >= 2 and brand in f["name"]:  # two characters of the brand swapped
            out.append({"name": f["name"].replace(brand, brand[1] + brand[0] + brand[2:], 1)})
        if f["uscc"]:
            out.append({"uscc": f["uscc"]})
            out.append({"name": f["name"], "uscc": f["uscc"][:-1] + ("0" if f["uscc"][-1] != "0" else "1")})
        if f["org_code"]:
            out.append({"org_code": f["org_code"]})
        if f["reg_no"]:
            out.append({"reg_no": f["reg_no"], "type": "legal"})
        if f["address"]:
            out.append({"name": f["name"], "address": f["address"], "phone": f["phone"]})
    persons = truth.filter(pl.col("type") == "natural").sample(n=min(60, truth.height), seed=seed)
    for p in persons.iter_rows(named=True):
        name, idn, bd = p["name"], p["id_number"], p["birth_date"]
        out.append({"type": "natural", "name": name})
        if idn:
            out.append({"type": "natural", "name": name, "id_number": idn})
            out.append({"name": name, "id_number": idn[:6] + "********" + idn[-4:]})
        if bd:
            out.append({"type": "natural", "name": name, "birth_date": bd.isoformat(), "phone": p["phone"]})
            out.append({"type": "natural", "name": " ".join(lazy_pinyin(name[1:])).title() + " "
                        + lazy_pinyin(name[0])[0].title(), "birth_date": str(bd)})
        for i, ch in enumerate(name):
            if homo.get(ch):
                out.append({"type": "natural", "name": name[:i] + homo[ch][0] + name[i + 1:],
                            "birth_date": str(bd) if bd else None, "address": p["address"]})
                break
    out += [{"name": UNKNOWN_FIRM}, {"type": "natural", "name": "欧阳不存在", "birth_date": "1901-02-03"},
            {"uscc": "123"}, {"identifiers": [{"scheme": "passport", "value": "E12345678"}], "name": "Jane Doe"},
            {"type": "natural", "name": "Jane Doe", "email": "jane@example.org"}, {}, {"address": "深圳市南山区"},
            {"name": " " + truth["name"][0]}]
    rnd.shuffle(out)
    return [{k: v for k, v in ex.items() if v is not None} for ex in out]


def test_the_fast_path_answers_exactly_as_the_batch_path(city):
    """Small batches are answered one example at a time without the dataframe pipeline: the same
    decisions, candidates, scores (1e-9), levels and rules as the pipeline gives the whole batch."""
    root, res, m = city
    truth = pl.read_parquet(root / "city" / "truth" / "entities.parquet")
    examples = _examples_of_every_kind(truth)
    assert len(examples) >= 300
    thr = m.auto_merge
    batch = m._match_batch(examples, 5, thr)
    fast = [m._match_fast([ex], 5, thr) for ex in examples]
    assert sum(f is None for f in fast) == 1  # the name with a leading space goes to the pipeline
    diffs = []
    for ex, b, f in zip(examples, batch, fast):
        if f is None:
            continue
        f = f[0]
        same = (b.decision == f.decision and b.reason == f.reason
                and [c.entity_id for c in b.candidates] == [c.entity_id for c in f.candidates]
                and all(abs(x.score - y.score) <= 1e-9 and abs(x.probability - y.probability) <= 1e-9
                        and x.features == y.features and x.rules == y.rules
                        for x, y in zip(b.candidates, f.candidates)))
        if not same:
            diffs.append((ex, b, f))
    assert not diffs, diffs[:2]
    decisions = pl.Series([r.decision for r in batch]).value_counts()
    assert set(decisions[decisions.columns[0]].to_list()) == {"match", "ambiguous", "no_match"}
