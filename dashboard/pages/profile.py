"""Entity profile, read like a credit report: identity header (legal representative, address,
masked phone, status, capital, industry, established), 风险扫描 (own / related / historical risk
counts by category), the grade with its reasons in Chinese naming the records behind them,
propagated risk and its sources, records (Chinese labels, formatted amounts), related parties,
controller and beneficial owners — every name a link to its profile; an HTML report to download.
"""

import re

import polars as pl
import streamlit as st

from credgraph.dashboard import ui
from credgraph.dashboard.labels import REL_LABELS, event_label, fmt_amount, fmt_num, status_label
from credgraph.dashboard.report import credit_report_html

HEADER_ORDER = ("统一社会信用代码", "身份证号", "法定代表人", "角色", "登记状态", "注册资本", "成立日期", "行业", "企业类型",
                "注册地址", "所在区", "联系电话")


def header_block(p) -> None:
    """The identity header: two columns of fields; the legal representative links to their profile."""
    h = p.header
    fields = [(k, h[k]) for k in HEADER_ORDER if h.get(k)]
    half = (len(fields) + 1) // 2
    for col, part in zip(st.columns(2), (fields[:half], fields[half:])):
        with col:
            frame = pl.DataFrame({"field": [k for k, _ in part], "value": [str(v) for _, v in part]},
                                 schema={"field": pl.Utf8, "value": pl.Utf8})
            ui.table(frame, css_class="cg-table cg-fields")
    if h.get("_rep_id"):  # in the page, not a reload: the representative's profile opens at once
        ui.open_here(f"法定代表人 {h['法定代表人']} →", h["_rep_id"], "open_rep", icon=":material/person:")


def risk_scan_block(p) -> None:
    """风险扫描: three counts, then the counts by category and kind of record."""
    scan = p.risk_scan
    cols = st.columns(3)
    for col, cat, helptext in zip(cols, ("自身风险", "关联风险", "历史风险"),
                                  ("its own current records", "current records of related parties",
                                   "its expired, repaired or removed records")):
        n = int(scan.filter(pl.col("category") == cat)["count"].sum()) if scan.height else 0
        col.metric(cat, n, help=helptext)
    if scan.height:
        ui.table(scan.rename({"category": "类别", "event": "风险类型", "count": "条数", "subjects": "涉及主体"}))
    else:
        st.caption("no risk records 无风险记录")


def grade_block(p) -> None:
    g = p.grade
    c1, c2 = st.columns([1, 3])
    c1.metric("信用等级 grade", g["grade"], help="A+ (lowest risk) … E (highest)")
    c2.metric("得分 score", f"{g['score']:.1f} / 100")


def reasons_block(p) -> None:
    """评级依据: each indicator that moved the score, with the records behind it."""
    if p.reasons:
        st.write("评级依据 why this grade")
        ui.table(pl.DataFrame(p.reasons).rename({"indicator": "指标", "dimension": "维度", "points": "分值",
                                                  "detail": "依据"}))


def timeline_table(tl: pl.DataFrame) -> pl.DataFrame:
    """The records with Chinese event and status names and formatted amounts."""
    if tl.height == 0:
        return tl
    out = tl.with_columns(
        pl.col("event_type").map_elements(event_label, return_dtype=pl.Utf8).alias("类型"),
        pl.col("status").map_elements(status_label, return_dtype=pl.Utf8, skip_nulls=False).alias("状态"),
        (pl.col("amount").map_elements(fmt_amount, return_dtype=pl.Utf8) if "amount" in tl.columns
         else pl.lit(None, pl.Utf8)).alias("金额"),
    )
    cols = {"date": "日期", "类型": "类型", "状态": "状态", "authority": "机关", "case_no": "文号", "金额": "金额",
            "grade": "等级", "reason": "事由", "source_unit": "来源单位", "catalog": "目录", "end_date": "公示截止"}
    return out.select([pl.col(c).alias(v) for c, v in cols.items() if c in out.columns])


def chinese_path(text: str) -> str:
    """A risk path's text with the relationship types in Chinese (``-[LEGAL_REP_OF]->`` → ``-[法定代表人]->``)."""
    return re.sub(r"\[([A-Z_]+)\]", lambda m: "[" + REL_LABELS.get(m.group(1), (m.group(1), m.group(1)))[1] + "]", text or "")


def table_or_caption(title: str, frame, empty: str) -> None:
    """A section: its title, then the table, or a line saying why there is none."""
    st.subheader(title)
    if frame.height:
        ui.table(frame)
    else:
        st.caption(empty)


def extension_hooks(p) -> None:
    """What other stages add to a profile: the joint reward and punishment measures that apply
    now (analytics.measures) and the grade over analytics runs (analytics.history)."""
    w = ui.wb()
    table_or_caption("Joint reward and punishment 联合奖惩措施", w.profiles.measures(p.node_id),
                     "no measure of the catalogue applies now 当前无适用措施")
    table_or_caption("Grade history 等级变化", w.profiles.grade_history(p.node_id),
                     "no recorded analytics run grades this entity yet (`credgraph grade` records one)")


st.title("Entity profile 主体画像")
node_id = ui.entity_box("profile")

with ui.guard("profile"):
    if not node_id:
        st.info("type a name, a USCC, an ID number or an entity id above — or search first")
        ui.page_link("search", "→ Search 搜索")
        st.stop()
    w = ui.wb()
    # risk sources included: explained from the finished propagation (tens of milliseconds)
    p = w.profiles.profile(node_id)
    ident = p.identity
    st.header(ident.get("name") or node_id)
    st.caption(" · ".join(x for x in (p.header.get("类型"), p.header.get("统一社会信用代码") or p.header.get("身份证号"),
                                      f"实体编号 {node_id}") if x))
    links = st.columns(4)
    with links[0]:
        ui.page_link("explorer", "network 关系网络", node_id, icon=":material/hub:")
    if p.kind == "LegalPerson":
        with links[1]:
            ui.page_link("ownership", "ownership 股权穿透", node_id, icon=":material/account_tree:")
    title = "enterprise credit report" if p.kind == "LegalPerson" else "credit report"

    def report() -> bytes:  # made when clicked
        return credit_report_html(p).encode("utf-8")

    links[2].download_button(f"{title} (HTML)", report, file_name=f"credit-report-{node_id}.html",
                             mime="text/html", key="report_dl", icon=":material/download:", on_click="ignore")
    links[3].download_button("PDF", lambda: w.profiles.report_pdf(node_id), file_name=f"credit-report-{node_id}.pdf",
                             mime="application/pdf", key="report_pdf", on_click="ignore")

    st.subheader("Identity 基本信息")
    header_block(p)

    left, right = st.columns([1, 1])
    with left:
        st.subheader("Risk scan 风险扫描")
        risk_scan_block(p)
        if p.shell:
            s = p.shell
            st.warning(f"疑似空壳 shell-company score {s['shell_score']:.2f}" + (" — flagged" if s["flagged"] else "")
                       + f"; cluster {s['cluster_id']} ({s['kind']})")
    with right:
        if p.grade:
            st.subheader("Grade 信用等级")
            grade_block(p)
    reasons_block(p)
    extension_hooks(p)

    st.subheader("Propagated risk 关联风险传导")
    r = p.risk
    if r:
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("risk 风险值", fmt_num(r.get("risk")))
        c2.metric("own records 自身", fmt_num(r.get("seed")))
        c3.metric("from related 关联传入", fmt_num(r.get("received")))
        c4.metric("rank 排名", f"{r.get('rank')} / {r.get('entities'):,}", help=f"as of {p.as_of}")
    if p.sources.height:
        src = p.sources.with_columns(pl.col("share").map_elements(ui.pct, return_dtype=pl.Utf8),
                                     pl.col("path_text").map_elements(chinese_path, return_dtype=pl.Utf8))
        cols = {"source_name": "来源", "share": "占传入风险", "hops": "层数", "path_text": "路径"}
        ui.table(src.select([pl.col(c).alias(v) for c, v in cols.items()] + [pl.col("source_id")]),
                 links={"来源": "source_id"})
    else:
        st.caption("no risk received from related parties")

    st.subheader("Records 信用记录")
    tl = timeline_table(p.timeline)
    if tl.height > 30:
        if st.toggle(f"all {tl.height} records 全部记录", key="timeline_all"):
            ui.table(tl, height=400)
        else:
            ui.table(tl.head(30))
            st.caption(f"the 30 newest of {tl.height} records")
    elif tl.height:
        ui.table(tl)
    else:
        st.caption("no credit records")

    c1, c2 = st.columns(2)
    with c1:
        st.subheader("Related parties 关联方")
        if p.related.height:
            rel = p.related.with_columns(pl.col("ratio").map_elements(ui.pct, return_dtype=pl.Utf8),
                                         pl.col("risk").map_elements(fmt_num, return_dtype=pl.Utf8),
                                         pl.col("label").map_elements(ui.entity_label, return_dtype=pl.Utf8))
            ui.table(rel.select(pl.col("relation").alias("关系"), pl.col("name").alias("名称"),
                                pl.col("ratio").alias("持股比例"), pl.col("grade").alias("等级"),
                                pl.col("risk").alias("风险"), pl.col("label").alias("类型"), "node_id"),
                     links={"名称": "node_id"})
        else:
            st.caption("no shareholders, representatives, officers, branches or agents on record")
        if p.sharing.height:
            st.write(f"sharing an address or phone 共用地址/电话: {p.sharing.height}")
            ui.table(p.sharing.head(30).select(pl.col("name").alias("名称"), pl.col("via_kind").alias("共用"),
                                               pl.col("via_name").alias("内容"), "node_id"), links={"名称": "node_id"})
            if p.sharing.height > 30:
                st.caption(f"the first 30 of {p.sharing.height}: the network explorer pages through them all")
    with c2:
        if p.kind == "LegalPerson":
            st.subheader("Ultimate controller 实际控制人")
            c = p.controller
            if c and c.get("controller_id"):
                ui.open_here(c["controller_name"], c["controller_id"], "open_controller")
                st.caption(f"votes {ui.pct(c['control_votes'])}, integrated ownership {ui.pct(c['integrated_ratio'])}; "
                           "chain: " + " → ".join(c.get("chain_names") or []))
            else:
                st.caption((c or {}).get("status", "no controller") + ": nobody holds more than half of the votes")
            st.subheader("Beneficial owners 受益所有人")
            if p.owners.height:
                o = p.owners.with_columns(pl.col("integrated_ratio").map_elements(ui.pct, return_dtype=pl.Utf8),
                                          pl.col("chain_ratio").map_elements(ui.pct, return_dtype=pl.Utf8))
                ui.table(o.select(pl.col("owner_name").alias("名称"), pl.col("integrated_ratio").alias("综合持股"),
                                  pl.col("chain_ratio").alias("最大链路"), "owner_id"), links={"名称": "owner_id"})
            else:
                st.caption(f"no natural person holds more than {ui.pct(w.cfg.dashboard.beneficial_owner_threshold)}")
        else:
            st.subheader("Companies controlled 控制的企业")
            if p.controls.height:
                ct = p.controls.with_columns(pl.col("control_votes").map_elements(ui.pct, return_dtype=pl.Utf8),
                                             pl.col("integrated_ratio").map_elements(ui.pct, return_dtype=pl.Utf8))
                ui.table(ct.select(pl.col("company_name").alias("名称"), pl.col("control_votes").alias("表决权"),
                                   pl.col("integrated_ratio").alias("综合持股"), "company_id"), links={"名称": "company_id"})
            else:
                st.caption("controls no company")
            st.subheader("Beneficial ownership 受益所有权")
            if p.owners.height:
                o = p.owners.with_columns(pl.col("integrated_ratio").map_elements(ui.pct, return_dtype=pl.Utf8))
                ui.table(o.select(pl.col("company_name").alias("名称"), pl.col("integrated_ratio").alias("综合持股"),
                                  "company_id"), links={"名称": "company_id"})
            else:
                st.caption("beneficial owner of no company")
