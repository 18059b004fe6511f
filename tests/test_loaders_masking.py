"""Quarantine and findings lines mask personal data as every other output does.

A data steward reads ``quarantine/*.parquet`` to fix a catalog; the file, row and field a line
names lead back to the source. The value it shows must not hand out a person's full ID number,
phone or passport. The fixtures are checked with python-stdnum (an independent oracle), and the
expected masked forms are written out by hand.
"""

from __future__ import annotations

import polars as pl
from stdnum.cn import ric

from credgraph.loaders import load_specs, read_findings, read_quarantine

FIRST17 = "44030519850312123"
GOOD = FIRST17 + ric.calc_check_digit(FIRST17 + "0")  # stdnum reads the first 17 of 18
TYPO = GOOD[:14] + GOOD[15] + GOOD[14] + GOOD[16:]  # two neighbouring digits swapped
MOBILE = "13912345678"
PASSPORT = "E98765432"

SPEC = """
code = "PEOPLE"
name = "people"
source_unit = "test"
kind = "entity"
file = "people.csv"
format = "csv"

[columns]
subject_name = "姓名"
subject_id_number = "身份证号"
subject_phone = "电话"
subject_birth_date = "生日"
[identifiers]
passport = "护照"
us_ssn = "ssn"
[constants]
subject_type = "natural"
"""


def _load(tmp_path):
    rows = [
        "姓名,身份证号,电话,生日,护照,ssn",
        f"张伟,{TYPO},{MOBILE},1985-03-12,,",  # ID fails its check: set aside, row kept
        f"李娜,,{MOBILE},1985-13-40,{PASSPORT},000-12-3456",  # bad birth date and a bad SSN: set aside
        f"王芳,{GOOD},{MOBILE},1985-03-12,,,多余,{TYPO}",  # too many fields: the whole line quarantined
    ]
    (tmp_path / "people.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "people.toml").write_text(SPEC, encoding="utf-8")
    report = load_specs([tmp_path / "people.toml"], tmp_path / "ws", batch="b")
    return report, read_findings(tmp_path / "ws"), read_quarantine(tmp_path / "ws")


def test_fixture_numbers_are_what_stdnum_says():
    assert ric.is_valid(GOOD) and not ric.is_valid(TYPO) and len(TYPO) == 18


def test_no_full_personal_number_in_quarantine_or_findings(tmp_path):
    report, found, quarantined = _load(tmp_path)
    assert (report.read, report.accepted, report.quarantined) == (3, 2, 1)
    text = " ".join(str(v) for frame in (found, quarantined) for row in frame.rows() for v in row)
    for secret in (GOOD, TYPO, MOBILE, PASSPORT, "000-12-3456", "000123456"):
        assert secret not in text, secret
    # the lines are still there and still say where to look
    lines = {(r, f): v for r, f, v in found.select("source_row", "field", "value").iter_rows()}
    assert lines[(1, "subject_id_number")] == TYPO[:6] + "********" + TYPO[-4:]
    assert lines[(2, "subject_birth_date")] == "1985-13-40"  # not personal enough to hide: kept
    assert lines[(2, "subject_identifiers[us_ssn]")] == "00*******56"
    (line,) = quarantined.filter(pl.col("source_row") == 3).to_dicts()
    assert line["field"] == "(row)"
    assert line["value"].startswith("王芳," + GOOD[:6] + "********" + GOOD[-4:] + ",139****5678,")


def test_company_codes_stay_readable(tmp_path):
    (tmp_path / "firms.csv").write_text("名称,代码\n甲公司,914403001922038217\n", encoding="utf-8")
    (tmp_path / "firms.toml").write_text(SPEC.replace("people", "firms").replace("PEOPLE", "FIRMS")
                                         .split("[columns]")[0] + '[columns]\nsubject_name = "名称"\n'
                                         'subject_uscc = "代码"\n[constants]\nsubject_type = "legal"\n',
                                         encoding="utf-8")
    load_specs([tmp_path / "firms.toml"], tmp_path / "ws", batch="b")
    (line,) = read_findings(tmp_path / "ws").to_dicts()
    assert (line["field"], line["value"]) == ("subject_uscc", "914403001922038217")
