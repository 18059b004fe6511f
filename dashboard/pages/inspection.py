"""Inspection lists (双随机、一公开): random draw per risk class (企业信用风险分类, the configured
default ``analytics.inspection_strata``, as ``credgraph inspect``) or per grade, reproducible from its seed,
previewed with the reason each target was drawn and what an inspector needs in the field
(address, district, legal representative), downloadable as CSV (UTF-8 with BOM, for Excel)
and XLSX; past inspections and complaints are uploaded here. Assigned inspectors come from
the analytics stage when it assigns them (HOOK(h15): an ``inspector`` column is shown as is)."""

import polars as pl
import streamlit as st

from credgraph.analytics import GRADES
from credgraph.analytics.inspection import RISK_CLASSES
from credgraph.dashboard import ui

PREVIEW_ROWS = 100

st.title("Inspection lists 双随机抽查名单")
with ui.guard("inspection"):
    w = ui.wb()
    acfg = w.cfg.analytics
    with st.expander("past inspections and complaints 已检查企业 / 投诉举报 (CSV or XLSX)",
                     expanded=bool(st.session_state.get("insp_problems"))):
        st.caption("a row per firm: 统一社会信用代码 (uscc), 实体编号 (node_id) or 名称 (name); past inspections with "
                   "检查日期 (date) — firms inspected recently are left out; complaints with 原因 (reason) — "
                   "drawn whatever their grade")
        u1, u2 = st.columns(2)
        up_past = u1.file_uploader("past inspections 已检查", type=["csv", "xlsx"], key="up_past")
        up_comp = u2.file_uploader("complaints 投诉举报", type=["csv", "xlsx"], key="up_comp")
        problems = []
        past = complaints = None
        if up_past is not None:
            past, bad = w.lists.read_subjects(up_past.getvalue(), up_past.name, "past")
            problems += bad
            u1.caption(f"{past.height} firm(s) read")
        if up_comp is not None:
            complaints, bad = w.lists.read_subjects(up_comp.getvalue(), up_comp.name, "complaints")
            problems += bad
            u2.caption(f"{complaints.height} firm(s) read")
        st.session_state.insp_problems = problems
        for msg in problems[:20]:
            st.warning(msg)
        if len(problems) > 20:
            st.caption(f"… and {len(problems) - 20} more rows that could not be used")
    strata_names = {"risk": "risk classes 风险分类", "grade": "credit grades 信用等级"}
    strata = st.radio("strata 分层", list(strata_names), format_func=strata_names.get, horizontal=True,
                      index=list(strata_names).index(acfg.inspection_strata if acfg.inspection_strata in strata_names
                                                     else "risk"), key="insp_strata",
                      help="the configured default is analytics.inspection_strata, as `credgraph inspect` draws")
    with st.form("inspect_form"):
        c1, c2, c3 = st.columns(3)
        seed = c1.number_input("random seed 随机种子", min_value=0, value=int(acfg.inspection_seed), step=1)
        budget = c2.number_input("budget (share of enterprises; 0 = exactly the ratios) 抽查比例", 0.0, 1.0,
                                 float(acfg.inspection_budget), step=0.01, format="%.3f")
        live = c3.checkbox("operating enterprises only 仅存续企业", value=bool(acfg.inspect_live_only))
        if strata == "risk":
            st.write("sampling ratio per risk class 各风险类别抽查比例")
            names, defaults = RISK_CLASSES, acfg.risk_class_ratios
        else:
            st.write("sampling ratio per grade 各等级抽查比例")
            names, defaults = GRADES, acfg.sample_ratios
        rc = st.columns(len(names))
        ratios = [rc[i].number_input(g, 0.0, 1.0, float(defaults[i]), step=0.005, format="%.3f",
                                     key=f"ratio_{strata}_{g}") for i, g in enumerate(names)]
        go = st.form_submit_button("Draw 生成名单", type="primary")
    if go:
        st.session_state.inspection = w.lists.inspection(int(seed), float(budget), tuple(ratios), live,
                                                         past=past, complaints=complaints, strata=strata)
    listing = st.session_state.get("inspection")
    if listing is None:
        st.info("set the parameters and draw a list")
        st.stop()
    t = listing.targets
    st.success(f"{t.height:,} enterprises drawn (seed {listing.seed}; {listing.excluded} excluded: recently inspected or on the directed-check list)")
    for note in listing.notes:
        st.caption(note)

    # Files are made when a download is asked for, on Streamlit's download thread, and the
    # click does not rerun the page (on_click="ignore"): the list on screen stays as it is.
    d1, d2, _ = st.columns([1, 1, 3])
    d1.download_button("CSV", lambda: w.lists.inspection_csv(listing), file_name=f"inspection-seed{listing.seed}.csv",
                       mime="text/csv", key="dl_csv", icon=":material/download:", on_click="ignore")
    d2.download_button("XLSX", lambda: w.lists.inspection_files(listing)["xlsx"],
                       file_name=f"inspection-seed{listing.seed}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx",
                       icon=":material/download:", on_click="ignore")
    left, right = st.columns([1, 2])
    with left:
        st.subheader("Allocation 分配")
        by_class = listing.allocation["stratum"].to_list() == list(RISK_CLASSES)
        alloc = listing.allocation.select(pl.col("stratum").alias("risk class 风险类别" if by_class else "grade"),
                                          *(["grade"] if by_class else []), "pool", "drawn", "ratio")
        ui.table(alloc.with_columns(pl.col("ratio").map_elements(ui.pct, return_dtype=pl.Utf8)))
        st.subheader("Targets by risk class 按风险类别" if by_class else "Targets by grade 按等级")
        # a bar per stratum, drawn at once (a Vega-Lite chart first loads and compiles its library)
        st.html(ui.bar_html(listing.allocation["stratum"].to_list(), alloc["drawn"].to_list(), height=220,
                            title="targets drawn per " + ("risk class" if by_class else "grade")))
    with right:
        st.subheader("Preview 预览")
        cols = {"name": "名称", "uscc": "统一社会信用代码", "legal_rep": "法定代表人", "address": "注册地址",
                "district": "区", "inspector": "检查人员", "grade": "等级", "score": "得分", "selection": "抽取方式", "reason": "原因",
                "node_id": "node_id"}
        # the first rows only, as a plain table (a grid of thousands of rows is slow to send
        # and draw); the downloads hold the whole list
        ui.table(t.select([pl.col(c).alias(v) for c, v in cols.items() if c in t.columns]).head(PREVIEW_ROWS),
                 height=560, static_rows=PREVIEW_ROWS, links={"名称": "node_id"})
        if t.height > PREVIEW_ROWS:
            st.caption(f"the first {PREVIEW_ROWS:,} of {t.height:,} targets; the CSV and XLSX hold them all")
    if go:  # the files (the XLSX takes a while) are made now, in the background, ready when asked for
        w.lists.inspection_files(listing, wait=False)
