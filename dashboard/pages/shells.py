"""Shell clusters (虚假登记): firms sharing an address, phone, agent or legal representative,
ranked by how shell-like they look, a page of groups at a time. The chosen group shows its
firms in a table — the evidence as columns (burst, no staff, tiny capital, legal rep of many firms, abnormal list),
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


#: Groups and candidate clusters listed per page; one group's firms are shown at a time.
GROUPS_PAGE = 10
CANDIDATES_PAGE = 50


def pager(key: str, total: int, size: int, label: str) -> int:
    """‹ / › buttons over ``total`` rows, ``size`` a page; returns the page shown (0-based)."""
    pages = max(1, (total + size - 1) // size)
    page = min(st.session_state.get(key, 0), pages - 1)
    if pages > 1:
        c1, c2, c3 = st.columns([1, 1, 4])
        if c1.button("‹ previous 上一页", disabled=page == 0, key=f"{key}_prev"):
            page = st.session_state[key] = page - 1
        if c2.button("next 下一页 ›", disabled=page >= pages - 1, key=f"{key}_next"):
            page = st.session_state[key] = page + 1
        c3.caption(f"{label} {page * size + 1}–{min((page + 1) * size, total)} of {total:,} · page {page + 1} of {pages}")
    return page


st.title("Shell clusters 疑似空壳企业")
with ui.guard("shells"):
    w = ui.wb()
    groups = w.lists.shell_groups()
    cands = w.lists.shell_candidates()
    st.caption(f"{groups.height} flagged group(s) from {cands.height} candidate cluster(s) "
               f"(a firm in {w.cfg.analytics.shell_min_unusual}+ groups {w.cfg.analytics.shell_flag_z} MAD above the median group is flagged)")
    if groups.height == 0:
        st.info("no flagged shell groups in this graph")
    else:
        all_firms = firm_table(w.lists.shell_firms())
        c1, c2, c3 = st.columns([1, 1, 4])
        c3.write(f"all flagged firms 全部疑似空壳企业: {all_firms.height:,} in {groups.height:,} group(s)")
        downloads(all_firms, "shell-groups", "all", (c1, c2))
        st.subheader("Flagged groups 疑似空壳企业组")
        page = pager("shell_groups_page", groups.height, GROUPS_PAGE, "groups")
        shown = groups.slice(page * GROUPS_PAGE, GROUPS_PAGE)
        ui.table(shown.select("group_id", "size", pl.col("score").round(2), pl.col("kinds").list.join(", "),
                              pl.col("evidence").str.replace_all("; ", " · ")))
        ids = shown["group_id"].to_list()
        pick = st.radio("group 组", ids, horizontal=True, key=f"shell_group_{page}")
        row = shown.filter(pl.col("group_id") == pick).row(0, named=True)
        st.markdown(f"**{row['group_id']}** · {row['size']} firms · score {row['score']:.2f} · "
                    f"{', '.join(row['kinds'] or [])}")
        st.caption("evidence columns 依据: each firm's distance from the city's average firm, in standard deviations")
        table = all_firms.filter(pl.col("组") == row["group_id"])
        ui.table(table.drop("组"), links={"名称": "node_id"}, height=420)
        c1, c2, c3 = st.columns([1, 1, 3])
        downloads(table, f"shell-group-{row['group_id']}", "group", (c1, c2))
        if c3.button("open in the explorer 在关系网络中打开", key="open_group"):
            loaded = w.network.cluster_elements(row["members"])
            loaded["message"] = f"shell group {row['group_id']}: {row['size']} firms and the hubs they share"
            st.session_state.explorer_load = loaded
            ui.goto("explorer")
    st.subheader("All candidate clusters 全部候选簇")
    if cands.height:
        page = pager("shell_cands_page", cands.height, CANDIDATES_PAGE, "clusters")
        part = cands.slice(page * CANDIDATES_PAGE, CANDIDATES_PAGE)
        ui.table(part.select("cluster_id", "kind", "key_name", "size", "score", "evidence"), height=400,
                 static_rows=CANDIDATES_PAGE)
        pick = st.selectbox("open a cluster", part["cluster_id"].to_list(), index=None, placeholder="cluster id",
                            key=f"shell_cluster_{page}")
        if pick and st.button("open cluster in the explorer", key="open_cluster"):
            members = part.filter(pl.col("cluster_id") == pick)["members"][0].to_list()
            loaded = w.network.cluster_elements(members)
            loaded["message"] = f"cluster {pick}: {len(members)} firms"
            st.session_state.explorer_load = loaded
            ui.goto("explorer")
