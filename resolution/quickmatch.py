"""The Matcher's fast path for a few examples: one example's features and blocking keys in plain Python.

:func:`credgraph.resolution.mentions.extract_mentions` and the resolver's blocking-key
expressions (``engine._key_exprs``) run as polars pipelines: right for a million records, but
about a hundred small dataframe steps for a single query. This module computes the same values
for one example with the same normalisation functions, so the Matcher can answer a single
``match`` in a few milliseconds. The Matcher's tests check that both paths give identical answers.

Input the fast path does not handle exactly like the pipeline (leading or trailing whitespace,
control characters, non-ASCII e-mail addresses) makes :func:`query_features` return ``None``;
the Matcher then answers that batch through the pipeline.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

from credgraph.resolution.generation import split_generation
from credgraph.resolution.latin_address import is_latin_address, parse_latin_address
from credgraph.resolution.mentions import (_PRC_SCHEMES, _id_parse, _org_valid, _parse_identifiers, _reg_valid,
                                           _uscc_valid)
from credgraph.resolution.normalise import (english_company_name, looks_like_company, normalise_phone,
                                            normalise_texts, parse_addresses, parse_normalised_company_names,
                                            person_name_keys, pinyin_keys, postcode_of)

__all__ = ["query_features", "blocking_keys"]

_SEP = "\x1f"  # engine._SEP
_ID_WINDOWS = ((0, 6), (5, 11), (10, 16), (12, 18))  # engine._ID_WINDOWS
_PREFIX = re.compile(r"^(\d{6})")
_SUFFIX = re.compile(r"(\d{3}[\dX])\Z")
_BIRTH8 = re.compile(r"^(\d{8})")
_ID_BIRTH = re.compile(r"^\d{6}(\d{8})")
_SCHEME = re.compile(r"^([^:]+):")
_VALUE = re.compile(r":(.+)\Z")
_PLAIN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\x85]")


def _plain(v: str) -> bool:
    """A value polars and Python treat alike: no surrounding whitespace, no control characters."""
    return v == v.strip() and not _PLAIN.search(v)


def query_features(row: Mapping[str, Any]) -> dict[str, str] | None:
    """The normalised features (the mention columns the Matcher compares, plus ``type``) of one
    example, given as the ``subject_*`` row :func:`credgraph.resolution.matching.example_row` made;
    ``None`` when the example needs the pipeline (see the module docstring)."""
    raw: dict[str, str | None] = {}
    for key in ("type", "name", "uscc", "org_code", "reg_no", "id_number", "address", "phone", "email",
                "identifiers"):
        v = row.get(f"subject_{key}")
        if v is not None and not _plain(str(v)):
            return None
        raw[key] = None if v is None else str(v)
    bd = row.get("subject_birth_date")
    birth_date = bd.isoformat() if isinstance(bd, dt.date) else None
    f: dict[str, str] = {}
    if raw["identifiers"] is not None:
        prc, other = _parse_identifiers(raw["identifiers"])
        f["ident"] = other
        for col in _PRC_SCHEMES.values():
            if prc.get(col) and (raw[col] or "").strip() == "":
                raw[col] = prc[col]
    else:
        f["ident"] = ""
    email = raw["email"]
    if email is not None and not email.isascii():
        return None
    f["email_n"] = (email or "").strip().lower()
    f["uscc_v"] = _uscc_valid(raw["uscc"]) if raw["uscc"] is not None else ""
    org = _org_valid(raw["org_code"]) if raw["org_code"] is not None else ""
    f["reg_v"] = _reg_valid(raw["reg_no"]) if raw["reg_no"] is not None else ""
    f["id_full"], f["id_masked"] = _id_parse(raw["id_number"]) if raw["id_number"] is not None else ("", "")
    f["org_v"] = f["uscc_v"][8:17] if f["uscc_v"] != "" else org
    # an ID with a failed check is kept aside as evidence, as the loader keeps it (matching._unchecked_id)
    unchecked = row.get("subject_id_number_unchecked")
    f["id_unchecked"] = str(unchecked) if unchecked and f["id_full"] == "" and f["id_masked"] == "" else ""
    idv = f["id_full"] if f["id_full"] != "" else f["id_masked"]
    m = _PREFIX.search(idv)
    f["id_prefix"] = m.group(1) if m else ""
    m = _SUFFIX.search(idv)
    f["id_suffix"] = m.group(1) if m else ""
    m = _BIRTH8.search(birth_date.replace("-", "")) if birth_date is not None else None
    if m is None:
        m = _ID_BIRTH.search(idv)
    f["birth"] = m.group(1) if m else ""
    name = raw["name"]
    from credgraph.resolution.normalise import transliterate

    nt = normalise_texts([english_company_name(name) or transliterate(name)])[0] if name is not None else ""
    given = (raw["type"] or "").strip().lower()
    if given in ("legal", "natural"):
        type_ = given
    elif f["uscc_v"] or f["org_v"] or f["reg_v"]:
        type_ = "legal"
    elif f["id_full"] or f["id_masked"]:
        type_ = "natural"
    elif name is not None and looks_like_company(nt):
        type_ = "legal"
    else:
        type_ = "natural"
    f["type"] = type_
    for c in ("norm_name", "region", "core", "brand", "industry", "form", "branch", "name_tok", "name_phon"):
        f[c] = ""
    if type_ == "legal":
        p = parse_normalised_company_names([nt])[0]
        f.update(norm_name=p.canonical, region=p.region or "", core=p.core or "", brand=p.brand or "",
                 industry=p.industry or "", form=p.form or "", branch=p.branch or "")
    f["name_gen"] = ""
    if type_ == "natural" and name is not None:  # as mentions._generation_features
        base, f["name_gen"] = split_generation(name)
        if f["name_gen"]:
            name, nt = base, normalise_texts([base])[0]
    if type_ != "legal":
        pn = nt.replace("·", "").replace("(", "").replace(")", "")
        f["norm_name"] = f["core"] = pn
        if name is not None:
            f["name_tok"], f["name_phon"] = person_name_keys([name])[0]
    f["name_py"] = pinyin_keys([f["core"]])[0]
    f["name_sorted"] = "".join(sorted(f["core"]))
    addr = raw["address"]
    if addr is not None:
        a = parse_addresses([addr])[0]
        la = parse_latin_address(addr) if is_latin_address(addr) else None
        if la is not None and not la.empty:  # as mentions._address_features
            f.update(addr_text=a.text or "", addr_district="", addr_road=la.street_name, addr_number=la.number,
                     addr_key=la.key or a.text or "", addr_latin=la.serialise(),
                     postcode=la.postcodes[0] if la.postcodes else "")
        else:
            f.update(addr_text=a.text or "", addr_district=a.district or "", addr_road=a.road or "",
                     addr_number=a.number or "", addr_key=a.key or "", addr_latin="", postcode=postcode_of(addr) or "")
    else:
        f.update(addr_text="", addr_district="", addr_road="", addr_number="", addr_key="", addr_latin="",
                 postcode="")
    f["phone_n"] = (normalise_phone(raw["phone"]) or "") if raw["phone"] is not None else ""
    f["company"] = ""
    if type_ == "legal":
        _latin_company(f, raw["name"])
    return f


def _latin_company(f: dict[str, str], name: Any) -> None:
    """A company named in Latin script: its parts and keys as ``mentions._latin_company_features`` gives them."""
    from credgraph.resolution.normalise import company_name_keys, latin_company_name

    p = latin_company_name(name)
    if p is not None:
        f.update(norm_name=p.canonical, region=p.region, core=p.core, brand=p.brand, industry=p.industry,
                 form=p.form, branch=p.branch)
        f["name_py"], f["name_sorted"], f["name_tok"] = company_name_keys(p)


def _k(f: Mapping[str, str], tag: str, *cols: str) -> str | None:
    vals = [f[c] for c in cols]
    return _SEP.join((tag, *vals)) if all(v != "" for v in vals) else None


def blocking_keys(f: Mapping[str, str], type_: str) -> set[str]:
    """The blocking keys (unhashed) of one query: ``engine._key_exprs(type_, matching=True)``."""
    if type_ == "legal":
        keys = [_k(f, "c", "core"), _k(f, "p", "name_py"), _k(f, "s", "name_sorted"),
                _k(f, "ap", "addr_key", "phone_n"), _k(f, "a", "addr_key"), _k(f, "t", "phone_n")]
        brand, industry = f["brand"], f["industry"]
        n = len(brand)
        if n >= 3:
            keys += [f"d{_SEP}" + brand[:i] + brand[i + 1:] + industry for i in range(min(n, 6))]
        if n == 2 and industry != "":
            keys += [_SEP.join(("d2", brand[1 - i], industry, f["branch"])) for i in range(2)]
        keys += [_SEP.join(("lw", w)) for w in f["name_tok"].split()]  # Latin-script names: each word's sound
    else:
        keys = [_k(f, "nb", "core", "birth"), _k(f, "np", "core", "id_prefix"), _k(f, "ns", "core", "id_suffix"),
                _k(f, "nt", "core", "phone_n"), _k(f, "na", "core", "addr_key"), _k(f, "nc", "core", "company"),
                _k(f, "pc", "name_py", "company"), _k(f, "pb", "name_py", "birth"),
                _k(f, "ps", "name_py", "id_suffix"), _k(f, "sc", "name_sorted", "company"),
                _k(f, "sb", "name_sorted", "birth"), _k(f, "id", "id_prefix", "id_suffix"),
                _k(f, "tb", "name_tok", "birth"), _k(f, "fb", "name_phon", "birth"),
                _k(f, "fp", "name_phon", "postcode"), _k(f, "b", "birth"),
                _k(f, "tt", "name_tok", "phone_n"), _k(f, "te", "name_tok", "email_n"),
                _k(f, "ta", "name_tok", "addr_key"), _k(f, "ft", "name_phon", "phone_n"),
                _k(f, "fa", "name_phon", "addr_key")]
        if f["name_tok"] != "" and f["birth"] != "":
            init = "".join(t[:1] for t in f["name_tok"].split(" "))
            keys.append(_SEP.join(("iy", init, f["birth"][:4])))
        keys.append(_k(f, "ie", "ident"))
        if f["ident"] != "":
            for one in f["ident"].split("|")[:3]:  # as the resolver's blocking: each of the first three
                sm, vm = _SCHEME.search(one), _VALUE.search(one)
                if sm and vm and len(vm.group(1)) >= 6:
                    v = vm.group(1)
                    keys += [_SEP.join(("i1", sm.group(1), v[:4])), _SEP.join(("i2", sm.group(1), v[-4:]))]
        idk = f["id_full"] if f["id_full"] != "" else f["id_unchecked"]
        if len(idk) == 18:  # as engine._id_windows
            keys += [_SEP.join((f"iw{a}", idk[:a], idk[b:])) for a, b in _ID_WINDOWS]
        keys += [_k(f, "tt", "name_tok", "phone_n"), _k(f, "te", "name_tok", "email_n"),
                 _k(f, "ta", "name_tok", "addr_key")]
        if f["addr_latin"] != "" and f["addr_number"] != "" and f["addr_road"] != "":  # engine._door_key
            keys.append(_SEP.join(("ak", f["addr_key"])))
        keys += [_k(f, "em", "email_n"), _k(f, "bp", "birth", "postcode"), _k(f, "tc", "name_tok", "company"),
                 _k(f, "fc", "name_phon", "company"), _k(f, "c", "core"), _k(f, "t", "name_tok"),
                 _k(f, "f", "name_phon")]
    return {k for k in keys if k is not None}
