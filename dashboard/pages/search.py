"""Search: entities by name, code or pinyin (fuzzy; Chinese, traditional, full-width, initials).

A code or an exact company name is answered at once from memory ("best match"); the
store's search (substring, same sound, pinyin, initials, fuzzy) follows below.
"""

import streamlit as st

from credgraph.dashboard import ui


def describe(r: dict) -> str:
    return (f"{ui.entity_label(r['label'])} · {r['match']} · grade {r['grade'] or '–'} · "
            f"risk {ui.num(r['risk'], 3) or '–'}")


def best_row(r: dict) -> None:
    """The best match, with its network and ownership links."""
    c1, c2, c3, c4 = st.columns([5, 3, 1, 1], vertical_alignment="center")
    with c1:
        ui.page_link("profile", r["name"] or r["node_id"], r["node_id"])
    c2.caption(describe(r))
    with c3:
        ui.page_link("explorer", "network", r["node_id"], icon=":material/hub:")
    if r["label"] == "LegalPerson":
        with c4:
            ui.page_link("ownership", "owners", r["node_id"], icon=":material/account_tree:")


def result_row(r: dict) -> None:
    """One more result: its name (to the profile) and what it is, in two elements (a long list
    of rows of columns takes the browser a while to draw)."""
    ui.page_link("profile", r["name"] or r["node_id"], r["node_id"])
    st.caption(describe(r))


st.title("Search 搜索")
st.caption("名称、统一社会信用代码、组织机构代码、注册号、身份证号或拼音 — name, code, ID number or pinyin "
           "(e.g. 华强电子, 華強, huaqiang, hqdz)")
with st.form("search_form", border=False):
    c1, c2 = st.columns([5, 1])
    text = c1.text_input("search", value=st.query_params.get("q", ""), key="search_text",
                         label_visibility="collapsed", placeholder="名称 / 代码 / 拼音")
    go = c2.form_submit_button("Search 搜索", type="primary", use_container_width=True)
if go:
    st.query_params["q"] = text
with ui.guard("search"):
    query = text if go else st.query_params.get("q", "")
    if go or query:
        w = ui.wb()
        best = w.find.quick_match(query)
        if best.height:
            st.markdown("**best match 最佳匹配**")
            best_row(best.row(0, named=True))
        with st.spinner("searching names, sounds and spellings…"):
            hits = w.find.search(query)
        if best.height:
            hits = hits.filter(hits["node_id"] != best["node_id"][0])
        if hits.height == 0 and best.height == 0:
            st.info(f"no entity matches {query!r}")
        elif hits.height == 0:
            st.caption("no other result(s)")
        elif hits.height:
            st.write(f"{hits.height} {'more ' if best.height else ''}result(s)")
            for r in hits.iter_rows(named=True):
                result_row(r)
