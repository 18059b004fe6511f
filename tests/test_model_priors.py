"""The model's readable priors: sign-correct weights on small data, data winning on large data.

The expectations are written from how records of one person look (a typo in a name is evidence for
a match, a different address is weak evidence against, an identical passport is near proof), not
read back from the functions under test; the old geometric default failed each of them on a data
set of this size (address different -15 bits, a similar name -2 bits, an identical passport +3 bits).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import pytest

from credgraph.resolution import resolve
from credgraph.resolution.features import LEGAL_COMPARISONS, NATURAL_COMPARISONS, Comparison
from credgraph.resolution.model import PRIOR_M, PRIOR_U, estimate_u, fit_type_model, prior_m
from credgraph.resolution.sample import records_frame

#: The documented bound (README, "How resolution decides"): a person seen at two different addresses
#: costs at most this many bits on a small data set (people move; the old default charged -15).
ADDRESS_DIFFERENT_BOUND = -3.0

_GIVEN = ["George", "Maria", "Thomas", "Helen", "Robert", "Susan", "Peter", "Laura", "Frank", "Alice",
          "Henry", "Nancy", "Walter", "Emily", "Arthur", "Grace", "Oscar", "Diana", "Victor", "Irene"]
_SUR = ["Baker", "Collins", "Dawson", "Ellison", "Fischer", "Garrett", "Hughes", "Ingram", "Jensen", "Keller"]


def _person(i: int, name: str, birth: dt.date, address: str, phone: str | None, passport: str | None) -> dict:
    return {"kind": "entity", "subject_type": "natural", "subject_name": name, "subject_birth_date": birth,
            "subject_address": address, "subject_phone": phone,
            "subject_identifiers": json.dumps([{"scheme": "passport", "value": passport}]) if passport else None}


def _small_register() -> list[dict]:
    """60 people, two records each as two registers would hold them: the second record has a typo
    in the given name for every third person, another address for every fourth (moved), a phone
    only in some, the passport in both. Names are distinct; nothing is shared between people."""
    rows = []
    for i in range(60):
        given, sur = _GIVEN[i % 20], _SUR[i // 6 % 10]
        name = f"{given} {sur}" if i < 20 else f"{given} {sur}{'son' if i < 40 else 'ley'}"
        birth = dt.date(1950 + i % 40, 1 + i % 12, 1 + (7 * i) % 28)
        addr = f"{10 + i} {['Oak', 'Elm', 'Pine', 'Cedar', 'Maple'][i % 5]} Street, Springfield {60000 + 37 * i}"
        phone = str(int(hashlib.sha1(f"phone {i}".encode()).hexdigest()[:12], 16))[-10:]
        passport = hashlib.sha1(f"passport {i}".encode()).hexdigest()[:9].upper()  # spread like real numbers
        rows.append(_person(i, name, birth, addr, phone, passport))
        name2 = name.replace(given, given[:-1] if len(given) > 4 else given + "e") if i % 3 == 0 else name
        addr2 = (f"{200 + i} {['Lake', 'Hill', 'River'][i % 3]} Road, Shelbyville {70000 + 11 * i}"
                 if i % 4 == 0 else addr)
        rows.append(_person(i, name2, birth, addr2, phone if i % 2 else None, passport))
    return rows


@pytest.fixture(scope="module")
def small_model():
    res = resolve(records_frame(_small_register()))
    return res.model.types["natural"]


def _w(tm, comparison: str, level: str) -> float:
    c = next(c for c in NATURAL_COMPARISONS if c.name == comparison)
    return float(tm.weights(comparison)[c.levels.index(level)])


def test_the_prior_tables_match_the_comparisons():
    """Every comparison has a row per level, in order, shares summing to 1, each with a reason."""
    for type_, comps in (("natural", NATURAL_COMPARISONS), ("legal", LEGAL_COMPARISONS)):
        assert set(PRIOR_M[type_]) == {c.name for c in comps}
        for c in comps:
            rows = PRIOR_M[type_][c.name]
            assert tuple(r[0] for r in rows) == c.levels, (type_, c.name)
            assert abs(sum(r[1] for r in rows) - 1.0) < 1e-9, (type_, c.name)
            assert all(0 < r[1] < 1 and len(r[2]) > 20 for r in rows), (type_, c.name)
        for name, rows in PRIOR_U[type_].items():
            c = next(c for c in comps if c.name == name)
            assert c.value_columns, name  # the top level's u is counted from the data's values
            assert all(r[0] in c.levels[1:] and 0 < r[1] < 0.01 for r in rows), name


def test_small_data_set_gets_sign_correct_weights(small_model):
    tm = small_model
    assert tm.info["known_matches"] == 0  # nothing identified: the priors carry m
    assert _w(tm, "name", "similar") > 0 > _w(tm, "name", "different")
    assert _w(tm, "name", "identical") > _w(tm, "name", "similar")
    assert _w(tm, "identifier", "identical") >= 15  # two people share a passport number ~never
    assert _w(tm, "identifier", "near") > 5  # one mistyped character
    assert _w(tm, "address", "different") >= ADDRESS_DIFFERENT_BOUND
    assert _w(tm, "address", "identical") > 3
    assert _w(tm, "birth_date", "identical") > 0 > _w(tm, "birth_date", "different")
    assert _w(tm, "phone", "identical") > 5 > 0 > _w(tm, "phone", "different") > -3


def test_small_data_set_resolves_its_people(small_model):
    """The same 120 records resolve into the 60 people (typos, moves and missing phones included)."""
    res = resolve(records_frame(_small_register()))
    ent = res.assignments.filter(res.assignments["role"] == "subject").sort("record_id")["entity_id"].to_list()
    assert len(set(ent)) == 60
    assert all(ent[2 * i] == ent[2 * i + 1] for i in range(60))


def test_shared_values_among_different_people_lift_u():
    """u(identical) is a Beta posterior: one prior collision in 1/u pairs, plus the data's count of
    carriers with clearly different names sharing a value. Hand values: phone u = 1e-3, so 1000
    prior pairs; 10 collisions among 1000 carrier pairs give (10 + 1) / (1000 + 1000)."""
    phone = next(c for c in NATURAL_COMPARISONS if c.name == "phone")
    comps = (phone,)
    none = estimate_u(comps, np.zeros((0, 1), np.int8), type_="natural", collisions={"phone": (0.0, 1000.0)})
    some = estimate_u(comps, np.zeros((0, 1), np.int8), type_="natural", collisions={"phone": (10.0, 1000.0)})
    assert none["phone"][1] == pytest.approx(1 / 2000)
    assert some["phone"][1] == pytest.approx(11 / 2000)
    # A city's count outweighs the prior: 500 collisions among 10M pairs is 5e-5, not 1e-3.
    city = estimate_u(comps, np.zeros((0, 1), np.int8), type_="natural", collisions={"phone": (500.0, 1e7)})
    assert city["phone"][1] == pytest.approx(501 / (1e7 + 1000))


def test_large_data_moves_m_from_the_prior_towards_the_data():
    """Synthetic comparison vectors with a known m far from the prior (people who moved in 60% of
    pairs, against the prior's 25%): on 150 unlabelled pairs m stays at the prior; on 20,000 EM
    (no identified pairs) finds the data's share; 5,000 identified pairs do the same directly."""
    rng = np.random.default_rng(7)
    addr = Comparison("address", ("different", "same road", "same road and number", "identical"), lambda p: p)
    phone = Comparison("phone", ("different", "identical"), lambda p: p)
    name = Comparison("name", ("different", "similar", "transposed", "homophone", "identical"), lambda p: p)
    comps = (name, addr, phone)
    m_true = {"name": [0.02, 0.10, 0.02, 0.02, 0.84], "address": [0.60, 0.05, 0.05, 0.30], "phone": [0.5, 0.5]}
    u_true = {"name": [0.80, 0.17, 0.01, 0.01, 0.01], "address": [0.97, 0.02, 0.007, 0.003], "phone": [0.999, 0.001]}

    def draw(n, probs):
        return np.stack([rng.choice(len(probs[c.name]), n, p=probs[c.name]) for c in comps], axis=1).astype(np.int8)

    u_prior = estimate_u(comps, draw(50_000, u_true), type_="legal")
    prior = prior_m("legal", comps)["address"][0]
    assert prior == pytest.approx(0.25)
    small = np.concatenate([draw(50, m_true), draw(100, u_true)])
    tm_small = fit_type_model("legal", comps, small, -np.ones(len(small), np.int64), u_prior)
    assert tm_small.m["address"][0] == pytest.approx(prior, abs=1e-6)
    big = np.concatenate([draw(6000, m_true), draw(14000, u_true)])
    tm_big = fit_type_model("legal", comps, big, -np.ones(len(big), np.int64), u_prior, iterations=200)
    assert tm_big.info["anchor"] == "unsupervised"
    assert abs(tm_big.m["address"][0] - 0.60) < 0.05
    assert abs(tm_big.m["phone"][1] - 0.5) < 0.05
    known = draw(5000, m_true)
    tm_known = fit_type_model("legal", comps, known, np.ones(len(known), np.int64), u_prior)
    assert abs(tm_known.m["address"][0] - 0.60) < 0.03  # (5000 x 0.6 + 200 x 0.25) / 5200


def test_explain_shows_the_prior_weights():
    """``credgraph explain A B`` reads the run's model: person 0 moved and has a typo in the given
    name (Georg / George); the waterfall shows the address at its small cost, the passport near 20 bits."""
    res = resolve(records_frame(_small_register()))
    from credgraph.resolution.explain import explain_pair

    text = explain_pair(res, "r000001", "r000002")
    tm = res.model.types["natural"]
    lines = {ln.split()[0]: ln for ln in text.splitlines() if ln.strip() and ln.split()[0] in ("address", "identifier")}
    assert "different" in lines["address"] and f"{_w(tm, 'address', 'different'):+.2f} bits" in lines["address"]
    assert "identical" in lines["identifier"] and f"{_w(tm, 'identifier', 'identical'):+.2f} bits" in lines["identifier"]
    assert _w(tm, "identifier", "identical") > 15 and _w(tm, "address", "different") >= ADDRESS_DIFFERENT_BOUND


def test_firms_sharing_an_address_and_phone_stay_apart_without_a_similar_name():
    """Many firms share a registered agent's address and phone (shells cluster at one address): with
    names altogether different they are not merged automatically (rule ``firm_name_differs``), while
    one firm written with a homophone typo at the same address is."""
    agent_addr, agent_phone = "深圳市福田区福华一路88号中心商务大厦1208室", "0755-83210001"
    brands = ["华强电子", "明德贸易", "宏远物流", "金桥科技", "恒信咨询", "瑞丰食品", "嘉和建材", "天成纺织"]
    rows = []
    for i, b in enumerate(brands):
        addr = agent_addr if i < 2 else f"深圳市南山区科技园南区{i}路{10 + i}号"
        phone = agent_phone if i < 2 else f"0755-8650{i:04d}"
        rows.append({"kind": "entity", "subject_type": "legal", "subject_name": f"深圳市{b}有限公司",
                     "subject_address": addr, "subject_phone": phone})
    rows.append({"kind": "entity", "subject_type": "legal", "subject_name": "深圳市华墙电子有限公司",
                 "subject_address": agent_addr, "subject_phone": agent_phone})  # 华强 typed as 华墙
    res = resolve(records_frame(rows))
    ent = res.assignments.filter(res.assignments["role"] == "subject").sort("record_id")["entity_id"].to_list()
    assert ent[0] != ent[1]  # 华强电子 and 明德贸易 at the agent's address: two firms
    assert ent[8] == ent[0]  # 华墙电子 is 华强电子 with a homophone typo
    assert len(set(ent)) == 8


@pytest.mark.parametrize("key,value", [("model_prior_pairs", 0.0), ("identifier_u_prior_collisions", float("nan"))])
def test_a_prior_strength_that_is_not_a_positive_number_is_refused(key, value):
    from credgraph.config import ResolutionConfig
    from credgraph.resolution.errors import ResolutionError

    with pytest.raises(ResolutionError, match=f"resolution.{key} must be a positive number"):
        resolve(records_frame(_small_register()[:4]), config=ResolutionConfig(**{key: value}))
