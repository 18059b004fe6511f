"""The synthetic city's true state: who exists, who owns and runs whom, who is at fault.

:func:`build_world` draws every legal and natural person with clean canonical names and
valid identifiers, then the links between them (legal representatives, shareholdings
with multi-layer holding groups and cross-holdings, officers, branches, registration
agents), then the planted truths the analytics must find:

* **shell clusters**: firms registered within days of each other at one address, phone,
  agent or nominee legal representative, with tiny capital and no insured staff;
* **latent risk**: a number per entity that rises with a risky legal representative or
  shareholder, shell membership and risky industries, and flows down holding chains;
  the catalogs draw visible bad records from it, and the hidden **violators** (what a spot
  check would find) are drawn from it separately, so they are correlated with, but not
  equal to, the visible records;
* **hard negatives**: branches beside their parents, one brand in several industries,
  many different people sharing a common name.

Everything is numpy arrays indexed by entity: legal persons are ``0 .. n_legal-1``,
natural persons follow. The catalogs (:mod:`credgraph.synth.catalogs`) only read it.

>>> w = build_world(300, seed=7)
>>> w.n_legal + w.n_natural, w.entity_id[0], w.entity_id[w.n_legal]
(300, 'L0000000', 'N0000000')
>>> bool((w.rel_type == REL_CODES["branch_of"]).any()), len(w.clusters) >= 1
(True, True)
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass, field

import numpy as np

from credgraph.synth import ids, vocab
from credgraph.synth.regimes import DEFAULT_REGIME, Regime, ShellParams, draw_regime
from credgraph.synth.words import Words, load_words
from credgraph.synth.foreign import FOREIGN_SHARE, canonical_latin, draw_foreigners

__all__ = ["World", "build_world", "rng_for", "REF_DATE", "REL_CODES", "REL_NAMES", "HARD_TAGS"]

#: The city is observed at the end of 2021 (the report's year): statuses are judged then.
REF_DATE = np.datetime64("2021-12-31")
#: Firms registered before the USCC reform carry a 15-digit registration number and an old code.
REFORM_DATE = np.datetime64("2015-10-01")
#: No firm is established after this, so that every firm has some history before REF_DATE.
LAST_EST = np.datetime64("2021-06-30")

REL_NAMES = ("shareholder_of", "legal_rep_of", "officer_of", "branch_of", "agent_of")
REL_CODES = {n: i for i, n in enumerate(REL_NAMES)}
HARD_TAGS = ("branch", "same_brand_other_industry", "same_name_person")

_LIMITED_FORMS = ("有限责任公司", "股份有限公司")
_SHELL_INDUSTRIES = ("贸易", "商务咨询", "投资管理", "供应链管理", "网络科技", "科技", "电子商务", "资产管理")
_AGENT_INDUSTRIES = ("商务咨询", "企业管理咨询", "财务咨询")
_CAPITAL_LADDER = np.array([1, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000, 50000], float)
_CAPITAL_P = np.array([3, 4, 6, 12, 6, 5, 10, 18, 8, 6, 8, 7, 3, 2, 1.2, 0.3])
_SHOP_CAPITAL = np.array([1, 2, 3, 5, 10, 20, 50], float)


def rng_for(seed: int, *names: str | int) -> np.random.Generator:
    """An independent, reproducible random stream for one named step of the generator.

    Streams are keyed by names, not by call order, so adding a step never changes the
    draws of the others.
    """
    key = [zlib.crc32(str(n).encode("utf-8")) for n in names]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=key)))


@dataclass
class World:
    seed: int
    n_legal: int
    n_natural: int
    entity_id: np.ndarray
    names: np.ndarray  # canonical names, both kinds
    z: np.ndarray  # latent risk, both kinds
    hard: np.ndarray  # bitmask over HARD_TAGS, both kinds
    # ---- legal persons (length n_legal)
    prefix: np.ndarray
    klass: np.ndarray  # 1 enterprise, 2 individual business, 3 cooperative, 4 non-market
    legal_form: np.ndarray
    district: np.ndarray  # index into vocab.DISTRICTS
    est: np.ndarray
    capital: np.ndarray  # 10k CNY, NaN for branches
    status: np.ndarray
    old: np.ndarray
    uscc: np.ndarray
    org_code: np.ndarray
    reg_no: np.ndarray
    region: np.ndarray
    brand: np.ndarray
    mid: np.ndarray
    bracket: np.ndarray
    form: np.ndarray
    suffix: np.ndarray
    base: np.ndarray  # entity whose name components a legal name is built from (parent for branches)
    sector: np.ndarray
    parent: np.ndarray
    address: np.ndarray
    phone: np.ndarray
    legal_rep: np.ndarray  # global index of the legal representative (or branch head)
    agent: np.ndarray  # global index of the registering agent, -1 if none
    is_agent: np.ndarray
    shell: np.ndarray  # cluster id, -1 if not a shell
    insured: np.ndarray  # true insured staff
    violation: np.ndarray  # '' when a spot check would find nothing
    # ---- natural persons (length n_natural)
    surname: np.ndarray
    given: np.ndarray
    male: np.ndarray
    birth: np.ndarray
    id18: np.ndarray
    id15: np.ndarray
    pphone: np.ndarray
    pdistrict: np.ndarray
    nominee: np.ndarray
    covered: np.ndarray  # the person holds, represents or serves some firm
    # ---- relationships (src holds/represents/serves/is branch of/registered dst)
    rel_src: np.ndarray
    rel_dst: np.ndarray
    rel_type: np.ndarray
    rel_ratio: np.ndarray
    rel_role: np.ndarray
    clusters: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # (cluster id, shared kinds)
    #: What visible bad records are drawn from (the latent risk when the regime couples them fully).
    zv: np.ndarray | None = None
    #: The planting regime's drawn parameters (:meth:`credgraph.synth.regimes.Regime.as_dict`).
    regime: dict = field(default_factory=dict)
    #: Chance that a shell is put on the abnormal-operations list.
    shell_abnormal: float = 0.6
    # ---- foreign nationals among natural persons (length n_natural; "" for PRC residents), see synth/foreign.py
    foreign: np.ndarray | None = None
    nationality: np.ndarray | None = None  # ISO 3166 alpha-2
    passport: np.ndarray | None = None
    lat_given: np.ndarray | None = None
    lat_middle: np.ndarray | None = None
    lat_family: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.n_legal + self.n_natural

    @property
    def visible(self) -> np.ndarray:
        """The propensity the catalogs draw visible bad records from (``zv``, else the latent ``z``)."""
        return self.z if self.zv is None else self.zv

    def rel_rows(self, relation: str) -> np.ndarray:
        """Row positions of one relation kind in the rel_* arrays (grouped by company)."""
        cache = self.__dict__.setdefault("_rel_rows", {})
        if relation not in cache:
            cache[relation] = np.flatnonzero(self.rel_type == REL_CODES[relation])
        return cache[relation]


# ----------------------------------------------------------------------------- helpers
def _pick(rng: np.random.Generator, options, p, size) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=np.asarray(p) / np.sum(p))]


def _dates(rng: np.random.Generator, lo: np.ndarray | np.datetime64, hi: np.ndarray | np.datetime64, size: int):
    lo = np.broadcast_to(np.asarray(lo, dtype="datetime64[D]"), (size,))
    hi = np.broadcast_to(np.asarray(hi, dtype="datetime64[D]"), (size,))
    span = np.maximum((hi - lo).astype(np.int64), 0)
    return lo + (rng.random(size) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def _group_first(keys: np.ndarray) -> np.ndarray:
    """For each position, the position of the first element with the same key."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    start = np.r_[True, sk[1:] != sk[:-1]]
    first_in_run = order[np.maximum.accumulate(np.where(start, np.arange(len(sk)), 0))]
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = first_in_run
    return out


# ----------------------------------------------------------------------------- persons
_ADULT = np.timedelta64(18 * 365 + 5, "D")


def _adults(rng, who: np.ndarray, when: np.ndarray, persons: dict, n_legal: int) -> np.ndarray:
    """Replace persons (global indices) who were not yet 18 at ``when`` by adults drawn the same way.

    A firm's representative, shareholders and officers were adults when it was founded.
    """
    who = np.array(who, dtype=np.int64, copy=True)
    birth, pw = persons["birth"], persons["weight"]

    def minors() -> np.ndarray:
        bad = who >= n_legal
        bad[bad] = birth[who[bad] - n_legal] + _ADULT > when[bad]
        return bad

    for _ in range(10):
        bad = minors()
        if not bad.any():
            return who
        who[bad] = n_legal + rng.choice(len(pw), size=int(bad.sum()), p=pw)
    old = np.flatnonzero((birth < np.datetime64("1966-01-01")) & (pw > 0))  # adults at any founding date
    bad = minors()
    who[bad] = n_legal + old[rng.integers(0, len(old), int(bad.sum()))]
    return who


def _persons(seed: int, p: int, words: Words) -> dict:
    rng = rng_for(seed, "persons")
    male = rng.random(p) < 0.56
    surname = _pick(rng, words.surnames, words.surname_p, p)
    given = np.empty(p, dtype=object)
    given[male] = _pick(rng, words.given_male, words.given_male_p, int(male.sum()))
    given[~male] = _pick(rng, words.given_female, words.given_female_p, int((~male).sum()))
    years = np.clip(np.round(rng.normal(1979, 11, p)), 1945, 2002).astype(int)
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    birth = start + (rng.random(p) * 365).astype(np.int64).astype("timedelta64[D]")
    region = _pick(rng, words.id_regions, words.id_region_p, p)
    id18, id15 = ids.make_person_ids(rng, region, birth, male)
    prefixes = np.array(["13", "15", "18", "17", "19", "16"])
    tails = ids.unique_ints(rng, p, 0, 10**9)
    pphone = np.array([f"{a}{t:09d}" for a, t in zip(prefixes[rng.integers(0, 6, p)], tails)], dtype=object)
    pdistrict = rng.choice(np.arange(1, 10), size=p, p=np.array([d[3] for d in vocab.DISTRICTS[1:]]) / sum(d[3] for d in vocab.DISTRICTS[1:]))
    nominee = np.zeros(p, bool)
    grown = np.flatnonzero(birth < np.datetime64("1995-01-01"))
    nominee[rng.choice(grown, size=max(2, round(p * 0.004)), replace=False)] = True
    bad = rng.random(p) < 0.03
    zp = rng.normal(0, 0.6, p) + 2.3 * bad + 1.6 * nominee
    weight = rng.lognormal(0, 1.1, p)
    weight[nominee] = 0.0  # nominees are placed deliberately, never drawn at random
    return dict(male=male, surname=surname, given=given, birth=birth, id18=id18, id15=id15, pphone=pphone,
                pdistrict=pdistrict, nominee=nominee, zp=zp, weight=weight / weight.sum())


# ----------------------------------------------------------------------------- legal basics
def _legal_basics(seed: int, n: int) -> dict:
    rng = rng_for(seed, "legal")
    cats = vocab.CATEGORIES
    ci = rng.choice(len(cats), size=n, p=np.array([c[3] for c in cats]) / sum(c[3] for c in cats))
    prefix = np.array([cats[i][0] for i in ci], dtype=object)
    klass = np.array([cats[i][1] for i in ci], dtype=np.int8)
    form = np.array([cats[i][2] for i in ci], dtype=object)
    dw = np.array([d[3] for d in vocab.DISTRICTS])
    district = rng.choice(len(vocab.DISTRICTS), size=n, p=dw / dw.sum())
    district[klass == 4] = np.where(rng.random(int((klass == 4).sum())) < 0.7, 0, district[klass == 4])
    # Shops and cooperatives are registered by a district bureau, never the city's.
    local = (klass == 2) | (klass == 3)
    district[local & (district == 0)] = rng.integers(1, len(vocab.DISTRICTS), int((local & (district == 0)).sum()))
    # Registrations grow ~12% a year, as Shenzhen's did.
    years = np.arange(1985, 2022)
    yw = np.exp(0.12 * (years - 1985))
    year = years[rng.choice(len(years), size=n, p=yw / yw.sum())]
    start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    end = np.minimum(start + np.timedelta64(364, "D"), LAST_EST)
    est = _dates(rng, start, end, n)
    capital = _CAPITAL_LADDER[rng.choice(len(_CAPITAL_LADDER), size=n, p=_CAPITAL_P / _CAPITAL_P.sum())]
    capital[klass == 2] = _SHOP_CAPITAL[rng.integers(0, len(_SHOP_CAPITAL), int((klass == 2).sum()))]
    capital[form == "股份有限公司"] *= 10
    age = (REF_DATE - est).astype(int) / 365.0
    dead = rng.random(n)
    p_cancel = np.clip(0.02 + 0.006 * age, 0, 0.3)
    status = np.where(dead < p_cancel, "注销", np.where(dead < p_cancel + 0.04, "吊销", "存续")).astype(object)
    status[klass == 4] = "存续"
    return dict(prefix=prefix, klass=klass, legal_form=form, district=district, est=est, capital=capital, status=status)


# ----------------------------------------------------------------------------- structure
def _branches(rng, b: dict, n: int, share: float) -> np.ndarray:
    """Mark some companies as branches (分公司) of others; returns parent index or -1."""
    parent = np.full(n, -1, dtype=np.int64)
    eligible = np.flatnonzero((b["klass"] == 1) & np.isin(b["legal_form"], _LIMITED_FORMS))
    n_br = min(int(round(share * n)), len(eligible) // 4)
    if n_br == 0:
        return parent
    branches = rng.choice(eligible, size=n_br, replace=False)
    cand = np.setdiff1d(eligible, branches)
    cand = cand[b["est"][cand] < np.datetime64("2020-06-30")]
    w = b["capital"][cand] ** 0.7
    parents = cand[rng.choice(len(cand), size=n_br, p=w / w.sum())]
    # Each parent gets at most 9 branches, one per district (names must stay unique).
    count: dict[int, int] = {}
    for i, (br, pa) in enumerate(zip(branches, parents)):
        while count.get(int(pa), 0) >= 9:
            pa = cand[rng.integers(0, len(cand))]
        count[int(pa)] = count.get(int(pa), 0) + 1
        parent[br] = pa
    return parent


def _groups(rng, b: dict, taken: np.ndarray) -> list[list[tuple[int, int, float]]]:
    """Holding groups: a root company and subsidiaries in several layers.

    Returns per group the list of (member, holder member or -1 for the root, ratio).
    """
    n = len(taken)
    eligible = np.flatnonzero((b["klass"] == 1) & np.isin(b["legal_form"], _LIMITED_FORMS) & ~taken)
    n_groups = max(1, int(round(n * 0.012)))
    sizes = np.clip(1 + rng.geometric(0.3, n_groups), 2, 10)
    total = int(sizes.sum())
    if total > len(eligible) // 3:
        return []
    w = b["capital"][eligible] ** 0.8
    members = eligible[rng.choice(len(eligible), size=total, replace=False, p=w / w.sum())]
    groups = []
    pos = 0
    for g, k in enumerate(sizes):
        mem = members[pos : pos + k]
        pos += k
        # Older firms sit higher up the chain: hand out the members' dates in order.
        dates = np.sort(b["est"][mem])
        b["est"][mem] = dates
        rows = [(int(mem[0]), -1, 1.0)]
        for j in range(1, k):
            holder = int(mem[0]) if rng.random() < 0.45 else int(mem[rng.integers(0, j)])
            ratio = 1.0 if rng.random() < 0.4 else float(np.round(rng.uniform(0.51, 0.95), 4))
            rows.append((int(mem[j]), holder, ratio))
        groups.append(rows)
        taken[mem] = True
    return groups


def _shells(rng, b: dict, taken: np.ndarray, sp: ShellParams) -> tuple[np.ndarray, list[tuple[int, tuple[str, ...]]]]:
    """Pick shell clusters and set their members' registration dates, capital and status.

    A cluster's registrations span at most ``sp.window_days``; its capital is tiny (1-10) or
    left as the city's ladder drew it; ``sp.revoked`` of its members are revoked. What a cluster
    shares is drawn from ``sp.p_*`` (at least ``sp.min_shared`` premises kinds); a factory
    shares its agent only (its addresses and representatives come from pools).
    """
    n = len(taken)
    shell = np.full(n, -1, dtype=np.int64)
    eligible = np.flatnonzero((b["legal_form"] == "有限责任公司") & ~taken)
    target = int(round(sp.share * n))
    cap_size = 60 if sp.factory else 30
    sizes = []
    while sum(sizes) < target:
        sizes.append(int(np.clip(5 + rng.poisson(sp.size_extra), 5, cap_size)))
    if not sizes or sum(sizes) > len(eligible) // 2:
        sizes = [5] if len(eligible) >= 10 else []
    members = rng.choice(eligible, size=sum(sizes), replace=False) if sizes else np.array([], int)
    clusters = []
    pos = 0
    for c, k in enumerate(sizes):
        mem = members[pos : pos + k]
        pos += k
        if sp.factory:
            shared = ["agent"]
        else:
            shared = [kind for kind, p in (("address", sp.p_address), ("phone", sp.p_phone), ("agent", sp.p_agent),
                                           ("legal_rep", sp.p_legal_rep)) if rng.random() < p]
            for extra in ("address", "phone"):
                if len(shared) < sp.min_shared and extra not in shared:
                    shared.append(extra)
            if sp.holders == "nominee":
                shared.append("shareholder")
            shared = [s for s in ("address", "phone", "agent", "legal_rep", "shareholder") if s in shared]
        last = LAST_EST - np.timedelta64(int(sp.window_days), "D")
        d0 = _dates(rng, np.datetime64("2016-01-01"), max(last, np.datetime64("2016-06-30")), 1)[0]
        b["est"][mem] = np.minimum(d0 + rng.integers(0, int(sp.window_days) + 1, k).astype("timedelta64[D]"), LAST_EST)
        if sp.capital == "tiny":
            b["capital"][mem] = np.array([1, 3, 5, 10], float)[rng.integers(0, 4, k)]
        b["status"][mem] = np.where(rng.random(k) < sp.revoked, "吊销", "存续")
        shell[mem] = c
        taken[mem] = True
        clusters.append((c, tuple(shared)))
    return shell, clusters


# ----------------------------------------------------------------------------- names
def _compose(region, brand, mid, bracket, form, suffix) -> str:
    return f"{region}{brand}{mid}{'(' + bracket + ')' if bracket else ''}{form}{suffix}"


def _random_brands(rng, words: Words, size: int) -> np.ndarray:
    f = np.asarray(words.brand_first, dtype=object)
    s = np.asarray(words.brand_second, dtype=object)
    # Zipf-like character popularity: some brands (华强, 鑫源) recur across industries.
    pf = 1.0 / (np.arange(len(f)) + 8.0)
    ps = 1.0 / (np.arange(len(s)) + 8.0)
    a = f[rng.choice(len(f), size=size, p=pf / pf.sum())]
    c = s[rng.choice(len(s), size=size, p=ps / ps.sum())]
    out = a + c
    same = a == c
    out[same] = a[same] + "盛"
    return out


def _make_unique(rng, words: Words, brand: np.ndarray, mask: np.ndarray, reserved: set[str]) -> None:
    """Extend colliding brands by a character until the masked ones are distinct and avoid ``reserved``.

    Random brands never collide by accident, so that every shared brand in the city is a
    planted hard case (a group's subsidiaries, a famous brand in several industries).
    """
    s = np.asarray(words.brand_second, dtype=object)
    reserved_arr = np.asarray(sorted(reserved), dtype=str)
    for _ in range(20):
        idx = np.flatnonzero(mask)
        keys = brand[idx].astype(str)
        dup = (_group_first(keys) != np.arange(len(idx))) | np.isin(keys, reserved_arr)
        if not dup.any():
            return
        d = idx[dup]
        brand[d] = brand[d] + s[rng.integers(0, len(s), len(d))]
    raise RuntimeError("cannot make brands unique")  # pragma: no cover


def _names(rng, words: Words, b: dict, persons: dict, legal_rep: np.ndarray, n_legal: int,
           groups, shell: np.ndarray, agent_mask: np.ndarray, qianhai_agent: int) -> dict:
    n = n_legal
    klass, form_l, district = b["klass"], b["legal_form"], b["district"]
    region = np.full(n, "深圳市", dtype=object)
    brand = _random_brands(rng, words, n)
    owner_named = np.zeros(n, bool)
    curated = (klass == 1) & (rng.random(n) < 0.12)
    brand[curated] = _pick(rng, words.brands, words.brand_p, int(curated.sum()))
    ii = rng.choice(len(words.industries), size=n, p=words.industry_p)
    mid = np.asarray(words.industries, dtype=object)[ii]
    sector = np.asarray(words.industry_sector, dtype=object)[ii]
    risk = words.industry_risk[ii].copy()
    bracket = np.full(n, "", dtype=object)
    form = np.full(n, "有限公司", dtype=object)
    suffix = np.full(n, "", dtype=object)

    lim = (klass == 1) & np.isin(form_l, _LIMITED_FORMS)
    br_style = lim & (rng.random(n) < 0.12)
    region[br_style] = ""
    bracket[br_style] = "深圳"
    form[form_l == "股份有限公司"] = "股份有限公司"
    part = form_l == "合伙企业"
    mid[part] = _pick(rng, ("投资", "创业投资", "股权投资", "投资管理"), (4, 3, 3, 2), int(part.sum()))
    form[part] = "合伙企业(有限合伙)"
    sector[part] = "金融业"
    risk[part] = 0.4
    shells = shell >= 0
    k = int(shells.sum())
    if k:
        sel = rng.choice(len(_SHELL_INDUSTRIES), size=k)
        mid[shells] = np.asarray(_SHELL_INDUSTRIES, dtype=object)[sel]
        lookup = {w: (s, r) for w, s, r in zip(words.industries, words.industry_sector, words.industry_risk)}
        sector[shells] = [lookup[m][0] for m in mid[shells]]
        risk[shells] = [lookup[m][1] for m in mid[shells]]
    ag = np.flatnonzero(agent_mask)
    if len(ag):
        mid[ag] = _pick(rng, _AGENT_INDUSTRIES, (2, 2, 1), len(ag))
        sector[ag] = "租赁和商务服务业"
        risk[ag] = 0.2
        region[ag], bracket[ag] = "深圳市", ""
        brand[qianhai_agent], mid[qianhai_agent] = "前海", "商务秘书"

    shop = klass == 2
    ks = int(shop.sum())
    if ks:
        ti = rng.choice(len(words.trades), size=ks, p=words.trade_p)
        region[shop] = ["深圳市" + vocab.DISTRICTS[d][1] for d in district[shop]]
        mid[shop] = np.asarray(words.trades, dtype=object)[ti]
        form[shop] = np.asarray(words.trade_ending, dtype=object)[ti]
        sector[shop] = np.asarray(words.trade_sector, dtype=object)[ti]
        risk[shop] = 0.0
        # Many shops are named after the owner: 李记, 陈记.
        owner = rng.random(ks) < 0.4
        reps = legal_rep[shop] - n_legal
        owner_brand = persons["surname"][reps] + "记"
        bs = brand[shop]
        bs[owner] = owner_brand[owner]
        brand[shop] = bs
        owner_named[np.flatnonzero(shop)[owner]] = True
    coop = klass == 3
    if coop.any():
        mid[coop] = _pick(rng, vocab.COOPERATIVE_TRADES, np.ones(len(vocab.COOPERATIVE_TRADES)), int(coop.sum()))
        form[coop] = "专业合作社"
        sector[coop] = "农、林、牧、渔业"
        risk[coop] = 0.0
    for code, patterns in vocab.NONMARKET_NAMES.items():
        m = b["prefix"] == code
        if not m.any():
            continue
        pi = rng.integers(0, len(patterns), int(m.sum()))
        mid[m] = [patterns[i][0] for i in pi]
        form[m] = [patterns[i][1] for i in pi]
        sector[m] = "租赁和商务服务业" if code == "31" else "公共管理、社会保障和社会组织"
        risk[m] = -0.3
        if code == "31":
            region[m] = "广东"
        if code == "N2":
            real = np.where(district[m] == 0, rng.integers(1, 10, int(m.sum())), district[m])
            region[m] = ["深圳市" + vocab.DISTRICTS[d][1] for d in real]
    # Random brands are distinct; the group brand is handed out after, so it is shared on purpose.
    planted = curated | owner_named
    planted[ag[:1]] = True
    random_brand = ~planted & (b["parent"] < 0)
    _make_unique(rng, words, brand, random_brand, set(words.brands) | {"前海"})
    # Subsidiaries often carry the group's brand (深圳市华强电子 / 深圳市华强物流).
    for rows in groups:
        root = rows[0][0]
        for member, _, _ in rows[1:]:
            if rng.random() < 0.6:
                brand[member] = brand[root]
                random_brand[member] = False
    # Canonical names must be unique among registered firms: a planted brand that would repeat a
    # name (same brand, industry and form) becomes a fresh random brand instead.
    fixed = np.zeros(n, bool)
    fixed[ag[:1]] = True
    reserved = set(words.brands) | {"前海"}
    # The registry refuses a brand already used in the same trade, whatever the region style or form
    # (深圳市华强电子有限公司 blocks 华强电子(深圳)股份有限公司); shops only within their district.
    scope = np.where(klass == 2, region, "") + "|" + np.where(klass == 4, form, "")
    for _ in range(50):
        names = np.array([_compose(*t) for t in zip(region, brand, mid, bracket, form, suffix)], dtype=object)
        keys = (brand + "|" + mid + "|" + scope).astype(str)
        own = np.arange(n)
        dup = ((_group_first(names.astype(str)) != own) | (_group_first(keys) != own)) & (b["parent"] < 0) & ~fixed
        if not dup.any():
            break
        brand[dup] = _random_brands(rng, words, int(dup.sum()))
        random_brand[dup] = True
        _make_unique(rng, words, brand, random_brand, reserved)
    # Branches: the parent's name plus the branch's district: 深圳市华强电子有限公司南山分公司.
    parent = b["parent"]
    br = np.flatnonzero(parent >= 0)
    used: dict[int, set] = {}
    for i in br:
        p = int(parent[i])
        taken = used.setdefault(p, set())
        d = int(district[i])
        if d == 0 or d in taken:
            free = [x for x in range(1, 10) if x not in taken]
            d = free[rng.integers(0, len(free))]
        taken.add(d)
        district[i] = d
        suffix[i] = vocab.DISTRICTS[d][2] + "分公司"
    base = np.arange(n)
    base[br] = parent[br]
    for arr in (region, brand, mid, bracket, form):
        arr[br] = arr[parent[br]]
    sector[br] = sector[parent[br]]
    risk[br] = risk[parent[br]]
    b["legal_form"][br] = np.array([f + "分公司" for f in b["legal_form"][parent[br]]], dtype=object)
    names = np.array([_compose(*t) for t in zip(region, brand, mid, bracket, form, suffix)], dtype=object)
    return dict(region=region, brand=brand, mid=mid, bracket=bracket, form=form, suffix=suffix, base=base,
                sector=sector, risk=risk, names=names, owner_named=owner_named)


# ----------------------------------------------------------------------------- relationships
class _Rel:
    def __init__(self):
        self.parts: list[tuple] = []

    def add(self, src, dst, rel: str, ratio=None, role=None):
        src = np.asarray(src, dtype=np.int64)
        dst = np.broadcast_to(np.asarray(dst, dtype=np.int64), src.shape)
        ratio = np.full(len(src), np.nan) if ratio is None else np.broadcast_to(np.asarray(ratio, float), src.shape)
        role = np.full(len(src), "", dtype=object) if role is None else np.broadcast_to(np.asarray(role, dtype=object), src.shape)
        self.parts.append((src, dst, np.full(len(src), REL_CODES[rel], np.int8), ratio, role))

    def arrays(self):
        cols = [np.concatenate([p[k] for p in self.parts]) for k in range(5)]
        return cols


def _shareholders(rng, b, n_legal, persons, legal_rep, groups, shell, shell_holders=None) -> list[np.ndarray]:
    """Shareholding rows (holder, company, ratio, role), with ratios summing to 1 per company."""
    klass, form_l = b["klass"], b["legal_form"]
    held = (klass == 1) & np.isin(form_l, ("有限责任公司", "股份有限公司", "合伙企业")) & (b["parent"] < 0)
    in_group = np.zeros(n_legal, bool)
    for rows in groups:
        for m, h, _ in rows[1:]:
            in_group[m] = True
    ordinary = np.flatnonzero(held & ~in_group & (shell < 0))
    k = 1 + np.minimum(rng.poisson(0.9, len(ordinary)), 5)
    k[form_l[ordinary] == "股份有限公司"] += 2
    comp = np.repeat(ordinary, k)
    j = np.arange(len(comp)) - np.repeat(np.cumsum(k) - k, k)
    pw = persons["weight"]
    holder = n_legal + rng.choice(len(pw), size=len(comp), p=pw)
    first_is_rep = (j == 0) & (rng.random(len(comp)) < 0.75)
    holder[first_is_rep] = legal_rep[comp[first_is_rep]]
    shape = np.where(j == 0, 2.0, 1.0) + 0.3
    # Some firms have a corporate shareholder: another, older firm (investment firms preferred).
    corp = (j > 0) & (rng.random(len(comp)) < 0.18)
    pool = np.flatnonzero(held & (shell < 0))
    if corp.any() and len(pool):
        inv_w = np.where(np.isin(b["mid_hint"][pool], ("投资", "投资管理", "实业", "创业投资", "股权投资")), 6.0, 1.0)
        cand = pool[rng.choice(len(pool), size=int(corp.sum()), p=inv_w / inv_w.sum())]
        ok = b["est"][cand] < b["est"][comp[corp]]
        idx = np.flatnonzero(corp)[ok]
        holder[idx] = cand[ok]
    ratio = rng.gamma(shape)
    role = np.full(len(comp), "", dtype=object)

    rows_c, rows_h, rows_r, rows_role = [comp], [holder], [ratio], [role]
    # One weighted draw per call would rebuild the weights' CDF each time: draw them in bulk.
    spare = iter(n_legal + rng.choice(len(pw), size=2 * sum(len(g) for g in groups) + 1, p=pw))
    draw = lambda: int(next(spare))  # noqa: E731
    # Groups: each subsidiary is held by its holder member; the rest by persons. The root is
    # held by its controller (an ordinary person who controls the whole tree through it).
    for rows in groups:
        root = rows[0][0]
        controller = legal_rep[root]
        rows_c.append(np.array([root, root]))
        rows_h.append(np.array([controller, draw()]))
        rows_r.append(np.array([rng.uniform(0.6, 1.0), 0.2]))
        rows_role.append(np.array(["", ""], dtype=object))
        for m, h, r in rows[1:]:
            rows_c.append(np.array([m]))
            rows_h.append(np.array([h]))
            rows_r.append(np.array([r]))
            rows_role.append(np.array([""], dtype=object))
            if r < 1.0:
                rows_c.append(np.array([m]))
                rows_h.append(np.array([draw()]))
                rows_r.append(np.array([1.0 - r]))
                rows_role.append(np.array([""], dtype=object))
    # Shells: held outright by their (nominee) legal representative, sometimes with a second nominee.
    nominees = n_legal + np.flatnonzero(persons["nominee"])
    sh = np.flatnonzero(shell >= 0)
    if len(sh) and shell_holders is not None:  # held by the ring's shared nominees instead
        second = shell_holders[sh, 1] >= 0
        rows_c += [sh, sh[second]]
        rows_h += [shell_holders[sh, 0], shell_holders[sh[second], 1]]
        rows_r += [np.where(second, 0.5, 1.0), np.full(int(second.sum()), 0.5)]
        rows_role += [np.full(len(sh), "nominee", dtype=object), np.full(int(second.sum()), "nominee", dtype=object)]
    elif len(sh):
        rows_c.append(sh)
        rows_h.append(legal_rep[sh])
        two = rng.random(len(sh)) < 0.35
        rows_r.append(np.where(two, 0.5, 1.0))
        rows_role.append(np.full(len(sh), "nominee", dtype=object))
        rows_c.append(sh[two])
        rows_h.append(nominees[rng.integers(0, len(nominees), int(two.sum()))])
        rows_r.append(np.full(int(two.sum()), 0.5))
        rows_role.append(np.full(int(two.sum()), "nominee", dtype=object))
    # Nominee holders also appear in ordinary firms, on behalf of someone else.
    c = np.concatenate(rows_c)
    h = _adults(rng, np.concatenate(rows_h), b["est"][np.concatenate(rows_c)], persons, n_legal)
    r = np.concatenate(rows_r).astype(float)
    ro = np.concatenate(rows_role)
    # (Nominees were born before 1995, so only firms founded since 2013 can use them.)
    nom_rows = (rng.random(len(c)) < 0.01) & (h >= n_legal) & (shell[c] < 0) & (b["est"][c] >= np.datetime64("2013-06-01"))
    h[nom_rows] = nominees[rng.integers(0, len(nominees), int(nom_rows.sum()))]
    ro[nom_rows] = "nominee"
    # Merge repeated (company, holder) pairs, then normalise per company.
    key = c * (n_legal + len(pw) + 1) + h
    first = _group_first(key)
    keep = first == np.arange(len(key))
    r = np.bincount(first, weights=r, minlength=len(key))[keep]
    c, h, ro = c[keep], h[keep], ro[keep]
    tot = np.bincount(c, weights=r, minlength=n_legal)
    r = r / tot[c]
    # Cross-holdings: a subsidiary takes a small stake in another member (often the root),
    # which closes a cycle in the ownership graph.
    extra_c, extra_h, extra_r = [], [], []
    for rows in groups:
        if len(rows) >= 3 and rng.random() < 0.35:
            a = rows[rng.integers(1, len(rows))][0]
            target = rows[0][0] if rng.random() < 0.6 else rows[rng.integers(1, len(rows))][0]
            if target != a:
                extra_c.append(target)
                extra_h.append(a)
                extra_r.append(float(np.round(rng.uniform(0.03, 0.12), 4)))
    if extra_c:
        ec = np.array(extra_c)
        # Make room: scale existing holders of the target down.
        scale = np.ones(n_legal)
        for t, x in zip(extra_c, extra_r):
            scale[t] *= 1 - x
        r = r * scale[c]
        c = np.concatenate([c, ec])
        h = np.concatenate([h, np.array(extra_h)])
        r = np.concatenate([r, np.array(extra_r)])
        ro = np.concatenate([ro, np.full(len(ec), "", dtype=object)])
        key = c * (n_legal + len(pw) + 1) + h
        first = _group_first(key)
        keep = first == np.arange(len(key))
        r = np.bincount(first, weights=r, minlength=len(key))[keep]
        c, h, ro = c[keep], h[keep], ro[keep]
        tot = np.bincount(c, weights=r, minlength=n_legal)
        r = r / tot[c]
    # Round to 4 decimals and let the largest holder absorb the rounding, so ratios sum to 1.
    order = np.lexsort((-r, c))
    c, h, r, ro = c[order], h[order], np.round(r[order], 4), ro[order]
    r = np.maximum(r, 0.0001)
    start = np.r_[True, c[1:] != c[:-1]]
    tot = np.bincount(c, weights=r, minlength=n_legal)
    r[start] = np.round(r[start] + (1.0 - tot[c[start]]), 4)
    return [h, c, r, ro]


def _natural_holders(sh_rows: list[np.ndarray], n_legal: int, legal_rep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(company, person) of every natural-person shareholder who is not the company's representative,
    sorted by company (for :func:`_from_holders`)."""
    h, c = sh_rows[0], sh_rows[1]
    ok = (h >= n_legal) & (h != legal_rep[c])
    c, h = c[ok], h[ok]
    order = np.lexsort((h, c))
    return c[order], h[order]


def _from_holders(rng, companies: np.ndarray, holders: tuple[np.ndarray, np.ndarray], p: float) -> np.ndarray:
    """For each company, with probability ``p``, one of its natural shareholders at random (-1 otherwise,
    or when it has none)."""
    hc, hh = holders
    start, end = np.searchsorted(hc, companies, "left"), np.searchsorted(hc, companies, "right")
    k = end - start
    out = np.full(len(companies), -1, dtype=np.int64)
    idx = np.flatnonzero((k > 0) & (rng.random(len(companies)) < p))
    out[idx] = hh[start[idx] + rng.integers(0, k[idx])]
    return out


def _officers(rng, b, n_legal, persons, legal_rep, shell, rel: _Rel, sh_rows: list[np.ndarray],
              nominee_officers: bool = True) -> None:
    """Key personnel. Small firms: the representative is executive director; the supervisor and the
    manager are, as is usual in a small 有限公司, often a co-shareholder. Boards: directors and
    supervisors partly from the shareholders, the rest from the population."""
    klass, form_l = b["klass"], b["legal_form"]
    comp = np.flatnonzero((klass == 1) & np.isin(form_l, _LIMITED_FORMS) & (b["parent"] < 0))
    pw = persons["weight"]
    nominees = n_legal + np.flatnonzero(persons["nominee"])
    board = (form_l[comp] == "股份有限公司") | (b["capital"][comp] >= 1000)

    holders = _natural_holders(sh_rows, n_legal, legal_rep)

    def people(companies, p_holder: float = 0.0):
        drawn = n_legal + rng.choice(len(pw), size=len(companies), p=pw)
        drawn = _adults(rng, drawn, b["est"][companies], persons, n_legal)
        pick = _from_holders(rng, companies, holders, p_holder)  # shareholders are adults already
        return np.where(pick >= 0, pick, drawn)

    small = comp[~board]
    rel.add(legal_rep[small], small, "officer_of", role="执行董事")
    sup = people(small, 0.7)
    sh = (shell[small] >= 0) & nominee_officers
    sup[sh] = nominees[rng.integers(0, len(nominees), int(sh.sum()))]
    ok = sup != legal_rep[small]
    rel.add(sup[ok], small[ok], "officer_of", role="监事")
    mgr = np.where(rng.random(len(small)) < 0.6, legal_rep[small], people(small, 0.5))
    rel.add(mgr, small, "officer_of", role="经理")

    big = comp[board]
    rel.add(legal_rep[big], big, "officer_of", role="董事长")
    nd = rng.integers(2, 5, len(big))
    dc = np.repeat(big, nd)
    dp = people(dc, 0.5)
    ok = dp != legal_rep[dc]
    dc, dp = dc[ok], dp[ok]
    keep = _group_first(dc * (len(pw) + n_legal + 1) + dp) == np.arange(len(dc))
    rel.add(dp[keep], dc[keep], "officer_of", role="董事")
    ns = rng.integers(1, 3, len(big))
    sc = np.repeat(big, ns)
    sp = people(sc, 0.3)
    keep = _group_first(sc * (len(pw) + n_legal + 1) + sp) == np.arange(len(sc))
    rel.add(sp[keep], sc[keep], "officer_of", role="监事")
    gm = np.where(rng.random(len(big)) < 0.3, legal_rep[big], people(big))
    rel.add(gm, big, "officer_of", role="总经理")


# ----------------------------------------------------------------------------- addresses
def _address_strings(rng, words: Words, district: np.ndarray) -> np.ndarray:
    n = len(district)
    real = np.where(district == 0, rng.integers(1, 10, n), district)
    roads = [words.roads[vocab.DISTRICTS[d][0]] for d in range(1, 10)]
    ri = rng.integers(0, 1000, n)
    num = rng.integers(1, 400, n)
    bld = np.asarray(words.buildings, dtype=object)[rng.integers(0, len(words.buildings), n)]
    floor = rng.integers(1, 39, n)
    room = rng.integers(1, 21, n)
    return np.array(
        [f"深圳市{vocab.DISTRICTS[d][1]}{roads[d - 1][r % len(roads[d - 1])]}{u}号{g}{f}{m:02d}室"
         for d, r, u, g, f, m in zip(real, ri, num, bld, floor, room)],
        dtype=object,
    )


def _landlines(rng, n: int) -> np.ndarray:
    tails = ids.unique_ints(rng, n, 0, 10**7)
    heads = np.array(["2", "8"])[rng.integers(0, 2, n)]
    return np.array([f"0755-{h}{t:07d}" for h, t in zip(heads, tails)], dtype=object)


# ----------------------------------------------------------------------------- the world
def build_world(entities: int, seed: int, legal_share: float = 0.45, shell_share: float | None = None,
                branch_share: float = 0.05, regime: str | Regime = DEFAULT_REGIME,
                foreign_share: float = FOREIGN_SHARE) -> World:
    """Draw the whole synthetic city (entities, links, planted truths) for ``entities`` persons.

    ``regime`` (a name from ``regimes.toml``, ``SHELL+VIOLATION``, or a drawn :class:`Regime`)
    says how shells are planted and how violations arise; ``shell_share`` overrides its share.
    ``foreign_share`` of the natural persons are foreign nationals with Latin names and passports
    (:mod:`credgraph.synth.foreign`); they have no resident ID number.
    """
    planting = draw_regime(regime, seed) if isinstance(regime, str) else regime
    sp, vp = planting.shell, planting.violation
    if shell_share is not None:
        sp = dataclasses.replace(sp, share=float(shell_share))
    words = load_words()
    if entities < 50:
        raise ValueError("the synthetic city needs at least 50 entities")
    n_legal = max(20, int(round(entities * legal_share)))
    n_nat = entities - n_legal
    persons = _persons(seed, n_nat, words)
    fx = draw_foreigners(rng_for(seed, "foreign"), persons["male"], foreign_share)
    persons["id18"] = np.where(fx["foreign"], "", persons["id18"]).astype(object)
    persons["id15"] = np.where(fx["foreign"], "", persons["id15"]).astype(object)
    b = _legal_basics(seed, n_legal)
    rng = rng_for(seed, "structure")
    b["parent"] = _branches(rng, b, n_legal, branch_share)
    taken = b["parent"] >= 0
    taken[b["parent"][b["parent"] >= 0]] = True
    groups = _groups(rng, b, taken)
    shell, clusters = _shells(rng, b, taken, sp)
    # Registration agents: consulting firms; the first is Qianhai's company secretary.
    cand = np.flatnonzero((b["legal_form"] == "有限责任公司") & ~taken)
    n_agents = min(max(3, int(round(n_legal * 0.006))), len(cand))
    agents = np.sort(rng.choice(cand, size=n_agents, replace=False))
    is_agent = np.zeros(n_legal, bool)
    is_agent[agents] = True
    b["est"][agents] = np.minimum(b["est"][agents], np.datetime64("2013-01-01"))
    b["status"][agents] = "存续"
    qianhai_agent = int(agents[0])
    b["district"][qianhai_agent] = 0

    # Branch registration dates follow their parents'.
    rng = rng_for(seed, "branches")
    br = np.flatnonzero(b["parent"] >= 0)
    if len(br):
        b["est"][br] = _dates(rng, b["est"][b["parent"][br]] + np.timedelta64(90, "D"), LAST_EST, len(br))
        b["capital"][br] = np.nan

    # Legal representatives.
    rng = rng_for(seed, "representatives")
    pw = persons["weight"]
    legal_rep = n_legal + rng.choice(n_nat, size=n_legal, p=pw)
    nominees = n_legal + np.flatnonzero(persons["nominee"])
    shell_holders = np.full((n_legal, 2), -1, dtype=np.int64)
    for c, shared in clusters:
        mem = np.flatnonzero(shell == c)
        if sp.reps == "pool":  # a factory's representatives rotate among a few nominees
            pool = nominees[rng.choice(len(nominees), size=min(sp.nominee_pool, len(nominees)), replace=False)]
            legal_rep[mem] = pool[rng.integers(0, len(pool), len(mem))]
        elif sp.reps == "nominee":
            if "legal_rep" in shared:
                legal_rep[mem] = nominees[c % len(nominees)]
            else:
                legal_rep[mem] = nominees[rng.integers(0, len(nominees), len(mem))]
        if sp.holders == "nominee":  # one or two nominees hold the ring's firms
            pool = nominees[rng.choice(len(nominees), size=min(2, len(nominees)), replace=False)]
            shell_holders[mem, 0] = pool[0]
            two = rng.random(len(mem)) < 0.5
            shell_holders[mem[two], 1] = pool[-1]
    for rows in groups:  # group firms are often represented by the group's own people
        root = rows[0][0]
        for m, _, _ in rows[1:]:
            if rng.random() < 0.4:
                legal_rep[m] = legal_rep[root]
    same_head = rng.random(len(br)) < 0.3
    legal_rep[br[same_head]] = legal_rep[b["parent"][br[same_head]]]
    legal_rep = _adults(rng, legal_rep, b["est"], persons, n_legal)

    # Names (need the representatives: shops are named after their owners).
    rng = rng_for(seed, "names")
    nm = _names(rng, words, b, persons, legal_rep, n_legal, groups, shell, is_agent, qianhai_agent)
    b["mid_hint"] = nm["mid"]

    # Identifiers.
    rng = rng_for(seed, "identifiers")
    old = b["est"] < REFORM_DATE
    org = ids.make_org_codes(rng, old | (b["klass"] == 4))
    division = np.array([vocab.DISTRICTS[d][0] for d in b["district"]], dtype=object)
    uscc = ids.make_usccs(b["prefix"], division, org)
    has_reg = old & (b["klass"] <= 3)
    reg_no = np.full(n_legal, "", dtype=object)
    if has_reg.any():
        kind = np.where(b["klass"][has_reg] == 2, "6", "1")
        reg_no[has_reg] = ids.make_reg_nos(rng, division[has_reg], kind)

    # Relationships.
    rng = rng_for(seed, "relationships")
    rel = _Rel()
    sh_rows = _shareholders(rng, b, n_legal, persons, legal_rep, groups, shell,
                            shell_holders if sp.holders == "nominee" else None)
    rel.add(sh_rows[0], sh_rows[1], "shareholder_of", ratio=sh_rows[2], role=sh_rows[3])
    rel.add(legal_rep, np.arange(n_legal), "legal_rep_of", role=np.where(b["parent"] >= 0, "负责人", "法定代表人"))
    _officers(rng, b, n_legal, persons, legal_rep, shell, rel, sh_rows, nominee_officers=sp.officers == "nominee")
    rel.add(br, b["parent"][br], "branch_of")
    agent = np.full(n_legal, -1, dtype=np.int64)
    clients = (b["klass"] == 1) & (b["parent"] < 0) & ~is_agent & (rng.random(n_legal) < 0.3)
    aw = 1.0 / (np.arange(n_agents) + 1.0)
    agent[clients] = agents[rng.choice(n_agents, size=int(clients.sum()), p=aw / aw.sum())]
    shady = agents[1:] if n_agents > 1 else agents
    for c, shared in clusters:
        mem = np.flatnonzero(shell == c)
        if "agent" in shared:
            agent[mem] = shady[c % len(shady)]
        else:
            agent[mem] = np.where(rng.random(len(mem)) < 0.5, -1, agents[rng.integers(0, n_agents, len(mem))])

    # Addresses and phones.
    rng = rng_for(seed, "addresses")
    address = _address_strings(rng, words, b["district"])
    phone = _landlines(rng, n_legal)
    use_mobile = rng.random(n_legal) < 0.4
    phone[use_mobile] = persons["pphone"][legal_rep[use_mobile] - n_legal]
    # Family firms: the same person's firms often share an address or phone (not shells!).
    first = _group_first(legal_rep)
    later = (first != np.arange(n_legal)) & (shell < 0)
    share_addr = later & (rng.random(n_legal) < 0.25)
    address[share_addr] = address[first[share_addr]]
    share_phone = later & (rng.random(n_legal) < 0.35)
    phone[share_phone] = phone[first[share_phone]]
    qianhai = (b["klass"] == 1) & (b["parent"] < 0) & (shell < 0) & (b["est"] >= np.datetime64("2014-08-01"))
    qianhai &= rng.random(n_legal) < 0.08
    qianhai[qianhai_agent] = True
    address[qianhai] = vocab.QIANHAI_ADDRESS
    agent[qianhai & ~is_agent] = qianhai_agent
    for c, shared in clusters:
        mem = np.flatnonzero(shell == c)
        if sp.factory:  # the factory's few addresses, and often the agent's own phone
            pool = _address_strings(rng, words, b["district"][mem[: max(1, sp.address_pool)]])
            address[mem] = pool[rng.integers(0, len(pool), len(mem))]
            own_agent = agent[mem[0]]
            if own_agent >= 0:
                use = rng.random(len(mem)) < sp.agent_phone
                phone[mem[use]] = phone[own_agent]
        if "address" in shared:
            address[mem] = _address_strings(rng, words, b["district"][mem[:1]])[0]
        if "phone" in shared:
            phone[mem] = "1" + str(rng.integers(3, 10)) + f"{rng.integers(0, 10**9):09d}"
    has_agent = agent >= 0
    rel.add(agent[has_agent], np.flatnonzero(has_agent), "agent_of")

    src, dst, rtype, ratio, role = rel.arrays()
    # Relationship rows grouped by kind, then by the company they concern (catalog order).
    order = np.lexsort((np.arange(len(src)), dst, rtype))
    src, dst, rtype, ratio, role = src[order], dst[order], rtype[order], ratio[order], role[order]
    covered = np.zeros(n_nat, bool)
    covered[src[src >= n_legal] - n_legal] = True

    # Latent risk: own draw + the people behind the firm + shells + industry, then down chains.
    rng = rng_for(seed, "risk")
    zp = persons["zp"]
    k = vp.contagion  # how much of a firm's propensity comes from the people and firms behind it
    zc = 0.7 * rng.normal(0, 1, n_legal) + k * 0.8 * zp[legal_rep - n_legal] + vp.shell_boost * (shell >= 0) + nm["risk"]
    zc += 0.3 * (b["status"] == "吊销")
    shr = rtype == REL_CODES["shareholder_of"]
    nat = shr & (src >= n_legal)
    wsum = np.bincount(dst[nat], weights=ratio[nat], minlength=n_legal)
    zsum = np.bincount(dst[nat], weights=ratio[nat] * zp[src[nat] - n_legal], minlength=n_legal)
    zc += k * 0.35 * np.divide(zsum, wsum, out=np.zeros(n_legal), where=wsum > 0)
    corp = shr & (src < n_legal)
    zsum = np.bincount(dst[corp], weights=ratio[corp] * zc[src[corp]], minlength=n_legal)
    zc += k * 0.35 * zsum
    zc[br] = (1 - 0.5 * k) * zc[br] + 0.5 * k * zc[b["parent"][br]]
    z = np.concatenate([zc, zp])

    # Insured staff: shells have none; some genuine micro-firms have none either.
    cap = np.nan_to_num(b["capital"], nan=50.0)
    insured = np.round(rng.lognormal(np.log(2 + cap ** 0.45), 0.8)).astype(np.int64)
    insured[b["klass"] == 2] = rng.integers(0, 4, int((b["klass"] == 2).sum()))
    insured[(b["klass"] == 1) & (rng.random(n_legal) < 0.08)] = 0
    insured[shell >= 0] = 0
    staffed = (shell >= 0) & (rng.random(n_legal) < sp.staffed)
    insured[staffed] = rng.integers(1, 6, int(staffed.sum()))
    insured[b["status"] != "存续"] = 0

    # Hidden violators: what a spot check of a live firm would find, drawn from latent risk.
    live = (b["klass"] <= 3) & (b["status"] == "存续")
    logit_base = 1.3 * zc
    lo, hi = -20.0, 20.0
    for _ in range(60):  # calibrate the intercept to a 10% base rate among live firms
        a = (lo + hi) / 2
        rate = (1 / (1 + np.exp(-(a + logit_base[live])))).mean()
        lo, hi = (a, hi) if rate < vp.base_rate else (lo, a)
    p_v = 1 / (1 + np.exp(-(a + logit_base)))
    viol = live & (rng.random(n_legal) < p_v)
    violation = np.full(n_legal, "", dtype=object)
    kinds = rng.integers(1, len(vocab.VIOLATIONS), n_legal)
    violation[viol] = np.asarray(vocab.VIOLATIONS, dtype=object)[kinds[viol]]
    fake = viol & (shell >= 0) & (rng.random(n_legal) < 0.8)
    violation[fake] = vocab.VIOLATIONS[0]

    # Hard cases.
    hard = np.zeros(n_legal + n_nat, dtype=np.int64)
    hard[br] |= 1
    hard[b["parent"][br]] |= 1
    # Shops named after their owner (李记) share brands by nature; they are not counted as hard cases.
    reg = np.flatnonzero((b["parent"] < 0) & ~nm["owner_named"])
    brand_mid = np.unique(np.stack([nm["brand"][reg].astype(str), nm["mid"][reg].astype(str)], axis=1), axis=0)
    brands, counts = np.unique(brand_mid[:, 0], return_counts=True)
    multi = set(brands[counts > 1].tolist())
    sbo = np.array([x in multi for x in nm["brand"]]) & ~nm["owner_named"][nm["base"]]
    hard[:n_legal][sbo] |= 2  # branches share it too: their names carry the brand
    pnames = persons["surname"] + persons["given"]
    fi = np.flatnonzero(fx["foreign"])
    pnames[fi] = [canonical_latin(g, m, f) for g, m, f in
                  zip(fx["lat_given"][fi], fx["lat_middle"][fi], fx["lat_family"][fi])]
    _, inv, cnt = np.unique(pnames.astype(str), return_inverse=True, return_counts=True)
    hard[n_legal:][cnt[inv] > 1] |= 4

    # What the catalogs' bad records are drawn from: the latent risk, or only partly (coupling < 1).
    zv = z
    if vp.coupling < 1.0:
        rng = rng_for(seed, "visible")
        noise = np.concatenate([rng.normal(zc.mean(), zc.std(), n_legal), rng.normal(zp.mean(), zp.std(), n_nat)])
        zv = vp.coupling * z + np.sqrt(max(0.0, 1.0 - vp.coupling ** 2)) * noise

    entity_id = np.array([f"L{i:07d}" for i in range(n_legal)] + [f"N{i:07d}" for i in range(n_nat)], dtype=object)
    return World(
        seed=seed, n_legal=n_legal, n_natural=n_nat, entity_id=entity_id,
        names=np.concatenate([nm["names"], pnames]), z=z, hard=hard,
        prefix=b["prefix"], klass=b["klass"], legal_form=b["legal_form"], district=b["district"], est=b["est"],
        capital=b["capital"], status=b["status"], old=old, uscc=uscc, org_code=org, reg_no=reg_no,
        region=nm["region"], brand=nm["brand"], mid=nm["mid"], bracket=nm["bracket"], form=nm["form"],
        suffix=nm["suffix"], base=nm["base"], sector=nm["sector"], parent=b["parent"], address=address,
        phone=phone, legal_rep=legal_rep, agent=agent, is_agent=is_agent, shell=shell, insured=insured,
        violation=violation,
        surname=persons["surname"], given=persons["given"], male=persons["male"], birth=persons["birth"],
        id18=persons["id18"], id15=persons["id15"], pphone=persons["pphone"], pdistrict=persons["pdistrict"],
        nominee=persons["nominee"], covered=covered,
        rel_src=src, rel_dst=dst, rel_type=rtype, rel_ratio=ratio, rel_role=role, clusters=clusters,
        zv=zv, regime=planting.as_dict() | ({"shell_share": float(shell_share)} if shell_share is not None else {}),
        shell_abnormal=sp.abnormal,
        foreign=fx["foreign"], nationality=fx["nationality"], passport=fx["passport"], lat_given=fx["lat_given"],
        lat_middle=fx["lat_middle"], lat_family=fx["lat_family"],
    )
