"""Inspection lists (双随机、一公开): risk-graded random draw, reproducible from its seed,
previewed with the reason each target was drawn, and downloadable as CSV and XLSX."""

import polars as pl
import streamlit as st

from credgraph.analytics import GRADES
from credgraph.dashboard import ui

PREVIEW_ROWS = 100

st.title("Inspection lists 双随机抽查名单")
with ui.guard("inspection"):
    w = ui.wb()
    acfg = w.cfg.analytics
    with st.form("inspect_form"):
        c1, c2, c3 = st.columns(3)
        seed = c1.number_input("random seed 随机种子", min_value=0, value=int(acfg.inspection_seed), step=1)
        budget = c2.number_input("budget (share of enterprises; 0 = exactly the ratios) 抽查比例", 0.0, 1.0,
                                 float(acfg.inspection_budget), step=0.01, format="%.3f")
        live = c3.checkbox("operating enterprises only 仅存续企业", value=bool(acfg.inspect_live_only))
        st.write("sampling ratio per grade 各等级抽查比例")
        rc = st.columns(6)
        ratios = [rc[i].number_input(g, 0.0, 1.0, float(acfg.sample_ratios[i]), step=0.005, format="%.3f",
                                     key=f"ratio_{g}") for i, g in enumerate(GRADES)]
        go = st.form_submit_button("Draw 生成名单", type="primary")
    if go:
        st.session_state.inspection = w.lists.inspection(int(seed), float(budget), tuple(ratios), live)
    listing = st.session_state.get("inspection")
    if listing is None:
        st.info("set the parameters and draw a list")
        st.stop()
    t = listing.targets
    st.success(f"{t.height:,} enterprises drawn (seed {listing.seed}; {listing.excluded} excluded as recently inspected)")
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
        alloc = listing.allocation.select("grade", "pool", "drawn", "ratio")
        ui.table(alloc.with_columns(pl.col("ratio").map_elements(ui.pct, return_dtype=pl.Utf8)))
        st.subheader("Targets by grade 按等级")
        # six bars, drawn at once (a Vega-Lite chart first loads and compiles its library)
        st.html(ui.bar_html(alloc["grade"].to_list(), alloc["drawn"].to_list(), height=220,
                            title="targets drawn per grade"))
    with right:
        st.subheader("Preview 预览")
        cols = [c for c in ("name", "uscc", "grade", "score", "selection", "reason", "indicators", "node_id")
                if c in t.columns]
        # the first rows only, as a plain table (a grid of thousands of rows is slow to send
        # and draw); the downloads hold the whole list
        ui.table(t.select(cols).head(PREVIEW_ROWS), height=560, static_rows=PREVIEW_ROWS)
        if t.height > PREVIEW_ROWS:
            st.caption(f"the first {PREVIEW_ROWS:,} of {t.height:,} targets; the CSV and XLSX hold them all")
    if go:  # the files (the XLSX takes a while) are made now, in the background, ready when asked for
        w.lists.inspection_files(listing, wait=False)
