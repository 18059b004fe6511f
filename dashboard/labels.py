"""Chinese labels and number formats of what the dashboard shows (one place for the words).

Event types, grade indicators and dimensions, relationship roles and record statuses in the
words a Chinese credit report uses; amounts as money, never in scientific notation.

>>> fmt_amount(11020.0)
'11,020.00 元'
>>> fmt_capital(500.0)
'500 万元'
>>> event_label("dishonest_debtor"), event_label("something_new")
('失信被执行人', 'something_new')
"""

from __future__ import annotations

from credgraph.records import EVENT_TYPES

__all__ = [
    "EVENT_LABELS", "RISK_EVENTS", "GOOD_EVENTS", "INDICATOR_LABELS", "DIMENSION_LABELS", "STATUS_LABELS",
    "REL_LABELS", "LABEL_NAMES", "event_label", "status_label", "fmt_amount", "fmt_capital", "fmt_num",
    "relation_text",
]

#: Event type (records.event_type) -> the catalog's Chinese name (the record model's own list).
EVENT_LABELS = dict(EVENT_TYPES)
#: Event types that count against a subject (风险): the risk scan counts them.
RISK_EVENTS = ("dishonest_debtor", "serious_illegal", "abnormal_operations", "tax_violation", "penalty",
               "social_insurance_arrears")
#: Event types that speak for a subject.
GOOD_EVENTS = ("red_list", "licence")

_OLD_INDICATOR_LABELS = {
    "young": "成立时间短", "tiny_capital": "注册资本极少", "bad_status": "已注销或吊销",
    "no_staff": "无参保人员", "arrears": "社保欠缴", "abnormal": "列入经营异常名录", "tax_rating": "纳税信用等级低",
    "penalties": "行政处罚", "serious_illegal": "列入严重违法失信名单", "dishonest_debtor": "失信被执行人",
    "tax_violation": "重大税收违法", "related_risk": "关联方风险", "rep_many_firms": "法定代表人兼任多家企业",
    "shared_address": "多家企业共用地址", "red_list": "守信红名单", "licences": "有效行政许可",
}


def _indicator_labels() -> dict[str, str]:
    """Indicator name -> its Chinese label, from the indicator system's own file (analytics/indicators.toml)."""
    from credgraph.analytics.indicators import IndicatorError, load_indicators

    try:
        return {**_OLD_INDICATOR_LABELS, **{i.name: i.label for i in load_indicators()}}
    except IndicatorError:
        return dict(_OLD_INDICATOR_LABELS)


#: Indicator (grade contribution) -> Chinese label.
INDICATOR_LABELS = _indicator_labels()
DIMENSION_LABELS = {"basic": "基础信息", "operating": "经营状况", "regulatory": "监管记录", "related": "关联关系",
                    "social": "社会评价"}
STATUS_LABELS = {"active": "有效", "expired": "已过期", "repaired": "已修复", "removed": "已移出"}
#: Relationship type -> (how the source relates to the target, what the source is called).
REL_LABELS = {
    "SHAREHOLDER_OF": ("持股", "股东"), "LEGAL_REP_OF": ("任法定代表人", "法定代表人"),
    "OFFICER_OF": ("任职", "主要人员"), "BRANCH_OF": ("分支机构", "分支机构"),
    "AGENT_OF": ("代办登记", "登记代理人"), "LOCATED_AT": ("住所", "住所"), "USES_PHONE": ("联系电话", "联系电话"),
    "HAS_RECORD": ("信用记录", "信用记录"),
}
LABEL_NAMES = {"LegalPerson": "企业", "NaturalPerson": "自然人", "Address": "地址", "Phone": "电话",
               "CreditRecord": "信用记录"}


def event_label(event_type: str | None) -> str:
    """The Chinese name of an event type (the code itself when unknown)."""
    return EVENT_LABELS.get(event_type or "", event_type or "")


def status_label(status: str | None) -> str:
    """有效 / 已过期 / 已修复 / 已移出 for a record's status ('' when none)."""
    return STATUS_LABELS.get(status or "", status or "")


def relation_text(rel_type: str, outgoing: bool, role: str | None = None) -> str:
    """How a related party relates, seen from the entity: 股东, 法定代表人, 对外投资, 任职 (董事) ...

    >>> relation_text("SHAREHOLDER_OF", True), relation_text("SHAREHOLDER_OF", False), relation_text("OFFICER_OF", False, "董事")
    ('对外投资', '股东', '主要人员 (董事)')
    """
    out = {"SHAREHOLDER_OF": "对外投资", "LEGAL_REP_OF": "任法定代表人", "OFFICER_OF": "任职",
           "BRANCH_OF": "总公司", "AGENT_OF": "代办登记"}
    text = out.get(rel_type, rel_type) if outgoing else REL_LABELS.get(rel_type, (rel_type, rel_type))[1]
    return f"{text} ({role})" if role else text


def fmt_amount(x) -> str:
    """An amount in yuan with thousands separators and two decimals ('' for none)."""
    if x is None or x != x:
        return ""
    return f"{float(x):,.2f} 元"


def fmt_capital(x) -> str:
    """Registered capital (in 10,000 yuan, as registered) as 'N 万元'."""
    if x is None or x != x:
        return ""
    return f"{float(x):,.6g} 万元"


def fmt_num(x, digits: int = 3) -> str:
    """A plain number without scientific notation ('' for none).

    >>> fmt_num(0.000123), fmt_num(12345.678)
    ('0.000123', '12,345.678')
    """
    if x is None or x != x:
        return ""
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1:
        return f"{x:,.{digits}f}".rstrip("0").rstrip(".")
    text = f"{x:.{digits + 4}f}".rstrip("0")
    return text
