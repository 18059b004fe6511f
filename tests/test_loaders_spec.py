"""Catalog specs: what a good spec gives, and the message each mistake gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from credgraph.loaders import LoadError, find_specs, read_spec

BASE = {
    "code": '"MR_REG"',
    "source_unit": '"市场监管局"',
    "kind": '"entity"',
    "file": '"firms.csv"',
}


def write(tmp_path: Path, top: dict | None = None, tables: str = "[columns]\nsubject_name = \"名称\"\n", data: str = "firms.csv") -> Path:
    (tmp_path / data).write_text("名称\n甲\n", encoding="utf-8")
    keys = dict(BASE) | (top or {})
    text = "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None) + tables
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_spec(tmp_path):
    tables = """
required = ["subject_name"]
[columns]
subject_name = "企业名称"
object_name = "股东"
object_type = "股东类型"
ratio = "比例"
[constants]
subject_type = "legal"
relation = "shareholder_of"
date = 2021-03-04
[values.object_type]
"自然人" = "natural"
"企业" = "legal"
"""
    spec = read_spec(write(tmp_path, {"kind": '"relationship"', "encoding": '"gbk"', "name": '"股东及出资"'}, tables))
    assert spec.kind == "relationship" and spec.encoding == "gbk" and spec.name == "股东及出资"
    assert spec.format == "csv"  # from the extension
    assert spec.file == tmp_path / "firms.csv" and spec.source_file == "firms.csv"
    assert spec.columns == {"subject_name": "企业名称", "object_name": "股东", "object_type": "股东类型", "ratio": "比例"}
    assert spec.constants == {"subject_type": "legal", "relation": "shareholder_of", "date": "2021-03-04"}
    assert spec.values == {"object_type": {"自然人": "natural", "企业": "legal"}}
    assert spec.required == ("subject_name",)


def test_absolute_file_paths(tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "x.jsonl").write_text('{"n": "甲"}\n', encoding="utf-8")
    spec = read_spec(write(tmp_path, {"file": f'"{other / "x.jsonl"}"'}))
    assert spec.file == other / "x.jsonl" and spec.format == "jsonl"


@pytest.mark.parametrize(
    "top, tables, words",
    [
        ({"code": None}, None, ["missing key 'code'"]),
        ({"kind": '"person"'}, None, ["kind = 'person'", "entity, relationship, event"]),
        ({"format": '"csv2"'}, None, ["format = 'csv2'"]),
        ({"encoding": '"klingon"'}, None, ["encoding = 'klingon'", "unknown encoding"]),
        ({"sheet": '"Sheet1"'}, None, ["sheet applies to xlsx files only"]),
        ({"delimiter": '";;"'}, None, ["delimiter must be one character"]),
        ({"code": "7"}, None, ["code must be a non-empty text value"]),
        ({"file": '"gone.csv"'}, None, ["file = 'gone.csv'", "data file not found"]),
        ({}, "[columns]\nrecord_id = \"id\"\n", ["[columns] record_id", "set by the loader"]),
        ({}, "[columns]\nsubject_name = \"\"\n", ["[columns] subject_name must name a source column"]),
        ({}, "[columns]\nsubject_name = \"名称\"\n[constants]\nsubject_name = \"x\"\n", ["[constants] subject_name", "also mapped"]),
        ({}, "[columns]\nsubject_name = \"名称\"\n[values.subject_type]\n\"a\" = \"legal\"\n", ["[values.subject_type]", "not mapped in [columns]"]),
        ({}, "[columns]\nsubject_name = \"名称\"\n[constants]\nratio = \"150%\"\n", ["[constants] ratio = '150%'", "between 0 and 1"]),
        ({}, "[columns]\nsubject_name = \"名称\"\n[constants]\nsubject_uscc = \"914403001922038217\"\n", ["[constants] subject_uscc", "check character"]),
        ({}, "[columns]\nsubject_address = \"名称\"\n", ["maps no subject"]),
        ({"kind": '"relationship"'}, "[columns]\nsubject_name = \"名称\"\nobject_name = \"名称\"\n", ["must give relation"]),
        ({"kind": '"relationship"'}, "[columns]\nsubject_name = \"名称\"\n[constants]\nrelation = \"owner_of\"\n", ["must map object_name"]),
        ({"kind": '"relationship"'}, "[columns]\nsubject_name = \"名称\"\nobject_name = \"名称\"\n[constants]\nrelation = \"owner_of\"\n", ["[constants] relation = 'owner_of'", "unknown relation"]),
        ({}, "[columns]\nsubject_name = \"名称\"\n[constants]\nevent_type = \"fine\"\n", ["unknown event type"]),
        ({"kind": '"event"'}, None, ["an event catalog must give event_type"]),
        ({"required": '"subject_name"'}, None, ["required must be a list"]),
    ],
)
def test_spec_mistakes_name_the_file_and_key(tmp_path, top, tables, words):
    path = write(tmp_path, top, tables if tables is not None else '[columns]\nsubject_name = "名称"\n')
    with pytest.raises(LoadError) as err:
        read_spec(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    for word in words:
        assert word in message, (word, message)


def test_format_from_an_unknown_extension(tmp_path):
    path = write(tmp_path, {"file": '"firms.dat"'}, data="firms.dat")
    with pytest.raises(LoadError, match=r"spec\.toml: no format given and the file's extension '\.dat'.*add format"):
        read_spec(path)


def test_malformed_toml_names_line_and_column(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('code = "X"\nkind = entity\n', encoding="utf-8")
    with pytest.raises(LoadError, match=r"bad\.toml: not valid TOML: .*line 2, column 8"):
        read_spec(path)


def test_spec_in_another_encoding(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes('code = "X"\nsource_unit = "市场监管局"\n'.encode("gbk"))
    offset = len('code = "X"\nsource_unit = "')
    with pytest.raises(LoadError, match=rf"gbk\.toml: a spec must be UTF-8; invalid bytes at byte offset {offset}"):
        read_spec(path)


def test_find_specs(tmp_path):
    write(tmp_path)
    (tmp_path / "b.toml").write_text("", encoding="utf-8")
    assert [p.name for p in find_specs([tmp_path])] == ["b.toml", "spec.toml"]
    assert [p.name for p in find_specs([tmp_path / "spec.toml", tmp_path])] == ["spec.toml", "b.toml"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LoadError, match="holds no"):
        find_specs([empty])
