"""Search: entities by name, code, ID number or pinyin (fuzzy; Chinese, traditional, full-width, initials).

Every result says what tells it from its namesakes: type, USCC or masked ID number, legal
representative (a person's role), district, status, grade and risk; results come a page at
a time. A code, an ID number or an exact company name is answered at once ("best match").
What was typed goes into the URL (``?q=``) only when it holds no ID or phone number.
"""

import streamlit as st

from credgraph.dashboard import ui
from credgraph.dashboard.privacy import mask_text

PAGE_SIZE = 20
#: Results read per search (then shown PAGE_SIZE at a time).
MAX_RESULTS = 200
COLUMNS = {"name": "名称 name", "type": "类型", "code": "统一社会信用代码 / 证件号", "who": "法定代表人 / 角色",
           "district": "区", "status": "状态", "grade": "等级", "risk": "风险"}


def result_table(hits) -> None:
    """One page of results as a table; names link to the profiles."""
    import polars as pl

    shown = hits.with_columns(pl.coalesce(pl.col("rep_name").map_elements(lambda x: f"法定代表人 {x}", return_dtype=pl.Utf8),
                                          "role").alias("who"))
    shown = shown.select(*COLUMNS, "node_id").rename(COLUMNS)
    ui.table(shown, links={COLUMNS["name"]: "node_id"})


st.title("Search 搜索")
st.caption("名称、统一社会信用代码、组织机构代码、注册号、身份证号或拼音 — name, code, ID number or pinyin "
           "(e.g. 华强电子, 華強, huaqiang, hqdz)")
if "search_text" not in st.session_state:  # a shared link (?q=) fills the box once
    st.session_state.search_text = st.query_params.get("q", "")
with st.form("search_form", border=False):
    c1, c2 = st.columns([5, 1])
    text = c1.text_input("search", key="search_text", label_visibility="collapsed",
                         placeholder="名称 / 代码 / 身份证号 / 拼音")
    go = c2.form_submit_button("Search 搜索", type="primary", use_container_width=True)
if go:
    st.session_state.search_q = text
    st.session_state.search_page = 0
    if text and mask_text(text) == text:
        st.query_params["q"] = text
    else:  # an ID or phone number stays in this session, out of the URL and the browser history
        st.query_params.pop("q", None)
with ui.guard("search"):
    query = text if go else (st.session_state.get("search_q") or st.query_params.get("q", ""))
    if go or query:
        w = ui.wb()
        best = w.find.quick_match(query)
        if best.height:
            st.markdown("**best match 最佳匹配**")
            b = w.find.describe(best).row(0, named=True)
            c1, c2, c3 = st.columns([6, 1, 1], vertical_alignment="center")
            with c1:
                ui.page_link("profile", b["name"] or b["node_id"], b["node_id"])
                st.caption(ui.describe_entity(b))
            with c2:
                ui.page_link("explorer", "network", b["node_id"], icon=":material/hub:")
            if b["label"] == "LegalPerson":
                with c3:
                    ui.page_link("ownership", "owners", b["node_id"], icon=":material/account_tree:")
        with st.spinner("searching names, sounds and spellings…"):
            hits = w.find.search(query, limit=MAX_RESULTS)
        if best.height:
            hits = hits.filter(hits["node_id"] != best["node_id"][0])
        if hits.height == 0 and best.height == 0:
            st.info(f"no entity matches {mask_text(query)!r}")
        elif hits.height == 0:
            st.caption("no other result(s)")
        else:
            pages = (hits.height + PAGE_SIZE - 1) // PAGE_SIZE
            page = min(st.session_state.get("search_page", 0), pages - 1)
            more = "+" if hits.height >= MAX_RESULTS else ""
            st.write(f"{hits.height}{more} {'more ' if best.height else ''}result(s) — page {page + 1} of {pages}")
            result_table(hits.slice(page * PAGE_SIZE, PAGE_SIZE))
            if pages > 1:
                c1, c2, _ = st.columns([1, 1, 6])
                if c1.button("‹ previous 上一页", disabled=page == 0, key="search_prev"):
                    st.session_state.search_page = page - 1
                    st.rerun()
                if c2.button("next 下一页 ›", disabled=page >= pages - 1, key="search_next"):
                    st.session_state.search_page = page + 1
                    st.rerun()
