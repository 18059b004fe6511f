"""Shell clusters (虚假登记): firms sharing an address, phone, agent or legal representative,
ranked by how shell-like they look, with the evidence; each openable in the explorer."""

import polars as pl
import streamlit as st

from credgraph.dashboard import ui

st.title("Shell clusters 疑似空壳企业")
with ui.guard("shells"):
    w = ui.wb()
    groups = w.lists.shell_groups()
    cands = w.lists.shell_candidates()
    st.caption(f"{groups.height} flagged group(s) from {cands.height} candidate cluster(s) "
               f"(a firm in {w.cfg.analytics.shell_min_unusual}+ groups {w.cfg.analytics.shell_flag_z} MAD above the median group is flagged)")
    if groups.height == 0:
        st.info("no flagged shell groups in this graph")
    for k, row in enumerate(groups.head(50).iter_rows(named=True)):
        names = w.names(row["members"])
        with st.expander(f"{row['group_id']} · {row['size']} firms · score {row['score']:.2f} · "
                         f"{', '.join(row['kinds'] or [])}", expanded=k == 0):
            st.write(row["evidence"])
            st.write("、".join(names.get(m, ("", m))[1] for m in row["members"]))
            if st.button("open in the explorer 在关系网络中打开", key=f"open_{row['group_id']}"):
                loaded = w.network.cluster_elements(row["members"])
                loaded["message"] = f"shell group {row['group_id']}: {row['size']} firms and the hubs they share"
                st.session_state.explorer_load = loaded
                ui.goto("explorer")
    st.subheader("All candidate clusters 全部候选簇")
    if cands.height:
        show = cands.select("cluster_id", "kind", "key_name", "size", "score", "evidence")
        ui.table(show.head(500), height=400)
        pick = st.selectbox("open a cluster", cands["cluster_id"].head(500).to_list(), index=None,
                            placeholder="cluster id")
        if pick and st.button("open cluster in the explorer", key="open_cluster"):
            members = cands.filter(pl.col("cluster_id") == pick)["members"][0].to_list()
            loaded = w.network.cluster_elements(members)
            loaded["message"] = f"cluster {pick}: {len(members)} firms"
            st.session_state.explorer_load = loaded
            ui.goto("explorer")
