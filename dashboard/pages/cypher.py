"""Cypher console: read-only, row- and time-limited; a table, and a graph when the result
holds nodes or relationships."""

import streamlit as st
from st_link_analysis import st_link_analysis

from credgraph.dashboard import ui
from credgraph.dashboard.data import graph_from_result
from credgraph.dashboard.graphview import Canvas, edge_styles, node_styles

EXAMPLE = ("MATCH (p:NaturalPerson)-[r:LEGAL_REP_OF]->(c:LegalPerson)\n"
           "RETURN p, r, c LIMIT 25")

st.title("Cypher console 图查询")
with ui.guard("cypher"):
    w = ui.wb()
    d = w.cfg.dashboard
    st.caption(f"read-only · at most {d.cypher_row_limit:,} rows · stopped after {d.cypher_timeout_s:g} s · "
               f"backend: {w.backend}")
    st.session_state.setdefault("cypher_text", EXAMPLE)
    with st.form("cypher_form"):
        text = st.text_area("query", key="cypher_text", height=140, label_visibility="collapsed")
        go = st.form_submit_button("Run 运行", type="primary")
    if go:
        st.session_state.cypher_result = None
        st.session_state.cypher_result = w.network.cypher(text)
    res = st.session_state.get("cypher_result")
    if res is not None:
        f = res.frame
        st.write(f"{f.height:,} row(s) in {res.seconds:.2f} s"
                 + (f" — cut at the row limit of {res.row_limit:,}" if res.truncated else ""))
        g = graph_from_result(f)
        if g["nodes"]:  # nodes or relationships in the result: draw them first
            c = Canvas()
            c.add_nodes(g["nodes"])
            c.add_edges(g["edges"])
            a = w.analysis()
            st.caption(f"{len(c.nodes)} nodes, {len(c.edges)} relationships in the result")
            st_link_analysis(c.elements("risk", a.risk_of, a.grade_of, w.cfg.analytics.check_risky_related),
                             layout={"name": "fcose", "animate": False, "fit": True, "padding": 20,
                                     "_n": hash(text)},
                             node_styles=node_styles("risk"), edge_styles=edge_styles(), height=480,
                             key="cypher_graph")
        ui.table(f, height=min(38 + 35 * max(f.height, 1), 420), static_rows=0)
