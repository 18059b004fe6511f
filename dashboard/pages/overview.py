"""Overview: the graph's size and the four pictures (grades, risk, records over time, clusters)."""

import streamlit as st

from credgraph.dashboard import ui

st.title("credgraph · 城市公共信用关系网络")
with ui.guard("overview"):
    w = ui.wb()
    c = w.counts()
    cols = st.columns(6)
    for col, (label, key) in zip(cols, (("企业 companies", "LegalPerson"), ("自然人 persons", "NaturalPerson"),
                                        ("地址 addresses", "Address"), ("电话 phones", "Phone"),
                                        ("信用记录 records", "CreditRecord"), ("持股 holdings", "SHAREHOLDER_OF"))):
        col.metric(label, f"{c.get(key, 0):,}")
    a = w.analysis()
    ready = "all analytics ready" if w.warm_done.is_set() else "still preparing ownership and look-up indexes…"
    st.caption(f"backend: {w.backend} · workspace: {w.cfg.workspace_path} · analytics as of {a.as_of} · {ready}")
    charts = w.lists.overview()
    left, right = st.columns(2)
    with left:
        st.subheader("Grade distribution 信用等级分布")
        st.bar_chart(charts["grades"].to_pandas(), x="grade", y="enterprises", sort=False, height=260)
        st.subheader("Credit records per year 信用记录")
        rec = charts["records"]
        if rec.height:
            st.bar_chart(rec.with_columns(rec["year"].cast(str)).to_pandas(), x="year", height=260)
        else:
            st.caption("no dated records")
    with right:
        st.subheader("Propagated risk 关联风险分布")
        st.bar_chart(charts["risk"].to_pandas(), x="risk from", y="entities", sort=False, height=260)
        st.caption("entities with risk > 0, logarithmic bins")
        st.subheader("Candidate shell clusters by size 疑似空壳簇规模")
        if charts["clusters"].height:
            cl = charts["clusters"]
            st.bar_chart(cl.with_columns(cl["size"].cast(str)).to_pandas(), x="size", y="clusters", sort=False,
                         height=260)
        else:
            st.caption("no candidate clusters")
