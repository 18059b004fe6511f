"""The enterprise credit report (企业信用报告): one self-contained HTML page per entity.

The report holds what the profile page shows — identity (ID numbers and phones masked),
grade with the indicators behind it, propagated risk with its top sources, credit records,
related parties, ultimate controller and beneficial owners — with inline CSS and no
external resources, so it opens offline and prints as is. Every value is HTML-escaped.

>>> import polars as pl
>>> from credgraph.dashboard.data import Profile
>>> p = Profile("L1", "LegalPerson", {"name": "深圳市甲<乙>公司", "uscc": "914403001922038216"}, None,
...             pl.DataFrame(), {}, pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), None,
...             pl.DataFrame(), pl.DataFrame(), None)
>>> html = credit_report_html(p, generated="2026-01-01 10:00")
>>> "深圳市甲&lt;乙&gt;公司" in html and "<script" not in html and "http" not in html
True
"""

from __future__ import annotations

import datetime as _dt
import html as _html
from typing import Any

import polars as pl

from credgraph.dashboard.privacy import mask_frame, mask_record, mask_value

__all__ = ["credit_report_html", "IDENTITY_FIELDS"]

#: Identity fields shown, in order, with their Chinese and English captions.
IDENTITY_FIELDS = (
    ("name", "名称 Name"), ("uscc", "统一社会信用代码 USCC"), ("org_code", "组织机构代码 Org. code"),
    ("reg_no", "注册号 Reg. no."), ("id_masked", "身份证号 ID number (masked)"), ("legal_form", "类型 Legal form"),
    ("industry", "行业 Industry"), ("registered_capital", "注册资本 Capital (10k CNY)"),
    ("est_date", "成立日期 Established"), ("status", "登记状态 Status"), ("is_branch", "分支机构 Branch"),
    ("names", "曾用名/写法 Names seen"), ("member_count", "来源记录 Source mentions"), ("evidence", "归并依据 Merge evidence"),
    ("node_id", "实体编号 Entity id"),
)

_CSS = """
body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em;border-bottom:3px solid #1565c0;padding-bottom:.3em}
h2{font-size:1.15em;color:#1565c0;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f0f4fa}
.grade{display:inline-block;font-size:2em;font-weight:bold;padding:.1em .5em;border-radius:6px;color:#fff}
.muted{color:#777;font-size:.85em}
"""
_GRADE_BG = {"A+": "#1b5e20", "A": "#43a047", "B": "#7cb342", "C": "#f9a825", "D": "#ef6c00", "E": "#c62828"}


def _e(value: Any) -> str:
    """A value as HTML text: control and direction-override characters dropped, then escaped."""
    from credgraph.security.display import html_text

    if value is None:
        return ""
    if isinstance(value, float):
        return _html.escape(f"{value:,.4g}")
    if isinstance(value, list):
        return html_text(" | ".join(map(str, value)))
    return html_text(value)


def _table(frame: pl.DataFrame, columns: list[str] | None = None, limit: int = 200) -> str:
    if frame is None or frame.height == 0:
        return '<p class="muted">none / 无</p>'
    frame = mask_frame(frame)
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    rows = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in frame.select(cols).head(limit).iter_rows())
    more = f'<p class="muted">… {frame.height - limit} more</p>' if frame.height > limit else ""
    return f"<table><tr>{head}</tr>{rows}</table>{more}"


def credit_report_html(profile, generated: str | None = None) -> str:
    """The HTML credit report of a :class:`~credgraph.dashboard.data.Profile`."""
    p = profile
    ident = mask_record(p.identity)
    generated = generated or _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    title = "企业信用报告 Enterprise credit report" if p.kind == "LegalPerson" else "信用报告 Credit report"
    out = [f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{_e(ident.get('name'))} — "
           f"{_e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{_e(title)}: {_e(ident.get('name'))}</h1>",
           f'<p class="muted">generated {_e(generated)}; data as of {_e(p.as_of)}; ID numbers and phones are masked '
           "(个人信息已脱敏).</p>", "<h2>基本信息 Identity</h2><table>"]
    for key, caption in IDENTITY_FIELDS:
        if ident.get(key) not in (None, "", []):
            out.append(f"<tr><th>{_e(caption)}</th><td>{_e(ident[key])}</td></tr>")
    out.append("</table>")
    if p.grade:
        g = p.grade
        out.append("<h2>信用等级 Grade</h2>")
        out.append(f'<p><span class="grade" style="background:{_GRADE_BG.get(g["grade"], "#777")}">{_e(g["grade"])}'
                   f'</span> score {_e(g["score"])} / 100</p><p>{_e(g.get("reasons"))}</p>')
        out.append(_table(p.contributions, ["dimension", "indicator", "value", "points"]))
    out.append("<h2>关联风险 Propagated risk</h2>")
    if p.risk:
        r = p.risk
        out.append(f"<p>risk {_e(r.get('risk'))} (own records {_e(r.get('seed'))}, received from related parties "
                   f"{_e(r.get('received'))}); rank {_e(r.get('rank'))} of {_e(r.get('entities'))}</p>")
    out.append(_table(p.sources, ["source_name", "contribution", "share", "hops", "path_text"]))
    if p.shell:
        out.append("<h2>疑似空壳 Shell-company indicators</h2>")
        out.append(f"<p>shell score {_e(p.shell.get('shell_score'))}; flagged: {_e(p.shell.get('flagged'))}; "
                   f"group {_e(p.shell.get('group_id'))}; shares {_e(p.shell.get('kind'))} "
                   f"{_e(mask_value(p.shell.get('key_name')))}</p>")
    out.append("<h2>信用记录 Credit records</h2>")
    out.append(_table(p.timeline, ["date", "event_type", "status", "catalog", "authority", "case_no", "amount",
                                   "grade", "reason", "end_date"]))
    out.append("<h2>关联方 Related parties</h2>")
    out.append(_table(p.related, ["relation", "name", "label", "ratio", "risk", "grade", "node_id"]))
    out.append("<h2>共用地址/电话 Sharing an address or phone</h2>")
    out.append(_table(p.sharing, ["name", "via_kind", "via_name", "node_id"]))
    if p.kind == "LegalPerson":
        out.append("<h2>实际控制人 Ultimate controller</h2>")
        c = p.controller
        if c and c.get("controller_id"):
            out.append(f"<p>{_e(c['controller_name'])} ({_e(c['controller_id'])}), votes {_e(c['control_votes'])}, "
                       f"integrated ownership {_e(c['integrated_ratio'])}<br>chain: "
                       f"{_e(' → '.join(c.get('chain_names') or []))}</p>")
        else:
            out.append(f'<p class="muted">{_e((c or {}).get("status", "no controller"))}</p>')
        out.append("<h2>受益所有人 Beneficial owners</h2>")
        out.append(_table(p.owners, ["owner_name", "integrated_ratio", "chain_ratio", "owner_id"]))
    else:
        out.append("<h2>控制的企业 Companies controlled</h2>")
        out.append(_table(p.controls, ["company_name", "control_votes", "integrated_ratio", "company_id"]))
        out.append("<h2>受益所有权 Beneficial ownership</h2>")
        out.append(_table(p.owners, ["company_name", "integrated_ratio", "company_id"]))
    out.append("</body></html>")
    return "\n".join(out)
