"""The credit report (信用报告): content as JSON-ready data, a verification hash, and a PDF.

:func:`build_report` gathers what a report holds — basic and registration information,
shareholders and key personnel, the grade and its reasons, records by category (penalties,
dishonest debtor, abnormal operations, serious illegal, tax, licences, commendations, other),
repair status — under a report number and the time it was made. :func:`report_hash` is the
SHA-256 of the content's canonical JSON (sorted keys, no spaces): anyone holding the report
can recompute it, and the issuer's register (``GET /v1/reports/{number}/verify``) says
whether that number was issued with that hash. :func:`render_pdf` draws the content with
reportlab and a CJK TrueType font embedded (subset), so nothing is fetched to read it.

A personal report (a natural person) shows the ID number masked only.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from credgraph.identifiers import mask_id

from .network import CreditNetwork

__all__ = ["CATEGORIES", "build_report", "report_hash", "render_pdf", "render_report_pdf", "find_cjk_font",
           "ReportError", "warm_font"]

#: Record categories of the report, in order: (key, title, event types).
CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("serious_illegal", "严重违法失信 Serious illegal and dishonest", ("serious_illegal",)),
    ("dishonest_debtor", "失信被执行人 Dishonest judgment debtor", ("dishonest_debtor",)),
    ("abnormal_operations", "经营异常 Abnormal operations", ("abnormal_operations",)),
    ("penalties", "行政处罚 Administrative penalties", ("penalty",)),
    ("tax", "税务 Tax credit and violations", ("tax_rating", "tax_violation")),
    ("licences", "行政许可 Administrative licences", ("licence",)),
    ("commendations", "表彰与红名单 Commendations", ("red_list",)),
    ("other", "其他 Other records", ("social_insurance_arrears",)),
)
_CAT_OF = {e: k for k, _, es in CATEGORIES for e in es}
#: Font files tried, in order, when ``api.report_font`` is empty (Debian fonts-wqy-microhei,
#: fonts-wqy-zenhei, fonts-arphic; Noto CJK is OpenType/CFF, which reportlab cannot embed).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


class ReportError(RuntimeError):
    """A report that cannot be made (no CJK font, unknown entity); the message says what to do."""


def _iso(v) -> str | None:
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    return None if v is None else str(v)


def _clean(v):
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    return v


def build_report(net: CreditNetwork, i: int, *, grade: dict | None, records: pl.DataFrame, repairs: list[dict],
                 number: str, generated: str, parties: dict[str, list[dict]]) -> dict[str, Any]:
    """The report of node ``i``.

    ``grade``: the entity's grade row (grade, score, reasons) or None; ``records``: its rows of
    :func:`~credgraph.analytics.propagation.active_records` (with ``active``); ``repairs``: its
    repair applications; ``parties``: ``shareholders`` and ``officers`` (and ``legal_rep``)
    lists of {id, name, ...}. ID numbers appear masked only.
    """
    row = net.nodes.row(i, named=True)
    person = net.labels[i] == "NaturalPerson"
    if person:
        basic = {"name": row.get("name"), "id_number": mask_id(row.get("id_masked") or row.get("id_number") or "") or None}
    else:
        basic = {k: _clean(row.get(k)) for k in ("name", "uscc", "org_code", "reg_no", "legal_form", "industry",
                                                  "registered_capital", "est_date", "status", "district")}
        basic["legal_representative"] = ", ".join(p["name"] for p in parties.get("legal_rep", [])) or None
    cats: dict[str, list[dict]] = {k: [] for k, _, _ in CATEGORIES}
    recs = records.sort("date", descending=True, nulls_last=True)
    for r in recs.iter_rows(named=True):
        k = _CAT_OF.get(r["event_type"] or "")
        if k is None:
            continue
        cats[k].append({"record_id": r["record_node"], "event_type": r["event_type"], "date": _iso(r["date"]),
                        "end_date": _iso(r["end_date"]), "status": r["status"] or "active", "active": bool(r["active"]),
                        "authority": r["authority"], "case_no": r["case_no"], "reason": r["reason"],
                        "amount": _clean(r["amount"]), "grade": r["grade"]})
    return {
        "report_number": number,
        "generated": generated,
        "kind": "personal" if person else "enterprise",
        "entity_id": str(net.ids[i]),
        "basic": basic,
        "shareholders": parties.get("shareholders", []),
        "officers": parties.get("officers", []),
        "grade": grade,
        "records": cats,
        "repairs": repairs,
    }


def report_hash(content: dict) -> str:
    """SHA-256 (hex) of the report content's canonical JSON, without any ``verification_hash``."""
    body = {k: v for k, v in content.items() if k != "verification_hash"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find_cjk_font(configured: str = "") -> Path:
    """The TrueType font the PDF embeds: ``configured`` when given, else the first installed candidate."""
    for c in ([configured] if configured else list(FONT_CANDIDATES)):
        if c and Path(c).is_file():
            return Path(c)
    raise ReportError("no CJK TrueType font found for the PDF report: install Debian's fonts-wqy-microhei "
                      "(scripts/system-deps.sh) or set api.report_font to a .ttf/.ttc file")


@functools.lru_cache(maxsize=4)
def _register_font(path: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = "CJK-" + hashlib.sha1(path.encode()).hexdigest()[:8]
    kw = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
    pdfmetrics.registerFont(TTFont(name, path, **kw))
    return name


def warm_font(font_path: str = "") -> bool:
    """Load the report font and draw a tiny report now (about a second), so the first report
    does not wait for either."""
    _register_font(str(find_cjk_font(font_path)))
    render_pdf({"report_number": "warm-up", "generated": "", "kind": "enterprise", "entity_id": "",
                "basic": {"name": "深圳市"}, "shareholders": [], "officers": [], "grade": None,
                "records": {k: [] for k, _, _ in CATEGORIES}, "repairs": []}, font_path)
    return True


def render_pdf(content: dict, font_path: str = "") -> bytes:
    """The report as a PDF (A4, CJK font embedded as a subset)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _register_font(str(find_cjk_font(font_path)))
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=3,
                        textColor=colors.HexColor("#1f3a5f"))
    body = ParagraphStyle("b", fontName=font, fontSize=8.5, leading=11.5, wordWrap="CJK")
    small = ParagraphStyle("s", parent=body, fontSize=7.5, leading=10, textColor=colors.HexColor("#444444"))

    def P(text, style=body):
        s = "" if text is None else str(text)
        return Paragraph(s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), style)

    def table(rows, widths, header=True):
        t = Table([[P(c) for c in r] for r in rows], colWidths=[w * mm for w in widths], repeatRows=1 if header else 0)
        st = [("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if header:
            st.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")))
        t.setStyle(TableStyle(st))
        return t

    c = content
    personal = c["kind"] == "personal"
    story = [P("个人信用报告 Personal credit report" if personal else "企业信用报告 Enterprise credit report", h1),
             P(f"报告编号 Report number: {c['report_number']}    生成时间 Generated: {c['generated']}", small),
             P(f"校验码 Verification hash (SHA-256): {c.get('verification_hash', '')}", small),
             P("核验 Verify: GET /v1/reports/{number}/verify?hash=… on the issuing platform", small),
             Spacer(1, 4)]
    story.append(P("基本信息 Basic and registration information", h2))
    labels = {"name": "名称 Name", "uscc": "统一社会信用代码 USCC", "org_code": "组织机构代码 Org. code",
              "reg_no": "注册号 Reg. no.", "legal_form": "类型 Legal form", "industry": "行业 Industry",
              "registered_capital": "注册资本(万元) Capital", "est_date": "成立日期 Established",
              "status": "登记状态 Status", "district": "区 District", "legal_representative": "法定代表人 Legal rep.",
              "id_number": "身份证号(脱敏) ID number (masked)"}
    story.append(table([[labels.get(k, k), v if v is not None else "—"] for k, v in c["basic"].items()], [55, 115],
                       header=False))
    if not personal:
        story.append(P("股东 Shareholders", h2))
        sh = c["shareholders"]
        story.append(table([["股东 Shareholder", "类型 Type", "持股比例 Ratio", "认缴出资 Capital"]]
                           + [[s["name"], s.get("label", ""), _pct(s.get("ratio")), _num(s.get("capital"))] for s in sh],
                           [80, 30, 30, 30]) if sh else P("无 None recorded"))
        story.append(P("主要人员 Key personnel", h2))
        of = c["officers"]
        story.append(table([["姓名 Name", "职务 Role"]] + [[o["name"], o.get("role") or ""] for o in of], [85, 85])
                     if of else P("无 None recorded"))
    g = c.get("grade")
    story.append(P("信用等级 Credit grade", h2))
    if g:
        story.append(P(f"等级 Grade: {g.get('grade')}    得分 Score: {g.get('score')}    (as of {g.get('as_of', '')})"))
        story.append(P(f"原因 Reasons: {g.get('reasons') or ''}", small))
    else:
        story.append(P("不适用 Not graded (only enterprises are graded)"))
    for key, title, _ in CATEGORIES:
        rows = c["records"].get(key, [])
        story.append(P(f"{title} ({len(rows)})", h2))
        if not rows:
            story.append(P("无 None"))
            continue
        story.append(table([["日期 Date", "状态 Status", "机关 Authority", "文号 Case no.", "事由 Reason / grade"]]
                           + [[r["date"] or "", r["status"] + ("" if r["active"] else " (inactive)"), r["authority"] or "",
                               r["case_no"] or "", r["reason"] or r["grade"] or _num(r["amount"])] for r in rows[:60]],
                           [22, 24, 40, 38, 46]))
        if len(rows) > 60:
            story.append(P(f"… {len(rows) - 60} more in the JSON report", small))
    story.append(P("信用修复 Credit repair", h2))
    rep = c.get("repairs") or []
    story.append(table([["申请 Application", "记录 Record", "状态 Status", "更新 Updated"]]
                       + [[r["id"], r["record_id"], r["status"], r.get("updated") or ""] for r in rep], [40, 55, 30, 45])
                 if rep else P("无修复申请 No repair applications"))
    story += [Spacer(1, 8), P("本报告由 credgraph 依据公共信用信息生成；个人信息已脱敏。 Generated by credgraph from public "
                              "credit information; personal data masked.", small)]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=f"Credit report {c['report_number']}", author="credgraph",
                            invariant=1)
    doc.build(story)
    return buf.getvalue()


def _pct(v) -> str:
    return "" if v is None else f"{float(v):.1%}"


def _num(v) -> str:
    return "" if v is None else f"{float(v):,.2f}"


def render_report_pdf(cfg, entity_id: str, personal: bool = False, actor: str = "dashboard") -> bytes:
    """The PDF credit report of ``entity_id`` for a workspace (the dashboard's download).

    Uses the API's shared in-process service (loaded once per workspace); the report is
    registered (number and hash) like one served by ``GET /v1/entities/{id}/report.pdf``.
    A natural person's report needs ``personal=True`` (the caller checks the user may see it).
    """
    from credgraph.api.service import shared_service

    scopes = ("public", "reports") + (("personal",) if personal else ())
    return shared_service(cfg).report_pdf(entity_id, scopes, actor=actor)[0]
