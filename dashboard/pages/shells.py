"""Shell clusters (虚假登记): firms sharing an address, phone, agent or legal representative,
ranked by how shell-like they look. Each flagged group shows its firms in a table — the
evidence as columns (burst, no staff, tiny capital, legal rep of many firms, abnormal list),
names linked to their profiles — downloadable as CSV (Excel-ready) and XLSX, and openable in
the explorer."""

import polars as pl
import streamlit as st

from credgraph.dashboard import ui
from credgraph.dashboard.data import frame_bytes_csv, frame_bytes_xlsx
from credgraph.dashboard.labels import fmt_capital

#: The shell model's firm features (analytics.shells.FIRM_FEATURES) with their Chinese headers. Each
#: is the firm's distance from the city's average firm in standard deviations (0 = average, up to 5):
#: the higher, the more unusual in the shell-like direction.
EVIDENCE = {"no_staff": "无参保", "low_capital": "资本偏低", "young": "成立偏新", "abnormal": "经营异常",
            "bad_status": "吊销注销", "person_load": "人员兼多家", "multiplex": "多重关联"}


def firm_table(firms: pl.DataFrame) -> pl.DataFrame:
    """The per-firm table as shown and exported: Chinese headers; each piece of evidence as the
    firm's distance from the city's average firm (standard deviations, one decimal)."""
    out = firms.with_columns([pl.col(c).cast(pl.Float64).round(1).alias(v)
                              for c, v in EVIDENCE.items() if c in firms.columns])
    out = out.with_columns(pl.col("shell_score").round(2),
                           pl.col("registered_capital").map_elements(fmt_capital, return_dtype=pl.Utf8))
    cols = {"group_id": "组", "name": "名称", "uscc": "统一社会信用代码", "shell_score": "空壳评分",
            **{v: v for c, v in EVIDENCE.items() if c in firms.columns}, "legal_rep": "法定代表人", "address": "注册地址", "district": "区",
            "est_date": "成立日期", "registered_capital": "注册资本", "node_id": "node_id"}
    return out.select([pl.col(c).alias(v) for c, v in cols.items() if c in out.columns])


def downloads(table: pl.DataFrame, stem: str, key: str, cols=None) -> None:
    """CSV (UTF-8 with BOM) and XLSX download buttons, in ``cols`` (two columns) or a new row."""
    d1, d2 = cols if cols is not None else st.columns([1, 1, 4])[:2]
    d1.download_button("CSV", lambda: frame_bytes_csv(table), file_name=f"{stem}.csv", mime="text/csv",
                       key=f"{key}_csv", icon=":material/download:", on_click="ignore")
    d2.download_button("XLSX", lambda: frame_bytes_xlsx(table, stem), file_name=f"{stem}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"{key}_xlsx", icon=":material/download:", on_click="ignore")


st.title("Shell clusters 疑似空壳企业")
with ui.guard("shells"):
    w = ui.wb()
    groups = w.lists.shell_groups()
    cands = w.lists.shell_candidates()
    st.caption(f"{groups.height} flagged group(s) from {cands.height} candidate cluster(s) "
               f"(a firm in {w.cfg.analytics.shell_min_unusual}+ groups {w.cfg.analytics.shell_flag_z} MAD above the median group is flagged)")
    if groups.height == 0:
        st.info("no flagged shell groups in this graph")
    all_firms = firm_table(w.lists.shell_firms()) if groups.height else None
    if all_firms is not None:
        st.write(f"all flagged firms 全部疑似空壳企业: {all_firms.height}")
        downloads(all_firms, "shell-groups", "all")
    shown = 10
    if groups.height > shown:
        st.caption(f"the {shown} strongest of {groups.height} groups below; the downloads above hold every group")
    for k, row in enumerate(groups.head(shown).iter_rows(named=True)):
        with st.expander(f"{row['group_id']} · {row['size']} firms · score {row['score']:.2f} · "
                         f"{', '.join(row['kinds'] or [])}", expanded=k == 0):
            st.caption("evidence 依据: " + (row["evidence"] or "").replace("; ", " · ")
                       + " — firm columns: distance from the city's average firm, in standard deviations")
            table = all_firms.filter(pl.col("组") == row["group_id"])
            ui.table(table.drop("组"), links={"名称": "node_id"})
            c1, c2, c3 = st.columns([1, 1, 3])
            downloads(table, f"shell-group-{row['group_id']}", f"g{k}", (c1, c2))
            if c3.button("open in the explorer 在关系网络中打开", key=f"open_{row['group_id']}"):
                loaded = w.network.cluster_elements(row["members"])
                loaded["message"] = f"shell group {row['group_id']}: {row['size']} firms and the hubs they share"
                st.session_state.explorer_load = loaded
                ui.goto("explorer")
    st.subheader("All candidate clusters 全部候选簇")
    if cands.height:
        show = cands.select("cluster_id", "kind", "key_name", "size", "score", "evidence")
        ui.table(show.head(200), height=400, static_rows=200)
        pick = st.selectbox("open a cluster", cands["cluster_id"].head(500).to_list(), index=None,
                            placeholder="cluster id")
        if pick and st.button("open cluster in the explorer", key="open_cluster"):
            members = cands.filter(pl.col("cluster_id") == pick)["members"][0].to_list()
            loaded = w.network.cluster_elements(members)
            loaded["message"] = f"cluster {pick}: {len(members)} firms"
            st.session_state.explorer_load = loaded
            ui.goto("explorer")
