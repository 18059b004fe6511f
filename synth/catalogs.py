"""The city's source catalogs: what each file looks like and which rows it holds.

Each :class:`Catalog` is one government file as its source unit publishes it: Chinese
column headers, its own encoding and format, its date style, and the noise rates of its
clerks. ``build`` turns a slice of the true world into the file's rows (true entity
indices plus the non-party columns); :mod:`credgraph.synth.noise` then writes the parties.

Visible bad records (abnormal operations, serious illegal list, dishonest debtors, tax
violations, penalties, arrears, low tax grades) are drawn with rates that rise with the
entity's latent risk; good ones (red lists, grade A) fall with it.

>>> [c.code for c in CATALOGS][:4]
['MR_REG', 'MR_SHAREHOLDER', 'MR_PERSONNEL', 'MR_BRANCH']
>>> sorted({c.format for c in CATALOGS})
['csv', 'jsonl', 'tsv', 'xlsx']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from credgraph.synth import vocab
from credgraph.synth.foreign import LATIN_NOISE_KINDS
from credgraph.synth.noise import Party
from credgraph.synth.world import REF_DATE, World

__all__ = ["Catalog", "CATALOGS", "DEFAULT_NOISE", "catalog_by_code", "parse_rates"]

#: Base noise rates per mention (scaled by ``--noise``); catalogs override some of them.
#: Keys may be prefixed with the role ("object.missing_id") to apply to one party only.
DEFAULT_NOISE: dict[str, float] = {
    "traditional": 0.01,
    "fullwidth": 0.03,
    "bracket_region": 0.03,
    "missing_region": 0.03,
    "form_variant": 0.04,
    "homophone": 0.01,
    "missing_id": 0.03,
    "transposed": 0.004,
    "legacy_id": 0.05,
    "masked_id": 0.0,
    "duplicate": 0.01,
    "shape_char": 0.0,
    "dropped_char": 0.0,
    "romanised": 0.0,
    **{k: 0.0 for k in LATIN_NOISE_KINDS},
}
#: Kinds of realistic person-name noise that ``generate --name-noise RATE`` turns on (each at RATE):
#: Chinese names (similar shape, dropped character, romanised) and foreign nationals' Latin names.
NAME_NOISE_KINDS = ("shape_char", "dropped_char", "romanised", *LATIN_NOISE_KINDS)

Builder = Callable[[World, np.random.Generator, int, int], dict]


@dataclass(frozen=True)
class Catalog:
    code: str
    name: str
    source_unit: str
    kind: str
    file: str
    format: str
    encoding: str | None
    columns: tuple[str, ...]
    subject: Party
    object: Party | None
    fields: dict[str, str]
    constants: dict[str, str]
    values: dict[str, dict[str, str]]
    build: Builder
    #: what the blocks range over: "legal", "all" (legal then natural) or a relation name
    scope: str
    date_style: str = "iso"
    noise: dict[str, float] = field(default_factory=dict)
    #: publication rules rather than noise: not scaled by --noise
    fixed: dict[str, float] = field(default_factory=dict)
    required: tuple[str, ...] = ("subject_name",)
    #: How much one active record of this catalog weighs as risk (0-1), written into the spec as
    #: ``severity``: analytics reads it from there, so a new catalog counts without a code change.
    severity: float | None = None

    def rate(self, role: str, kind: str, scale: float) -> float:
        """Probability of one noise kind for one role of this catalog."""
        for key in (f"{role}.{kind}", kind):
            if key in self.fixed:
                return self.fixed[key]
        for key in (f"{role}.{kind}", kind):
            if key in self.noise:
                return min(0.95, self.noise[key] * scale)
        return min(0.95, DEFAULT_NOISE[kind] * scale)

    def spec_columns(self) -> dict[str, str]:
        """Standard field -> source column, as the spec's [columns] table."""
        out = {f"subject_{k}": v for k, v in self.subject.columns().items()}
        if self.object:
            out |= {f"object_{k}": v for k, v in self.object.columns().items()}
        return out | self.fields

    def spec_identifiers(self) -> dict[str, dict[str, str]]:
        """Spec table (``identifiers`` / ``object_identifiers``) -> scheme -> source column."""
        out = {}
        if self.subject.identifiers():
            out["identifiers"] = self.subject.identifiers()
        if self.object and self.object.identifiers():
            out["object_identifiers"] = self.object.identifiers()
        return out


# ----------------------------------------------------------------------------- helpers
_EPOCH = np.datetime64("2014-01-01")


def _counts(rng, z: np.ndarray, lam: float, beta: float, cap: int = 4) -> np.ndarray:
    """Event counts rising with latent risk; the risk is capped so shells do not all get every record."""
    return np.minimum(rng.poisson(lam * np.exp(beta * np.minimum(z, 3.0))), cap)


def _dates_after(rng, start: np.ndarray, lo: np.datetime64 = _EPOCH, hi: np.datetime64 = REF_DATE) -> np.ndarray:
    """A date between max(start + 90 days, lo) and hi."""
    a = np.maximum(start.astype("datetime64[D]") + np.timedelta64(90, "D"), lo)
    a = np.minimum(a, hi - np.timedelta64(1, "D"))
    span = (hi - a).astype(np.int64)
    return a + (rng.random(len(a)) * span).astype(np.int64).astype("timedelta64[D]")


def _year(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[Y]").astype(np.int64) + 1970


def _add_years(d: np.ndarray, years) -> np.ndarray:
    return d + (np.asarray(years) * 365).astype(np.int64).astype("timedelta64[D]")


def _choice(rng, options, size, p=None) -> np.ndarray:
    arr = np.asarray(options, dtype=object)
    if p is not None:
        p = np.asarray(p, float) / np.sum(p)
    return arr[rng.choice(len(arr), size=size, p=p)]


def _mr_auth(world: World, le: np.ndarray) -> np.ndarray:
    table = np.array([vocab.mr_authority(d[0]) for d in vocab.DISTRICTS], dtype=object)
    out = table[world.district[le]]
    special = {"51": "深圳市民政局", "52": "深圳市民政局", "53": "深圳市民政局", "12": "中共深圳市委机构编制委员会办公室",
               "31": "深圳市司法局", "N2": "深圳市农业农村局", "Y1": "深圳市住房和建设局"}
    for code, auth in special.items():
        out[world.prefix[le] == code] = auth
    return out


def _legal_range(world: World, lo: int, hi: int) -> np.ndarray:
    return np.arange(lo, min(hi, world.n_legal))


def _natural_range(world: World, lo: int, hi: int) -> np.ndarray:
    return np.arange(max(lo, world.n_legal), hi)


def _rel_rows(world: World, relation: str, lo: int, hi: int) -> np.ndarray:
    return world.rel_rows(relation)[lo:hi]


def _rep_names(world: World, le: np.ndarray) -> np.ndarray:
    return world.names[world.legal_rep[le]]


def _status_by_end(rng, end: np.ndarray, p_repair: float, labels: tuple[str, str, str]) -> np.ndarray:
    """active / expired / repaired label by publicity end date (relative to REF_DATE)."""
    active, expired, repaired = labels
    out = np.where(end < REF_DATE, expired, active).astype(object)
    rep = (out == active) & (rng.random(len(end)) < p_repair)
    out[rep] = repaired
    return out


def _stack(parts: list[dict]) -> dict:
    parts = [p for p in parts if len(p["subj"])]
    if not parts:
        return {"subj": np.array([], np.int64), "cols": {}}
    out = {"subj": np.concatenate([p["subj"] for p in parts]), "cols": {}}
    for k in parts[0]["cols"]:
        out["cols"][k] = np.concatenate([np.asarray(p["cols"][k]) for p in parts])
    if "sort" in parts[0]:
        out["sort"] = np.concatenate([p["sort"] for p in parts])
    return out


class _Parties(NamedTuple):
    """The subjects of an event catalog's rows: firms first, then persons, with their indexes."""

    ents: np.ndarray  # entity index of each row
    legal: np.ndarray  # row is about a firm
    le: np.ndarray  # the firm's index (0 on persons' rows)
    pe: np.ndarray  # the person's index among natural persons (0 on firms' rows)

    def since(self, world: World, adult_years: int) -> np.ndarray:
        """Earliest date a row can be about: the firm's founding, or the person's ``adult_years`` birthday."""
        return np.where(self.legal, world.est[self.le], world.birth[self.pe] + np.timedelta64(adult_years * 365, "D"))

    def rep_names(self, world: World) -> np.ndarray:
        """The firm's legal representative on firms' rows, nothing on persons' rows."""
        return np.where(self.legal, world.names[world.legal_rep[self.le]], None)


def _parties(world: World, le: np.ndarray, n_legal: np.ndarray, pe: np.ndarray, n_natural: np.ndarray) -> _Parties:
    """Rows for ``n_legal[i]`` events of firm ``le[i]`` and ``n_natural[j]`` of person ``pe[j]``."""
    ents = np.concatenate([np.repeat(le, n_legal), np.repeat(pe, n_natural)])
    legal = ents < world.n_legal
    return _Parties(ents, legal, np.where(legal, ents, 0), np.where(legal, 0, ents - world.n_legal))


def _nat_dates(world: World, rng, pe: np.ndarray) -> np.ndarray:
    adult = world.birth[pe] + np.timedelta64(18 * 365, "D")
    return _dates_after(rng, adult)


# ----------------------------------------------------------------------------- market regulation
def _build_reg(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    return {
        "subj": le,
        "obj": world.legal_rep[le],
        "cols": {
            "企业类型": world.legal_form[le],
            "行业门类": world.sector[le],
            "注册资本(万元)": world.capital[le],
            "成立日期": world.est[le],
            "登记状态": world.status[le],
            "登记机关": _mr_auth(world, le),
        },
    }


def _build_shareholder(world: World, rng, lo, hi) -> dict:
    r = _rel_rows(world, "shareholder_of", lo, hi)
    comp = world.rel_dst[r]
    ratio = world.rel_ratio[r]
    cap = np.round(ratio * world.capital[comp], 4)
    how = _choice(rng, ("货币", "货币", "货币", "货币", "货币", "货币", "货币", "货币", "知识产权", "实物"), len(r))
    sub_date = _add_years(world.est[comp], rng.integers(0, 30, len(r)))
    return {
        "subj": comp,
        "obj": world.rel_src[r],
        "cols": {
            "认缴出资额(万元)": cap,
            "出资比例": np.array([f"{x * 100:.2f}%" for x in ratio], dtype=object),
            "出资方式": how,
            "认缴出资日期": sub_date,
        },
    }


def _build_personnel(world: World, rng, lo, hi) -> dict:
    r = _rel_rows(world, "officer_of", lo, hi)
    return {"subj": world.rel_dst[r], "obj": world.rel_src[r], "cols": {"职务": world.rel_role[r]}}


def _build_branch(world: World, rng, lo, hi) -> dict:
    r = _rel_rows(world, "branch_of", lo, hi)
    br = world.rel_src[r]
    return {
        "subj": br,
        "obj": world.rel_dst[r],
        "cols": {"负责人": _rep_names(world, br), "成立日期": world.est[br], "登记机关": _mr_auth(world, br)},
    }


def _build_agent(world: World, rng, lo, hi) -> dict:
    r = _rel_rows(world, "agent_of", lo, hi)
    comp = world.rel_dst[r]
    return {
        "subj": comp,
        "obj": world.rel_src[r],
        "cols": {"代理业务": np.full(len(r), "设立登记", dtype=object), "代理日期": world.est[comp]},
    }


def _build_abnormal(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    ok = world.klass[le] <= 3
    n = _counts(rng, world.visible[le], 0.05, 1.0, 3) * ok
    shell_hit = (world.shell[le] >= 0) & (rng.random(len(le)) < world.shell_abnormal)
    n = n + shell_hit
    ents = np.repeat(le, n)
    first_shell = np.repeat(shell_hit, n) & (np.arange(len(ents)) == np.repeat(np.cumsum(n) - n, n))
    m = len(ents)
    date = _dates_after(rng, world.est[ents] + np.timedelta64(180, "D"))
    reason = _choice(rng, [r for r, _ in vocab.ABNORMAL_REASONS], m, [p for _, p in vocab.ABNORMAL_REASONS])
    reason[first_shell] = vocab.SHELL_ABNORMAL_REASON
    out_date = date + rng.integers(30, 900, m).astype("timedelta64[D]")
    removed = (rng.random(m) < 0.55) & (out_date < REF_DATE) & ~first_shell
    out_date = np.where(removed, out_date, np.datetime64("NaT"))
    return {
        "subj": ents,
        "cols": {
            "列入经营异常名录原因": reason,
            "列入日期": date,
            "作出决定机关": _mr_auth(world, ents),
            "移出经营异常名录原因": np.where(removed, _choice(rng, vocab.ABNORMAL_REMOVAL, m), None),
            "移出日期": out_date,
            "状态": np.where(removed, "已移出", "列入").astype(object),
        },
        "sort": date,
    }


def _build_serious(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    ok = world.klass[le] <= 3
    n = _counts(rng, world.visible[le], 0.003, 1.3, 2) * ok
    n = n + ((world.shell[le] >= 0) & (rng.random(len(le)) < 0.1))
    ents = np.repeat(le, n)
    m = len(ents)
    date = _dates_after(rng, world.est[ents] + np.timedelta64(365, "D"), np.datetime64("2016-01-01"))
    end = _add_years(date, 3)
    return {
        "subj": ents,
        "cols": {
            "列入严重违法失信名单原因": _choice(rng, vocab.SERIOUS_REASONS, m, (6, 2, 1, 1)),
            "列入日期": date,
            "作出决定机关": np.full(m, "深圳市市场监督管理局", dtype=object),
            "公示期满日期": end,
            "状态": _status_by_end(rng, end, 0.15, ("列入", "已移出", "已修复")),
        },
        "sort": date,
    }


# ----------------------------------------------------------------------------- courts
def _build_court(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    pe = _natural_range(world, lo, hi)
    nl = _counts(rng, world.visible[le], 0.015, 1.2, 3) * (world.klass[le] <= 3)
    nn = _counts(rng, world.visible[pe], 0.008, 1.4, 3)
    ents, legal, le_, pe_ = parties = _parties(world, le, nl, pe, nn)
    m = len(ents)
    start = parties.since(world, 20)
    filed = _dates_after(rng, start)
    published = filed + rng.integers(30, 400, m).astype("timedelta64[D]")
    published = np.minimum(published, REF_DATE - np.timedelta64(1, "D"))
    end = _add_years(published, 2)
    district = np.where(legal, world.district[le_], world.pdistrict[pe_])
    court = np.where(rng.random(m) < 0.1, 10, district)  # some cases go to the Qianhai court
    court_code = np.array([vocab.COURTS[c][0] for c in court], dtype=object)
    court_name = np.array([vocab.COURTS[c][1] for c in court], dtype=object)
    y = _year(filed)
    seq = rng.integers(1, 40000, m)
    case_no = np.array([f"（{a}）粤{c}执{s}号" for a, c, s in zip(y, court_code, seq)], dtype=object)
    basis = np.array([f"（{a - 1}）粤{c}民初{s}号" for a, c, s in zip(y, court_code, rng.integers(1, 60000, m))], dtype=object)
    age = np.where(legal, None, (_year(published) - _year(world.birth[pe_])).astype(str).astype(object))
    sex = np.where(legal, None, np.where(world.male[pe_], "男", "女")).astype(object)
    rep = parties.rep_names(world)
    amount = np.round(rng.lognormal(np.log(80_000), 1.3, m), 2)
    return {
        "subj": ents,
        "cols": {
            "案号": case_no,
            "性别": sex,
            "年龄": age,
            "法定代表人或者负责人姓名": rep,
            "执行法院": court_name,
            "省份": np.full(m, "广东", dtype=object),
            "执行依据文号": basis,
            "生效法律文书确定的义务": _choice(rng, vocab.COURT_OBLIGATIONS, m),
            "被执行人的履行情况": _choice(rng, vocab.COURT_PERFORMANCE, m, (3, 1)),
            "失信被执行人行为具体情形": _choice(rng, vocab.COURT_BEHAVIOURS, m, (8, 2, 2, 1)),
            "涉案金额(元)": amount,
            "立案时间": filed,
            "发布时间": published,
            "失信期限届满日期": end,
            "状态": _status_by_end(rng, end, 0.25, ("有效", "已屏蔽", "已履行")),
        },
        "sort": published,
    }


# ----------------------------------------------------------------------------- tax
def _build_tax_rating(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    k = world.klass[le]
    ok = ((k == 1) & (world.parent[le] < 0)) | ((k == 2) & (rng.random(len(le)) < 0.1))
    ok &= world.status[le] == "存续"
    parts = []
    for year in (2016, 2017, 2018, 2019, 2020):
        year_end = np.datetime64(f"{year}-12-31")
        m = ok & (world.est[le] <= year_end) & (rng.random(len(le)) < 0.8)
        e = le[m]
        s = -0.9 * world.visible[e] + rng.normal(0, 0.8, len(e))
        grade = np.select([s > 0.9, s > -0.5, s > -1.6], ["A", "B", "C"], "D").astype(object)
        grade[world.est[e] > np.datetime64(f"{year}-01-01")] = "M"
        date = np.datetime64(f"{year + 1}-04-01") + rng.integers(0, 28, len(e)).astype("timedelta64[D]")
        parts.append({
            "subj": e,
            "cols": {
                "评价年度": np.full(len(e), str(year), dtype=object),
                "纳税信用级别": grade,
                "评定日期": date,
                "主管税务机关": np.asarray(vocab.TAX_OFFICES, dtype=object)[world.district[e]],
            },
        })
    return _stack(parts)


def _build_tax_violation(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    pe = _natural_range(world, lo, hi)
    nl = _counts(rng, world.visible[le], 0.0015, 1.3, 2) * (world.klass[le] <= 3)
    nn = _counts(rng, world.visible[pe], 0.0005, 1.2, 1)
    ents, legal = (parties := _parties(world, le, nl, pe, nn))[:2]
    m = len(ents)
    start = parties.since(world, 20)
    date = _dates_after(rng, start, np.datetime64("2016-01-01"))
    end = _add_years(date, 3)
    kind = _choice(rng, vocab.TAX_VIOLATION_KINDS, m, (5, 2, 1, 3, 2))
    amount = np.round(rng.lognormal(np.log(500_000), 1.2, m), 2)
    y = _year(date) - 1
    facts = np.array([f"经检查，该纳税人于{a}年通过{k}等手段少缴或骗取税款{v:.2f}元" for a, k, v in zip(y, kind, amount)],
                     dtype=object)
    pool = world.names[world.n_legal + rng.integers(0, world.n_natural, m)]
    return {
        "subj": ents,
        "cols": {
            "法定代表人或者负责人姓名": parties.rep_names(world),
            "负有直接责任的财务负责人姓名": np.where(legal & (rng.random(m) < 0.6), pool, None),
            "案件性质": kind,
            "主要违法事实": facts,
            "涉案金额(元)": amount,
            "相关法律依据及税务处理处罚情况": np.full(m, "依照《中华人民共和国税收征收管理法》等相关法律法规，对其处以追缴税款、加收滞纳金并处罚款", dtype=object),
            "检查机关": np.full(m, "国家税务总局深圳市税务局稽查局", dtype=object),
            "公布日期": date,
            "公布截止日期": end,
            "状态": _status_by_end(rng, end, 0.1, ("公布中", "已撤出", "已修复")),
        },
        "sort": date,
    }


# ----------------------------------------------------------------------------- any authority
_PENALTY_ABBR = {
    "深圳市市场监督管理局": "深市监罚", "深圳市生态环境局": "深环罚", "深圳市应急管理局": "深应急罚",
    "深圳市住房和建设局": "深建罚", "深圳市交通运输局": "深交罚", "深圳市卫生健康委员会": "深卫健罚",
    "深圳市人力资源和社会保障局": "深人社罚", "深圳市城市管理和综合执法局": "深城管罚", "国家税务总局深圳市税务局": "深税罚",
}


def _id_kind(world: World, parties: _Parties) -> np.ndarray:
    """The penalty list's 证件类型: a firm's USCC, a resident's ID card, a foreign national's passport."""
    foreign = (world.foreign[parties.pe] if world.foreign is not None else np.zeros(len(parties.pe), bool)) \
        & ~parties.legal
    return np.where(parties.legal, "统一社会信用代码", np.where(foreign, "护照", "身份证")).astype(object)


def _build_penalty(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    pe = _natural_range(world, lo, hi)
    nl = _counts(rng, world.visible[le], 0.06, 0.8, 4) * (world.klass[le] <= 3)
    nn = _counts(rng, world.visible[pe], 0.006, 0.8, 2)
    ents, legal = (parties := _parties(world, le, nl, pe, nn))[:2]
    m = len(ents)
    start = parties.since(world, 20)
    date = _dates_after(rng, start)
    t = rng.integers(0, len(vocab.PENALTIES), m)
    auth = np.array([vocab.PENALTIES[i][0] for i in t], dtype=object)
    kind = np.array([vocab.PENALTIES[i][1] for i in t], dtype=object)
    lo_f = np.array([vocab.PENALTIES[i][4][0] for i in t], float)
    hi_f = np.array([vocab.PENALTIES[i][4][1] for i in t], float)
    fine = np.round(lo_f + rng.random(m) * (hi_f - lo_f), -2)
    # Publicity: warnings 3 months, fines 1 year, large fines 3 years.
    days = np.where(kind == "警告", 90, np.where(fine >= 100_000, 3 * 365, 365))
    end = date + days.astype("timedelta64[D]")
    y = _year(date)
    case_no = np.array([f"{_PENALTY_ABBR[a]}〔{b}〕{s}号" for a, b, s in zip(auth, y, rng.integers(1, 9000, m))], dtype=object)
    return {
        "subj": ents,
        "cols": {
            "行政处罚决定书文号": case_no,
            "处罚类别": kind,
            "处罚事由": np.array([vocab.PENALTIES[i][2] for i in t], dtype=object),
            "处罚依据": np.array([vocab.PENALTIES[i][3] for i in t], dtype=object),
            "法定代表人": parties.rep_names(world),
            "证件类型": _id_kind(world, parties),
            "罚款金额(元)": np.where(fine > 0, fine, np.nan),
            "处罚决定日期": date,
            "公示截止期": end,
            "处罚机关": auth,
            "公示状态": _status_by_end(rng, end, 0.2, ("公示中", "已到期", "已修复")),
        },
        "sort": date,
    }


_SECTOR_LICENCE = {
    "建筑业": "建筑业企业资质证书",
    "交通运输、仓储和邮政业": "道路运输经营许可证",
    "制造业": "排污许可证",
    "批发和零售业": "食品经营许可证",
    "住宿和餐饮业": "食品经营许可证",
}


def _LICENCE_BY_SECTOR_TABLE(world: World) -> np.ndarray:
    """Per legal person the licence template its trade needs, -1 when none."""
    cache = world.__dict__.get("_licence_table")
    if cache is None:
        names = [l[1] for l in vocab.LICENCES]
        by_sector = {s: names.index(n) for s, n in _SECTOR_LICENCE.items()}
        cache = np.array([by_sector.get(s, -1) for s in world.sector], dtype=np.int64)
        cache[world.mid == "医疗器械"] = names.index("第二类医疗器械经营备案凭证")
        world._licence_table = cache
    return cache


def _build_licence(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    pe = _natural_range(world, lo, hi)
    # Firms get the licences their trade needs (a builder's qualification, a shop's food permit).
    t_legal = _LICENCE_BY_SECTOR_TABLE(world)[le]
    nl = np.minimum(rng.poisson(0.6 * np.exp(-0.2 * world.visible[le])), 3) * (t_legal >= 0)
    # Every person who appears in no firm still holds some licence: each entity is seen somewhere.
    nn = np.minimum(rng.poisson(0.03, len(pe)), 2)
    nn = np.maximum(nn, ~world.covered[pe - world.n_legal])
    ents, legal, le_, pe_ = parties = _parties(world, le, nl, pe, nn)
    m = len(ents)
    for_nat = [i for i, l in enumerate(vocab.LICENCES) if l[4]]
    k = int(nl.sum())
    t = np.empty(m, dtype=np.int64)
    t[:k] = np.repeat(t_legal, nl)
    t[k:] = np.asarray(for_nat)[rng.integers(0, len(for_nat), m - k)]
    start = parties.since(world, 22)
    date = _dates_after(rng, start, np.datetime64("2012-01-01"))
    years = np.array([vocab.LICENCES[i][3] for i in t])
    end = _add_years(date, years)
    status = np.where(end < REF_DATE, "已过期", "有效").astype(object)
    status[legal & (world.status[le_] != "存续")] = "已注销"
    auth = np.array([vocab.LICENCES[i][0] for i in t], dtype=object)
    y = _year(date)
    seq = rng.integers(1, 99999, m)
    return {
        "subj": ents,
        "cols": {
            "行政许可决定文书号": np.array([f"{_PENALTY_ABBR.get(a, '深')[:-1]}许〔{b}〕{s}号" for a, b, s in zip(auth, y, seq)],
                                   dtype=object),
            "许可证书名称": np.array([vocab.LICENCES[i][1] for i in t], dtype=object),
            "许可编号": np.array([f"{b}{s:06d}{i:02d}" for b, s, i in zip(y, seq, t)], dtype=object),
            "许可内容": np.array([vocab.LICENCES[i][2] for i in t], dtype=object),
            "法定代表人": parties.rep_names(world),
            "许可决定日期": date,
            "有效期自": date,
            "有效期至": end,
            "许可机关": auth,
            "许可状态": status,
        },
        "sort": date,
    }


# ----------------------------------------------------------------------------- social insurance
def _build_insured(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    k = world.klass[le]
    ok = (((k == 1) | (k == 3)) & (world.parent[le] < 0)) | ((k == 2) & (rng.random(len(le)) < 0.3))
    ok &= world.status[le] == "存续"
    parts = []
    # Half-yearly snapshots; staff numbers drift, shells stay at zero throughout.
    for snap in ("2020-06-30", "2020-12-31", "2021-06-30"):
        day = np.datetime64(snap)
        e = le[ok & (world.est[le] <= day)]
        drift = rng.normal(0, 0.15, len(e)) if snap != "2021-06-30" else np.zeros(len(e))
        count = np.maximum(np.round(world.insured[e] * np.exp(drift)), 0).astype(np.int64)
        parts.append({
            "subj": e,
            "cols": {
                "参保人数": count,
                "参保险种": np.full(len(e), "养老、医疗、工伤、失业、生育", dtype=object),
                "统计截止日期": np.full(len(e), day),
            },
        })
    return _stack(parts)


def _build_arrears(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    ok = (world.klass[le] == 1) & (world.insured[le] > 0)
    n = _counts(rng, world.visible[le], 0.015, 1.0, 2) * ok
    e = np.repeat(le, n)
    m = len(e)
    months = rng.integers(1, 25, m)
    amount = np.round(months * world.insured[e] * rng.uniform(800, 1500, m), 2)
    date = _dates_after(rng, world.est[e] + np.timedelta64(365, "D"), np.datetime64("2017-01-01"))
    return {
        "subj": e,
        "cols": {
            "欠缴月数": months,
            "欠缴金额(元)": amount,
            "认定日期": date,
            "状态": np.where(rng.random(m) < 0.4, "已补缴", "欠缴中").astype(object),
        },
        "sort": date,
    }


def _build_red(world: World, rng, lo, hi) -> dict:
    le = _legal_range(world, lo, hi)
    pe = _natural_range(world, lo, hi)
    nl = np.minimum(rng.poisson(0.03 * np.exp(-0.8 * world.visible[le])), 2) * (world.shell[le] < 0)
    nn = np.minimum(rng.poisson(0.004 * np.exp(-0.5 * world.visible[pe])), 1)
    ents, legal = (parties := _parties(world, le, nl, pe, nn))[:2]
    m = len(ents)
    start = parties.since(world, 20)
    date = _dates_after(rng, start + np.timedelta64(365, "D"), np.datetime64("2016-01-01"))
    title = np.where(legal, _choice(rng, vocab.RED_TITLES_LEGAL, m), _choice(rng, vocab.RED_TITLES_NATURAL, m))
    return {
        "subj": ents,
        "cols": {
            "荣誉名称": title.astype(object),
            "认定年度": _year(date).astype(str).astype(object),
            "认定部门": _choice(rng, vocab.RED_AUTHORITIES, m),
            "认定日期": date,
            "有效期至": _add_years(date, 2),
        },
        "sort": date,
    }


# ----------------------------------------------------------------------------- the catalogs
_SH_LABELS = (("natural", "自然人股东"), (1, "企业法人"), (2, "个体工商户"), (3, "农民专业合作社"), (4, "社团法人"))
_COURT_LABELS = (("natural", "自然人"), (1, "法人或其他组织"), (2, "法人或其他组织"), (3, "法人或其他组织"), (4, "法人或其他组织"))
_TAX_LABELS = (("natural", "自然人"), (1, "企业"), (2, "个体工商户"), (3, "其他组织"), (4, "其他组织"))
_ADMIN_LABELS = (("natural", "自然人"), (1, "法人及非法人组织"), (2, "个体工商户"), (3, "法人及非法人组织"), (4, "法人及非法人组织"))
_RED_LABELS = (("natural", "自然人"), (1, "法人和其他组织"), (2, "法人和其他组织"), (3, "法人和其他组织"), (4, "法人和其他组织"))


def _values(labels) -> dict[str, str]:
    return {label: ("natural" if k == "natural" else "legal") for k, label in labels}


CATALOGS: tuple[Catalog, ...] = (
    Catalog(
        code="MR_REG", name="企业登记", source_unit="市场监管局", kind="entity", file="mr_reg.csv", format="csv",
        encoding="utf-8-sig",
        columns=("统一社会信用代码", "注册号", "企业名称", "企业类型", "行业门类", "法定代表人", "法定代表人证件号码",
                 "法定代表人国籍", "法定代表人护照号码", "注册资本(万元)", "成立日期", "住所", "联系电话", "登记状态", "登记机关"),
        subject=Party(name="企业名称", uscc="统一社会信用代码", reg_no="注册号", address="住所", phone="联系电话",
                      reg_no_always=True),
        object=Party(name="法定代表人", id_number="法定代表人证件号码", nationality="法定代表人国籍",
                     passport="法定代表人护照号码"),
        fields={"legal_form": "企业类型", "industry": "行业门类", "capital": "注册资本(万元)", "date": "成立日期",
                "status": "登记状态", "authority": "登记机关"},
        constants={"subject_type": "legal", "object_type": "natural", "relation": "legal_rep_of",
                   "event_type": "registration"},
        values={}, build=_build_reg, scope="legal",
        # The representative's ID number is a mandatory registration field: it is missing only
        # where the export lost it (the base rate), not in a third of the rows.
        noise={"subject.missing_id": 0.005, "subject.legacy_id": 0.15, "object.legacy_id": 0.05,
               "duplicate": 0.005},
    ),
    Catalog(
        code="MR_SHAREHOLDER", name="股东及出资信息", source_unit="市场监管局", kind="relationship",
        file="mr_shareholder.csv", format="csv", encoding="gbk",
        columns=("企业名称", "统一社会信用代码", "股东名称", "股东类型", "股东统一社会信用代码", "股东证件号码",
                 "股东国籍", "股东护照号码", "认缴出资额(万元)", "出资比例", "出资方式", "认缴出资日期"),
        subject=Party(name="企业名称", uscc="统一社会信用代码"),
        object=Party(name="股东名称", uscc="股东统一社会信用代码", id_number="股东证件号码", type="股东类型",
                     labels=_SH_LABELS, nationality="股东国籍", passport="股东护照号码"),
        fields={"capital": "认缴出资额(万元)", "ratio": "出资比例", "date": "认缴出资日期"},
        constants={"subject_type": "legal", "relation": "shareholder_of"},
        values={"object_type": _values(_SH_LABELS)}, build=_build_shareholder, scope="shareholder_of",
        noise={"object.missing_id": 0.05, "object.legacy_id": 0.05},
        required=("subject_name", "object_name"),
    ),
    Catalog(
        code="MR_PERSONNEL", name="主要人员", source_unit="市场监管局", kind="relationship", file="mr_personnel.csv",
        format="csv", encoding="utf-8",
        columns=("企业名称", "统一社会信用代码", "姓名", "职务", "身份证号码", "国籍", "护照号码"),
        subject=Party(name="企业名称", uscc="统一社会信用代码"),
        object=Party(name="姓名", id_number="身份证号码", nationality="国籍", passport="护照号码"),
        fields={"role": "职务"},
        constants={"subject_type": "legal", "object_type": "natural", "relation": "officer_of"},
        values={}, build=_build_personnel, scope="officer_of",
        # Older filings listed key personnel by name and role only.
        noise={"object.missing_id": 0.1, "object.legacy_id": 0.08},
        required=("subject_name", "object_name"),
    ),
    Catalog(
        code="MR_BRANCH", name="分支机构", source_unit="市场监管局", kind="relationship", file="mr_branch.csv",
        format="csv", encoding="utf-8",
        columns=("分支机构名称", "分支机构统一社会信用代码", "营业场所", "负责人", "隶属企业名称", "隶属企业统一社会信用代码",
                 "隶属企业注册号", "成立日期", "登记机关"),
        subject=Party(name="分支机构名称", uscc="分支机构统一社会信用代码", address="营业场所"),
        object=Party(name="隶属企业名称", uscc="隶属企业统一社会信用代码", reg_no="隶属企业注册号"),
        fields={"date": "成立日期", "authority": "登记机关"},
        constants={"subject_type": "legal", "object_type": "legal", "relation": "branch_of"},
        values={}, build=_build_branch, scope="branch_of",
        required=("subject_name", "object_name"),
    ),
    Catalog(
        code="MR_AGENT", name="登记代理信息", source_unit="市场监管局", kind="relationship", file="mr_agent.tsv",
        format="tsv", encoding="utf-8",
        columns=("企业名称", "统一社会信用代码", "代理机构名称", "代理机构统一社会信用代码", "代理业务", "代理日期"),
        subject=Party(name="企业名称", uscc="统一社会信用代码"),
        object=Party(name="代理机构名称", uscc="代理机构统一社会信用代码"),
        fields={"reason": "代理业务", "date": "代理日期"},
        constants={"subject_type": "legal", "object_type": "legal", "relation": "agent_of"},
        values={}, build=_build_agent, scope="agent_of",
        required=("subject_name", "object_name"),
    ),
    Catalog(
        code="MR_ABNORMAL", name="经营异常名录", source_unit="市场监管局", kind="event", file="mr_abnormal.csv",
        format="csv", encoding="gbk",
        columns=("企业名称", "统一社会信用代码", "注册号", "列入经营异常名录原因", "列入日期", "作出决定机关",
                 "移出经营异常名录原因", "移出日期", "状态"),
        subject=Party(name="企业名称", uscc="统一社会信用代码", reg_no="注册号"),
        object=None,
        fields={"reason": "列入经营异常名录原因", "date": "列入日期", "authority": "作出决定机关", "end_date": "移出日期",
                "status": "状态"},
        constants={"subject_type": "legal", "event_type": "abnormal_operations"},
        values={"status": {"列入": "active", "已移出": "repaired"}}, build=_build_abnormal, scope="legal",
        date_style="slash", noise={"legacy_id": 0.1},
    ),
    Catalog(
        code="MR_SERIOUS", name="严重违法失信名单", source_unit="市场监管局", kind="event", file="mr_serious.jsonl",
        format="jsonl", encoding="utf-8",
        columns=("企业名称", "统一社会信用代码", "列入严重违法失信名单原因", "列入日期", "作出决定机关", "公示期满日期", "状态"),
        subject=Party(name="企业名称", uscc="统一社会信用代码"),
        object=None,
        fields={"reason": "列入严重违法失信名单原因", "date": "列入日期", "authority": "作出决定机关",
                "end_date": "公示期满日期", "status": "状态"},
        constants={"subject_type": "legal", "event_type": "serious_illegal"},
        values={"status": {"列入": "active", "已移出": "expired", "已修复": "repaired"}}, build=_build_serious,
        scope="legal",
    ),
    Catalog(
        code="COURT_DISHONEST", name="失信被执行人", source_unit="法院", kind="event", file="court_dishonest.jsonl",
        format="jsonl", encoding="utf-8",
        columns=("案号", "被执行人姓名/名称", "被执行人类型", "性别", "年龄", "身份证号码", "护照号码", "统一社会信用代码", "组织机构代码",
                 "法定代表人或者负责人姓名", "执行法院", "省份", "执行依据文号", "生效法律文书确定的义务",
                 "被执行人的履行情况", "失信被执行人行为具体情形", "涉案金额(元)", "立案时间", "发布时间",
                 "失信期限届满日期", "状态"),
        subject=Party(name="被执行人姓名/名称", uscc="统一社会信用代码", org_code="组织机构代码", id_number="身份证号码",
                      type="被执行人类型", labels=_COURT_LABELS, passport="护照号码"),
        object=None,
        fields={"case_no": "案号", "authority": "执行法院", "reason": "失信被执行人行为具体情形", "amount": "涉案金额(元)",
                "date": "发布时间", "end_date": "失信期限届满日期", "status": "状态"},
        constants={"event_type": "dishonest_debtor"},
        values={"subject_type": _values(_COURT_LABELS), "status": {"有效": "active", "已屏蔽": "expired", "已履行": "repaired"}},
        build=_build_court, scope="all", date_style="cn",
        noise={"legacy_id": 0.15, "missing_id": 0.01, "traditional": 0.02},
        fixed={"subject.masked_id": 1.0},
    ),
    Catalog(
        code="TAX_RATING", name="纳税信用等级", source_unit="税务局", kind="event", file="tax_rating.csv", format="csv",
        encoding="gb18030",
        columns=("纳税人识别号", "纳税人名称", "评价年度", "纳税信用级别", "评定日期", "主管税务机关"),
        subject=Party(name="纳税人名称", uscc="纳税人识别号"),
        object=None,
        fields={"grade": "纳税信用级别", "date": "评定日期", "authority": "主管税务机关"},
        constants={"subject_type": "legal", "event_type": "tax_rating"},
        values={}, build=_build_tax_rating, scope="legal", date_style="compact",
        noise={"traditional": 0.02, "missing_id": 0.01},
    ),
    Catalog(
        code="TAX_VIOLATION", name="重大税收违法失信案件", source_unit="税务局", kind="event", file="tax_violation.csv",
        format="csv", encoding="gbk",
        columns=("纳税人名称", "纳税人识别号", "组织机构代码", "纳税人类型", "身份证号码", "注册地址", "法定代表人或者负责人姓名",
                 "负有直接责任的财务负责人姓名", "案件性质", "主要违法事实", "涉案金额(元)", "相关法律依据及税务处理处罚情况",
                 "检查机关", "公布日期", "公布截止日期", "状态"),
        subject=Party(name="纳税人名称", uscc="纳税人识别号", org_code="组织机构代码", id_number="身份证号码",
                      type="纳税人类型", labels=_TAX_LABELS, address="注册地址"),
        object=None,
        fields={"reason": "案件性质", "amount": "涉案金额(元)", "authority": "检查机关", "date": "公布日期",
                "end_date": "公布截止日期", "status": "状态"},
        constants={"event_type": "tax_violation"},
        values={"subject_type": _values(_TAX_LABELS), "status": {"公布中": "active", "已撤出": "expired", "已修复": "repaired"}},
        build=_build_tax_violation, scope="all",
        noise={"legacy_id": 0.1},
        fixed={"subject.masked_id": 0.7},
    ),
    Catalog(
        code="ADMIN_PENALTY", name="行政处罚", source_unit="各行政执法部门", kind="event", file="admin_penalty.xlsx",
        format="xlsx", encoding=None,
        columns=("行政处罚决定书文号", "处罚类别", "处罚事由", "处罚依据", "行政相对人名称", "行政相对人类别", "统一社会信用代码",
                 "法定代表人", "证件类型", "证件号码", "护照号码", "罚款金额(元)", "处罚决定日期", "公示截止期", "处罚机关",
                 "公示状态"),
        subject=Party(name="行政相对人名称", uscc="统一社会信用代码", id_number="证件号码", type="行政相对人类别",
                      labels=_ADMIN_LABELS, passport="护照号码"),
        object=None,
        fields={"case_no": "行政处罚决定书文号", "reason": "处罚事由", "amount": "罚款金额(元)", "date": "处罚决定日期",
                "end_date": "公示截止期", "authority": "处罚机关", "status": "公示状态"},
        constants={"event_type": "penalty"},
        values={"subject_type": _values(_ADMIN_LABELS), "status": {"公示中": "active", "已到期": "expired", "已修复": "repaired"}},
        build=_build_penalty, scope="all",
        noise={"missing_id": 0.08},
        fixed={"subject.masked_id": 0.6},
    ),
    Catalog(
        code="ADMIN_LICENCE", name="行政许可", source_unit="各行政许可部门", kind="event", file="admin_licence.csv",
        format="csv", encoding="utf-8",
        columns=("行政许可决定文书号", "许可证书名称", "许可编号", "许可内容", "行政相对人名称", "行政相对人类别",
                 "统一社会信用代码", "法定代表人", "证件号码", "护照号码", "许可决定日期", "有效期自", "有效期至", "许可机关",
                 "许可状态"),
        subject=Party(name="行政相对人名称", uscc="统一社会信用代码", id_number="证件号码", type="行政相对人类别",
                      labels=_ADMIN_LABELS, passport="护照号码"),
        object=None,
        fields={"case_no": "行政许可决定文书号", "reason": "许可内容", "date": "许可决定日期", "end_date": "有效期至",
                "authority": "许可机关", "status": "许可状态"},
        constants={"event_type": "licence"},
        values={"subject_type": _values(_ADMIN_LABELS), "status": {"有效": "active", "已过期": "expired", "已注销": "removed"}},
        build=_build_licence, scope="all",
        fixed={"subject.masked_id": 0.5},
    ),
    Catalog(
        code="HRSS_INSURED", name="社保参保信息", source_unit="人力资源和社会保障局", kind="event", file="hrss_insured.csv",
        format="csv", encoding="gb18030",
        columns=("单位名称", "统一社会信用代码", "参保人数", "参保险种", "统计截止日期"),
        subject=Party(name="单位名称", uscc="统一社会信用代码"),
        object=None,
        fields={"count": "参保人数", "date": "统计截止日期"},
        constants={"subject_type": "legal", "event_type": "social_insurance"},
        values={}, build=_build_insured, scope="legal",
    ),
    Catalog(
        code="HRSS_ARREARS", name="社保欠缴信息", source_unit="人力资源和社会保障局", kind="event", file="hrss_arrears.xlsx",
        format="xlsx", encoding=None,
        columns=("单位名称", "统一社会信用代码", "欠缴月数", "欠缴金额(元)", "认定日期", "状态"),
        subject=Party(name="单位名称", uscc="统一社会信用代码"),
        object=None,
        fields={"count": "欠缴月数", "amount": "欠缴金额(元)", "date": "认定日期", "status": "状态"},
        constants={"subject_type": "legal", "event_type": "social_insurance_arrears"},
        values={"status": {"欠缴中": "active", "已补缴": "repaired"}}, build=_build_arrears, scope="legal",
    ),
    Catalog(
        code="RED_LIST", name="守信红名单", source_unit="各认定部门", kind="event", file="red_list.xlsx", format="xlsx",
        encoding=None,
        columns=("名称", "主体类型", "统一社会信用代码", "身份证号码", "荣誉名称", "认定年度", "认定部门", "认定日期", "有效期至"),
        subject=Party(name="名称", uscc="统一社会信用代码", id_number="身份证号码", type="主体类型", labels=_RED_LABELS),
        object=None,
        fields={"grade": "荣誉名称", "authority": "认定部门", "date": "认定日期", "end_date": "有效期至"},
        constants={"event_type": "red_list"},
        values={"subject_type": _values(_RED_LABELS)}, build=_build_red, scope="all",
        fixed={"subject.masked_id": 1.0},
    ),
)


#: Severity of each adverse catalog's records (the spec's ``severity``); tax ratings weigh by grade instead.
SPEC_SEVERITY = {"MR_SERIOUS": 1.0, "COURT_DISHONEST": 0.9, "TAX_VIOLATION": 0.8, "ADMIN_PENALTY": 0.4,
                 "MR_ABNORMAL": 0.3, "HRSS_ARREARS": 0.3}
CATALOGS = tuple(dataclasses.replace(c, severity=SPEC_SEVERITY[c.code]) if c.code in SPEC_SEVERITY else c
                 for c in CATALOGS)


def parse_rates(text: str) -> dict[str, dict[str, float]]:
    """Per-catalog noise rate overrides from text like ``MR_REG.missing_id=0.1, COURT_DISHONEST.subject.traditional=0.05``.

    Each item is ``CATALOG.[subject.|object.]KIND=RATE`` with a noise kind from
    :data:`credgraph.synth.noise.NOISE_TAGS` and a rate in [0, 1] (still scaled by ``--noise``).

    >>> parse_rates("MR_REG.missing_id=0.1; MR_REG.object.legacy_id=0")
    {'MR_REG': {'missing_id': 0.1, 'object.legacy_id': 0.0}}
    >>> parse_rates("MR_REG.typo=0.1")
    Traceback (most recent call last):
    ...
    ValueError: noise rate 'MR_REG.typo=0.1': unknown noise kind 'typo' (one of traditional, fullwidth, ...)
    """
    from credgraph.synth.noise import NOISE_TAGS

    codes = {c.code for c in CATALOGS}
    out: dict[str, dict[str, float]] = {}
    for item in filter(None, (x.strip() for x in text.replace(";", ",").split(","))):
        key, sep, value = item.partition("=")
        parts = key.strip().split(".")
        problem = None
        if not sep or len(parts) not in (2, 3):
            problem = "expected CATALOG.KIND=RATE or CATALOG.ROLE.KIND=RATE"
        elif parts[0] not in codes:
            problem = f"unknown catalog {parts[0]!r} (one of {', '.join(sorted(codes))})"
        elif len(parts) == 3 and parts[1] not in ("subject", "object"):
            problem = f"unknown role {parts[1]!r} (subject or object)"
        elif parts[-1] not in NOISE_TAGS:
            problem = f"unknown noise kind {parts[-1]!r} (one of {', '.join(NOISE_TAGS[:2])}, ...)"
        else:
            try:
                rate = float(value)
            except ValueError:
                rate = -1.0
            if not 0.0 <= rate <= 1.0:
                problem = f"rate must be a number between 0 and 1, got {value.strip()!r}"
        if problem:
            raise ValueError(f"noise rate {item!r}: {problem}")
        out.setdefault(parts[0], {})[".".join(parts[1:])] = rate
    return out


def catalog_by_code(code: str) -> Catalog:
    """The catalog with this code (KeyError when unknown)."""
    for c in CATALOGS:
        if c.code == code:
            return c
    raise KeyError(code)
