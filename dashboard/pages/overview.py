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
    st.caption(f"backend: {w.backend} · workspace: {w.cfg.workspace_path} · analytics as of {a.as_of}: "
               f"{a.origin} · {ready}")
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

    if not w.warm_done.is_set():  # the tables below come once the warm-up is done (reload the page)
        st.caption("companies by district and industry, and the sources' coverage, appear when all analytics are ready")
        st.stop()
    st.subheader("Companies by district 按区统计")
    GRADE_COLS = ["A+", "A", "B", "C", "D", "E"]

    def mix_table(frame, key: str):
        """Counts with the grade mix in per cent of the graded companies, D+E share highlighted."""
        import polars as pl

        graded = pl.col("graded").clip(1)

        def pct(e):  # an expression, not a Python function per cell (no UDF while the warm-up runs)
            return (e * 100).round(1).cast(pl.Utf8) + "%"

        shown = frame.with_columns([pct(pl.col(g) / graded).alias(g) for g in GRADE_COLS]
                                   + [pct(pl.col("share_high")).alias("share_high")])
        return shown.rename({key: {"district": "区 district", "industry": "行业 industry"}[key],
                             "companies": "企业数", "graded": "已评级", "share_high": "D+E 占比"})

    with ui.guard("by district"):
        ui.table(mix_table(w.lists.city_by("district"), "district"))
    st.subheader("Companies by industry 按行业统计")
    with ui.guard("by industry"):
        ui.table(mix_table(w.lists.city_by("industry"), "industry"), height=420)
    if hasattr(w.lists, "grade_trend"):  # HOOK(h15): the grade mix over analytics runs
        st.subheader("Grade trend 等级变化趋势")
        ui.table(w.lists.grade_trend())

    st.subheader("Sources: coverage and freshness 数据来源：覆盖与时效")
    with ui.guard("sources"):
        import polars as pl

        cov = w.lists.coverage()
        shown = cov.with_columns(((pl.col("quarantine_rate") * 100).round(2).cast(pl.Utf8) + "%").alias("quarantine_rate"))
        names = {"source_unit": "来源单位", "catalog": "目录", "file": "文件", "read": "读取行数", "accepted": "入库",
                 "quarantined": "隔离", "quarantine_rate": "隔离率", "loaded": "最近加载", "newest_record": "最新记录",
                 "oldest_record": "最早记录"}
        ui.table(shown.rename({k: v for k, v in names.items() if k in shown.columns}))
        st.caption(f"{cov['accepted'].sum():,} rows loaded from {cov.height} catalog file(s) of "
                   f"{cov['source_unit'].n_unique()} source unit(s); {cov['quarantined'].sum():,} quarantined "
                   "(see workspace/quarantine: file, row, field and reason)")
