"""Loading catalog files of every format into standard records and quarantine."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from credgraph import identifiers as ids
from credgraph.config import LoadConfig
from credgraph.loaders import LoadError, load_specs, read_findings, read_quarantine, read_records, read_spec
from credgraph.records import polars_schema

HEADER = "企业名称,统一社会信用代码,法定代表人,身份证号,成立日期,注册资本,持股比例,备注"
LETTER_FIRST = "Y1440300MA5DXK3Q" + ids.org_code_check_char("MA5DXK3Q")
LETTER_FIRST += ids.uscc_check_char(LETTER_FIRST)

SHAREHOLDER_SPEC = """
code = "MR_SHAREHOLDER"
name = "股东及出资"
source_unit = "市场监管局"
kind = "relationship"
file = "{file}"
{extra}
[columns]
subject_name = "企业名称"
subject_uscc = "统一社会信用代码"
object_name = "法定代表人"
object_id_number = "身份证号"
date = "成立日期"
capital = "注册资本"
ratio = "持股比例"

[constants]
subject_type = "legal"
object_type = "natural"
relation = "shareholder_of"
"""

# (row text, expected outcome): None = accepted as is; ("aside", {field: words}) = accepted with
# those values set aside (findings); ("quarantine", {field: words}) = quarantined with those lines
ROWS = [
    ("深圳市华强电子有限公司,914403001922038216,张伟,11010519491231002X,2021-03-04,100万元,35%,首行", None),
    (f"某基金会,{LETTER_FIRST},李娜,110105491231002,2021/3/4,50,0.35,", None),
    ("全角公司,９１４４０３００１９２２０３８２１６,王芳,110105********002X,2021年3月4日,1e3,35,", None),
    ("坏码公司,914403001922038217,赵强,11010519491231002X,20210304,10,10%,", ("aside", {"subject_uscc": "check character"})),
    ("坏证公司,914403001922038216,钱军,110105194912310021,2021-03-04,10,10%,", ("aside", {"object_id_number": "check character"})),
    ("掩码公司,914403001922038216,孙丽,110105****13**002X,2021-03-04,10,10%,", ("aside", {"object_id_number": "month"})),
    ("日期公司,914403001922038216,周杰,11010519491231002X,2021-02-30,10,10%,", ("aside", {"date": "not a date"})),
    ("比例公司,914403001922038216,吴敏,11010519491231002X,2021-03-04,10,120%,", ("aside", {"ratio": "between 0 and 1"})),
    ("金额公司,914403001922038216,郑涛,11010519491231002X,2021-03-04,很多,10%,", ("aside", {"capital": "not a number"})),
    (",,,,,,,", ("quarantine", {"(row)": "empty row"})),
    (",,冯霞,11010519491231002X,2021-03-04,10,10%,无主", ("quarantine", {"subject_name": "no subject"})),
    # the only subject identifier is bad: once it is set aside nothing names the subject
    (",914403001922038217,褚明,11010519491231002X,2021-03-04,10,10%,",
     ("quarantine", {"subject_uscc": "check character", "subject_name": "no subject"})),
]
ACCEPTED = [i for i, (_, o) in enumerate(ROWS, start=1) if o is None or o[0] == "aside"]
QUARANTINED = len(ROWS) - len(ACCEPTED)


def write_csv(folder: Path, name: str = "shareholders.csv", rows=ROWS, encoding: str = "utf-8") -> Path:
    text = HEADER + "\n" + "\n".join(r for r, _ in rows) + "\n"
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def write_spec(folder: Path, file: str, name: str = "spec.toml", extra: str = "") -> Path:
    path = folder / name
    path.write_text(SHAREHOLDER_SPEC.format(file=file, extra=extra), encoding="utf-8")
    return path


@pytest.fixture
def catalog(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data)
    return write_spec(data, "shareholders.csv"), tmp_path / "ws"


def test_rows_are_validated_and_routed(catalog):
    spec, ws = catalog
    report = load_specs([spec], ws, batch="b1")
    (f,) = report.files
    assert (f.read, f.accepted, f.quarantined) == (len(ROWS), len(ACCEPTED), QUARANTINED)

    rec = read_records(ws).sort("source_row")
    assert rec["source_row"].to_list() == ACCEPTED
    clean = rec.filter(pl.col("source_row") <= 3)
    assert clean["subject_uscc"].to_list() == ["914403001922038216", LETTER_FIRST, "914403001922038216"]
    # 15-digit ID converted to 18; masked ID kept masked
    assert clean["object_id_number"].to_list() == ["11010519491231002X", "11010519491231002X", "110105********002X"]
    assert clean["date"].to_list() == [dt.date(2021, 3, 4)] * 3
    assert clean["capital"].to_list() == [100.0, 50.0, 1000.0]
    assert clean["ratio"].to_list() == pytest.approx([0.35, 0.35, 0.35])
    assert rec["relation"].to_list() == ["shareholder_of"] * len(ACCEPTED)
    assert rec["subject_type"].unique().to_list() == ["legal"] and rec["object_type"].unique().to_list() == ["natural"]
    assert json.loads(rec["extra"][0]) == {"备注": "首行"}
    # a set-aside value is null in the record; the rest of the row is kept
    bad_code = rec.filter(pl.col("source_row") == 4).row(0, named=True)
    assert bad_code["subject_uscc"] is None and bad_code["subject_name"] == "坏码公司"
    assert bad_code["object_id_number"] == "11010519491231002X" and bad_code["ratio"] == pytest.approx(0.1)
    assert rec.filter(pl.col("source_row") == 9)["capital"].to_list() == [None]

    q, found = read_quarantine(ws), read_findings(ws)
    for row, (_, outcome) in enumerate(ROWS, start=1):
        q_lines = q.filter(pl.col("source_row") == row)
        f_lines = found.filter(pl.col("source_row") == row)
        if outcome is None:
            assert q_lines.height == 0 and f_lines.height == 0, row
            continue
        where, expected = outcome
        lines = q_lines if where == "quarantine" else f_lines
        other = f_lines if where == "quarantine" else q_lines
        assert other.height == 0, (row, other)
        assert sorted(lines["field"].to_list()) == sorted(expected), (row, lines)
        for line in lines.iter_rows(named=True):
            assert expected[line["field"]] in line["reason"], (row, line)
    bad_uscc = found.filter(pl.col("field") == "subject_uscc").row(0, named=True)
    assert bad_uscc["column"] == "统一社会信用代码" and bad_uscc["value"] == "914403001922038217"
    assert bad_uscc["catalog"] == "MR_SHAREHOLDER" and bad_uscc["source_file"] == "shareholders.csv"
    assert bad_uscc["load_batch"] == "b1" and bad_uscc["source_row"] == 4
    # a finding names the record it was set aside from
    assert bad_uscc["row_id"] == rec.filter(pl.col("source_row") == 4)["record_id"][0]
    assert f.set_aside == found.height == 6
    assert f.findings == {"subject_uscc": 1, "object_id_number": 2, "date": 1, "ratio": 1, "capital": 1}


def test_every_row_is_accounted_for(catalog):
    spec, ws = catalog
    report = load_specs([spec], ws, batch="b1")
    rec, q = read_records(ws), read_quarantine(ws)
    accepted, quarantined = set(rec["source_row"]), set(q["source_row"])
    assert not accepted & quarantined
    assert accepted | quarantined == set(range(1, len(ROWS) + 1))
    saved = json.loads((ws / "records" / "load_report.json").read_text(encoding="utf-8"))
    (f,) = saved["files"]
    assert f["read"] == f["accepted"] + f["quarantined"] == len(ROWS)
    assert f["accepted"] == len(accepted) and f["quarantined"] == len(quarantined)
    assert f["set_aside"] == read_findings(ws).height == 6
    assert saved["totals"] == {
        "read": report.read, "accepted": report.accepted, "quarantined": report.quarantined, "set_aside": 6
    }
    assert saved["findings_total"] == 6


def test_records_have_the_standard_schema_and_lineage(catalog):
    spec, ws = catalog
    load_specs([spec], ws, batch="b1")
    rec = read_records(ws)
    assert dict(rec.schema) == polars_schema()
    assert rec["source_unit"].unique().to_list() == ["市场监管局"]
    assert rec["catalog"].unique().to_list() == ["MR_SHAREHOLDER"]
    assert rec["source_file"].unique().to_list() == ["shareholders.csv"]
    assert rec["load_batch"].unique().to_list() == ["b1"]
    assert rec["kind"].unique().to_list() == ["relationship"]
    assert rec["record_id"].str.contains(r"^[0-9a-f]{20}$").all() and rec["record_id"].n_unique() == rec.height
    # the id is the SHA-256 of catalog, file name, header, row number and row content
    header = "\x1e".join(sorted(HEADER.split(",")))
    values = dict(zip(HEADER.split(","), ROWS[0][0].split(",")))
    content = "\x1f".join(values[c] for c in sorted(values))
    key = f"MR_SHAREHOLDER\x1fshareholders.csv\x1f{header}\x1f1\x1f{content}"
    assert rec.filter(pl.col("source_row") == 1)["record_id"][0] == hashlib.sha256(key.encode()).hexdigest()[:20]


def test_reloading_the_same_file_does_not_duplicate(catalog):
    spec, ws = catalog
    load_specs([spec], ws, batch="b1")
    first_rec, first_q = read_records(ws), read_quarantine(ws)
    report = load_specs([spec], ws, batch="b2")
    rec, q = read_records(ws), read_quarantine(ws)
    assert rec.height == first_rec.height == len(ACCEPTED) and q.height == first_q.height
    assert sorted(rec["record_id"]) == sorted(first_rec["record_id"])
    assert sorted(q["row_id"]) == sorted(first_q["row_id"])
    assert rec["load_batch"].unique().to_list() == ["b2"]  # the latest reading wins
    assert report.records_total == len(ACCEPTED)
    assert read_findings(ws).height == report.findings_total == 6
    assert read_findings(ws)["load_batch"].unique().to_list() == ["b2"]


def test_a_fixed_spec_moves_rows_out_of_quarantine(tmp_path):
    (tmp_path / "f.csv").write_text("名称,类型\n甲公司,公司\n乙某,自然人\n", encoding="utf-8")
    spec = tmp_path / "f.toml"
    base = 'code = "T"\nsource_unit = "u"\nkind = "entity"\nfile = "f.csv"\n[columns]\nsubject_name = "名称"\nsubject_type = "类型"\n'
    spec.write_text(base, encoding="utf-8")
    r1 = load_specs([spec], tmp_path / "ws", batch="b1")
    assert (r1.accepted, r1.quarantined) == (1, 1)
    assert read_quarantine(tmp_path / "ws")["value"].to_list() == ["公司"]
    spec.write_text(base + '[values.subject_type]\n"公司" = "legal"\n', encoding="utf-8")
    r2 = load_specs([spec], tmp_path / "ws", batch="b2")
    assert (r2.accepted, r2.quarantined) == (2, 0)
    assert read_quarantine(tmp_path / "ws").height == 0
    rec = read_records(tmp_path / "ws").sort("source_row")
    assert rec["subject_type"].to_list() == ["legal", "natural"]


@pytest.mark.parametrize("declared", ["gbk", None])
def test_gbk_csv_declared_or_detected(tmp_path, declared):
    write_csv(tmp_path, "gbk.csv", encoding="gbk")
    spec = write_spec(tmp_path, "gbk.csv", extra=f'encoding = "{declared}"' if declared else "")
    report = load_specs([spec], tmp_path / "ws", batch="b")
    assert (report.accepted, report.quarantined) == (len(ACCEPTED), QUARANTINED)
    assert report.files[0].encoding == (declared or "gb18030")
    rec = read_records(tmp_path / "ws").sort("source_row")
    assert rec["subject_name"][0] == "深圳市华强电子有限公司"
    assert rec["object_name"].to_list()[:3] == ["张伟", "李娜", "王芳"]


def test_small_chunks_give_the_same_result(tmp_path, catalog):
    spec, ws = catalog
    load_specs([spec], ws, batch="b")
    small = tmp_path / "ws-small"
    load_specs([spec], small, batch="b", config=LoadConfig(chunk_rows=2))
    a, b = read_records(ws).sort("source_row"), read_records(small).sort("source_row")
    assert a.equals(b)
    assert read_quarantine(ws).sort("source_row", "field").equals(read_quarantine(small).sort("source_row", "field"))


def test_xlsx(tmp_path):
    import xlsxwriter

    path = tmp_path / "firms.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("说明").write(0, 0, "not the data")
    sheet = book.add_worksheet("登记")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for c, name in enumerate(["企业名称", "统一社会信用代码", "成立日期", "注册资本", "持股比例"]):
        sheet.write(0, c, name)
    sheet.write_row(1, 0, ["深圳市华强电子有限公司", "914403001922038216"])
    sheet.write_datetime(1, 2, dt.datetime(2021, 3, 4), date_format)
    sheet.write_number(1, 3, 500)
    sheet.write_number(1, 4, 0.35)
    sheet.write_row(2, 0, ["坏码公司", "914403001922038217", "2021/3/4", "x", "35%"])
    book.close()
    spec = tmp_path / "firms.toml"
    spec.write_text(
        'code = "MR_REG"\nsource_unit = "市场监管局"\nkind = "entity"\nfile = "firms.xlsx"\nsheet = "登记"\n'
        '[columns]\nsubject_name = "企业名称"\nsubject_uscc = "统一社会信用代码"\ndate = "成立日期"\n'
        'capital = "注册资本"\nratio = "持股比例"\n',
        encoding="utf-8",
    )
    report = load_specs([spec], tmp_path / "ws", batch="b")
    assert (report.read, report.accepted, report.quarantined) == (2, 2, 0)
    rec = read_records(tmp_path / "ws").sort("source_row").row(0, named=True)
    assert rec["date"] == dt.date(2021, 3, 4) and rec["capital"] == 500.0 and rec["ratio"] == 0.35
    found = read_findings(tmp_path / "ws")
    assert sorted(found["field"]) == ["capital", "subject_uscc"] and set(found["source_row"]) == {2}
    second = read_records(tmp_path / "ws").sort("source_row").row(1, named=True)
    assert second["subject_name"] == "坏码公司" and second["subject_uscc"] is None and second["capital"] is None


def test_jsonl_with_a_broken_last_line(tmp_path):
    lines = [
        {"name": "深圳市华强电子有限公司", "uscc": "914403001922038216", "amount": 1500.5, "date": "2021-03-04", "court": "福田法院"},
        {"name": "某公司", "uscc": "914403001922038216", "amount": "1.5万元", "date": "20210304"},
    ]
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + '\n{"name": "截断公司", "uscc": "9144'
    (tmp_path / "court.jsonl").write_text(text, encoding="utf-8")
    spec = tmp_path / "court.toml"
    spec.write_text(
        'code = "COURT_DISHONEST"\nsource_unit = "法院"\nkind = "event"\nfile = "court.jsonl"\n'
        '[columns]\nsubject_name = "name"\nsubject_uscc = "uscc"\namount = "amount"\ndate = "date"\n'
        '[constants]\nevent_type = "dishonest_debtor"\nsubject_type = "legal"\n',
        encoding="utf-8",
    )
    report = load_specs([spec], tmp_path / "ws", batch="b")
    assert (report.read, report.accepted, report.quarantined) == (3, 2, 1)
    rec = read_records(tmp_path / "ws").sort("source_row")
    assert rec["amount"].to_list() == [1500.5, 15000.0]
    assert json.loads(rec["extra"][0]) == {"court": "福田法院"}
    assert rec["event_type"].to_list() == ["dishonest_debtor"] * 2
    (line,) = read_quarantine(tmp_path / "ws").to_dicts()
    assert line["source_row"] == 3 and line["field"] == "(row)" and "not valid JSON" in line["reason"]
    assert line["value"].startswith('{"name": "截断公司"')


def test_parquet_with_typed_columns(tmp_path):
    pl.DataFrame(
        {
            "company": ["深圳市华强电子有限公司", "坏码公司"],
            "code": ["914403001922038216", "914403001922038217"],
            "penalty": [20000, 300],
            "decided": [dt.date(2021, 3, 4), dt.date(2022, 1, 2)],
            "authority": ["市场监管局", "税务局"],
        }
    ).write_parquet(tmp_path / "penalties.parquet")
    spec = tmp_path / "p.toml"
    spec.write_text(
        'code = "PENALTY"\nsource_unit = "市场监管局"\nkind = "event"\nfile = "penalties.parquet"\n'
        '[columns]\nsubject_name = "company"\nsubject_uscc = "code"\namount = "penalty"\ndate = "decided"\n'
        'authority = "authority"\n[constants]\nevent_type = "行政处罚"\n',
        encoding="utf-8",
    )
    report = load_specs([spec], tmp_path / "ws", batch="b")
    # the adverse record with a mistyped code is kept: only the code is set aside
    assert (report.accepted, report.quarantined, report.set_aside) == (2, 0, 1)
    rec = read_records(tmp_path / "ws").sort("source_row").row(0, named=True)
    assert rec["amount"] == 20000.0 and rec["date"] == dt.date(2021, 3, 4)
    assert rec["event_type"] == "penalty"  # the Chinese catalog name maps to the event type
    (line,) = read_findings(tmp_path / "ws").to_dicts()
    assert (line["source_row"], line["field"], line["value"]) == (2, "subject_uscc", "914403001922038217")


def test_a_users_own_csv_with_a_hand_written_spec(tmp_path):
    """Not generator-shaped: English headers, ';' separator, quoted fields, value maps, org codes, reg numbers."""
    (tmp_path / "inspections_2024.csv").write_text(
        "Org Name;Org Code;Reg No;Result;Fine (CNY);Inspected On;Inspector;Notes\n"
        '"Huaqiang Electronics; Shenzhen";19220382-1;440301103097510;fail;"1,200";2024/5/6;Li;"said ""ok"""\n'
        "Tengfei Trading;19220382-2;;pass;0;2024-05-07;Wang;\n"
        "Hongtu Logistics;;440301103097511;warning;;6 May 2024;Zhao;\n"
        "Xinke;;;pass;;2024-05-08;Zhao;no identifiers but a name\n",
        encoding="utf-8",
    )
    spec = tmp_path / "inspections.toml"
    spec.write_text(
        """
code = "MY_INSPECTIONS"
name = "our spot checks"
source_unit = "district office"
kind = "event"
file = "inspections_2024.csv"
format = "csv"
delimiter = ";"
required = ["status"]

[columns]
subject_name = "Org Name"
subject_org_code = "Org Code"
subject_reg_no = "Reg No"
status = "Result"
amount = "Fine (CNY)"
date = "Inspected On"

[constants]
subject_type = "legal"
event_type = "penalty"

[values.status]
fail = "active"
pass = "removed"
""",
        encoding="utf-8",
    )
    report = load_specs([spec], tmp_path / "ws", batch="b")
    assert (report.read, report.accepted, report.quarantined) == (4, 4, 0)
    rec = read_records(tmp_path / "ws").sort("source_row")
    first = rec.row(0, named=True)
    assert first["subject_name"] == "Huaqiang Electronics; Shenzhen"
    assert first["subject_org_code"] == "192203821" and first["subject_reg_no"] == "440301103097510"
    assert first["amount"] == 1200.0 and first["status"] == "active" and first["date"] == dt.date(2024, 5, 6)
    assert json.loads(first["extra"]) == {"Inspector": "Li", "Notes": 'said "ok"'}
    assert rec["source_row"].to_list() == [1, 2, 3, 4]
    assert rec["date"][2] == dt.date(2024, 5, 6)  # "6 May 2024"
    # the bad codes are set aside; the inspections (with their names) are kept
    assert rec["subject_org_code"][1] is None and rec["subject_reg_no"][2] is None
    found = read_findings(tmp_path / "ws").sort("source_row", "field")
    assert found.select("source_row", "field", "column", "value").rows() == [
        (2, "subject_org_code", "Org Code", "19220382-2"),
        (3, "subject_reg_no", "Reg No", "440301103097511"),
    ]
    assert "check character is 2, expected 1" in found["reason"][0]


def test_a_failed_run_leaves_the_previous_outputs_untouched(catalog, tmp_path):
    spec, ws = catalog
    load_specs([spec], ws, batch="b1")
    outputs = [
        ws / "records" / "records.parquet",
        ws / "quarantine" / "quarantine.parquet",
        ws / "quarantine" / "findings.parquet",
        ws / "records" / "load_report.json",
    ]
    before = {p: p.read_bytes() for p in outputs}
    broken = tmp_path / "data" / "broken.toml"
    broken.write_text(SHAREHOLDER_SPEC.format(file="shareholders.csv", extra="").replace('"持股比例"', '"股权比例"'), encoding="utf-8")
    with pytest.raises(LoadError, match="股权比例"):
        load_specs([spec, broken], ws, batch="b2")  # the first spec loads fine, the second fails
    assert {p: p.read_bytes() for p in outputs} == before
    leftovers = [p for p in ws.rglob("*") if p.is_file() and p not in outputs]
    assert leftovers == []


def test_same_file_twice_in_one_run_is_loaded_once(catalog):
    spec, ws = catalog
    copy = spec.with_name("copy.toml")
    copy.write_text(spec.read_text(encoding="utf-8"), encoding="utf-8")
    report = load_specs([spec, copy], ws, batch="b")
    assert report.read == 2 * len(ROWS)
    n = len(ACCEPTED)
    assert read_records(ws).height == n and read_records(ws)["record_id"].n_unique() == n
    assert read_quarantine(ws)["row_id"].n_unique() == QUARANTINED
    assert read_findings(ws).height == 6


def test_read_records_without_a_load(tmp_path):
    with pytest.raises(LoadError, match="no records yet"):
        read_records(tmp_path)


def test_spec_objects_and_folders_are_accepted(catalog):
    spec, ws = catalog
    report = load_specs([spec.parent], ws, batch="b")  # a folder of specs
    assert report.read == len(ROWS)
    report = load_specs([read_spec(spec)], ws, batch="b")
    assert report.read == len(ROWS)


def test_jsonl_blocks_blank_and_broken_lines_keep_their_line_numbers(tmp_path):
    good = [json.dumps({"n": f"公司{i}", "u": "914403001922038216", "k": i}, ensure_ascii=False) for i in range(12)]
    lines = good[:4] + ["", '{"n": "坏", "u": '] + good[4:9] + ["   "] + good[9:]
    (tmp_path / "x.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = tmp_path / "x.toml"
    spec.write_text(
        'code = "X"\nsource_unit = "u"\nkind = "entity"\nfile = "x.jsonl"\n[columns]\nsubject_name = "n"\nsubject_uscc = "u"\n',
        encoding="utf-8",
    )
    results = []
    for chunk_rows in (3, 1000):
        ws = tmp_path / f"ws{chunk_rows}"
        report = load_specs([spec], ws, batch="b", config=LoadConfig(chunk_rows=chunk_rows))
        assert (report.read, report.accepted, report.quarantined) == (len(lines), 12, 3)
        rec = read_records(ws).sort("source_row")
        expected_rows = [i + 1 for i, ln in enumerate(lines) if ln.startswith('{"n": "公司')]
        assert rec["source_row"].to_list() == expected_rows
        assert rec["subject_name"].to_list() == [f"公司{i}" for i in range(12)]
        assert [json.loads(e) for e in rec["extra"]] == [{"k": str(i)} for i in range(12)]
        q = read_quarantine(ws).sort("source_row")
        assert q.select("source_row", "reason").rows() == [
            (5, "empty line"),
            (6, q["reason"][1]),
            (12, "empty line"),
        ] and "not valid JSON" in q["reason"][1]
        results.append((rec["record_id"].to_list(), q["row_id"].to_list()))
    assert results[0] == results[1]  # ids do not depend on the chunk size


def test_reloading_an_edited_file_replaces_its_old_rows(catalog, tmp_path):
    spec, ws = catalog
    other = tmp_path / "other"
    other.mkdir()
    write_csv(other, "other.csv")
    other_spec = write_spec(other, "other.csv")
    load_specs([spec, other_spec], ws, batch="b1")
    before = read_records(ws)
    kept = before.filter((pl.col("source_file") == "shareholders.csv") & (pl.col("source_row") != 1))
    edited = [(ROWS[0][0].replace("张伟", "张薇"), None)] + ROWS[1:]
    write_csv(spec.parent, rows=edited)
    load_specs([spec], ws, batch="b2")
    after = read_records(ws)
    mine = after.filter(pl.col("source_file") == "shareholders.csv").sort("source_row")
    assert mine.height == len(ACCEPTED) and mine["object_name"].to_list()[:3] == ["张薇", "李娜", "王芳"]
    old_first = before.filter((pl.col("source_file") == "shareholders.csv") & (pl.col("source_row") == 1))["record_id"][0]
    assert old_first not in mine["record_id"].to_list()  # the edited row has a new id, the old version is gone
    assert set(kept["record_id"]) <= set(mine["record_id"])  # unchanged rows keep theirs
    # another file's records are untouched
    assert after.filter(pl.col("source_file") == "other.csv").sort("source_row").equals(
        before.filter(pl.col("source_file") == "other.csv").sort("source_row")
    )


def test_tsv_and_gb18030_names(tmp_path):
    # TSV has no quoting; 𠮷 exists in GB18030 but not in GBK: a file labelled GBK is read as GB18030
    text = '名称\t代码\t备注\n𠮷野家(深圳)餐饮有限公司\t914403001922038216\t"引号"原样\n'
    (tmp_path / "t.tsv").write_bytes(text.encode("gb18030"))
    spec = tmp_path / "t.toml"
    spec.write_text(
        'code = "T"\nsource_unit = "u"\nkind = "entity"\nfile = "t.tsv"\nencoding = "gbk"\n'
        '[columns]\nsubject_name = "名称"\nsubject_uscc = "代码"\n',
        encoding="utf-8",
    )
    report = load_specs([spec], tmp_path / "ws", batch="b")
    assert report.files[0].format == "tsv" and report.accepted == 1
    rec = read_records(tmp_path / "ws").row(0, named=True)
    assert rec["subject_name"] == "𠮷野家(深圳)餐饮有限公司"
    assert json.loads(rec["extra"]) == {"备注": '"引号"原样'}


def test_xlsx_blank_row_unnamed_column_and_unknown_sheet(tmp_path):
    import xlsxwriter

    path = tmp_path / "w.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("数据")
    sheet.write_row(0, 0, ["名称", "代码", ""])
    sheet.write_row(1, 0, ["甲公司", "914403001922038216", "备注一"])
    sheet.write_row(3, 0, ["乙公司", "914403001922038216"])  # row 2 of the data is blank
    book.close()
    spec = tmp_path / "w.toml"
    base = 'code = "W"\nsource_unit = "u"\nkind = "entity"\nfile = "w.xlsx"\n{sheet}[columns]\nsubject_name = "名称"\nsubject_uscc = "代码"\n'
    spec.write_text(base.format(sheet=""), encoding="utf-8")
    report = load_specs([spec], tmp_path / "ws", batch="b")
    assert (report.read, report.accepted, report.quarantined) == (3, 2, 1)
    rec = read_records(tmp_path / "ws").sort("source_row")
    assert rec["source_row"].to_list() == [1, 3]
    assert json.loads(rec["extra"][0]) == {"column_3": "备注一"}
    assert read_quarantine(tmp_path / "ws").select("source_row", "reason").rows() == [(2, "empty row")]
    spec.write_text(base.format(sheet='sheet = "Sheet9"\n'), encoding="utf-8")
    with pytest.raises(LoadError, match=r"sheet = 'Sheet9': no such sheet in .*w\.xlsx \(it has: 数据\)"):
        load_specs([spec], tmp_path / "ws", batch="b")
