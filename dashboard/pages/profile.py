"""Entity profile: identity (masked), grade and why, propagated risk and its sources, records,
related parties, controller and beneficial owners; downloadable as an HTML credit report."""

import streamlit as st

from credgraph.dashboard import ui
from credgraph.dashboard.report import IDENTITY_FIELDS, credit_report_html

st.title("Entity profile 主体画像")
node_id = ui.query_id()
with st.form("profile_form", border=False):
    c1, c2 = st.columns([5, 1])
    typed = c1.text_input("entity id", value=node_id, label_visibility="collapsed", placeholder="entity id 实体编号")
    if c2.form_submit_button("Open 打开", use_container_width=True):
        st.query_params["id"] = typed.strip()
        node_id = typed.strip()

with ui.guard("profile"):
    if not node_id:
        st.info("search for a company or person first, or type its entity id")
        ui.page_link("search", "→ Search 搜索")
        st.stop()
    w = ui.wb()
    # risk sources included: explained from the finished propagation (tens of milliseconds)
    p = w.profiles.profile(node_id)
    ident = p.identity
    st.header(ident.get("name") or node_id)
    links = st.columns(4)
    with links[0]:
        ui.page_link("explorer", "network 关系网络", node_id, icon=":material/hub:")
    if p.kind == "LegalPerson":
        with links[1]:
            ui.page_link("ownership", "ownership 股权穿透", node_id, icon=":material/account_tree:")
    title = "enterprise credit report" if p.kind == "LegalPerson" else "credit report"

    def report() -> bytes:  # made when clicked
        return credit_report_html(p).encode("utf-8")

    links[2].download_button(f"{title} (HTML)", report, file_name=f"credit-report-{node_id}.html",
                             mime="text/html", key="report_dl", icon=":material/download:", on_click="ignore")

    left, right = st.columns([3, 2])
    with left:
        st.subheader("Identity 基本信息")
        rows = [(cap, ident[k]) for k, cap in IDENTITY_FIELDS if ident.get(k) not in (None, "", [])]
        ui.field_table(rows)
    with right:
        if p.grade:
            g = p.grade
            st.subheader("Grade 信用等级")
            st.metric("grade 等级", g["grade"], help="A+ (lowest risk) … E (highest)")
            st.write(f"score **{g['score']:.1f}** / 100 — {g['reasons']}")
            dims = {k[4:]: v for k, v in g.items() if k.startswith("dim_")}
            st.caption("points lost (−) or given back (+) per dimension: "
                       + " · ".join(f"{d} {v:+.1f}" for d, v in dims.items()))
            with st.expander("indicators behind the grade 指标明细"):
                ui.table(p.contributions)
        st.subheader("Propagated risk 关联风险")
        r = p.risk
        if r:
            c1, c2, c3 = st.columns(3)
            c1.metric("risk", ui.num(r.get("risk"), 3))
            c2.metric("own records", ui.num(r.get("seed"), 3))
            c3.metric("from related", ui.num(r.get("received"), 3))
            st.caption(f"rank {r.get('rank')} of {r.get('entities'):,} entities (as of {p.as_of})")
        if p.sources.height:
            st.write("top sources 主要风险来源")
            st.markdown("\n".join(
                f"- **{r['source_name']}** — {ui.pct(r['share'])} of the received risk, {r['hops']} link(s): "
                f"{r['path_text']}" for r in p.sources.iter_rows(named=True)))
        else:
            st.caption("no risk received from related parties")
        if p.shell:
            s = p.shell
            st.warning(f"shell-company score {s['shell_score']:.2f}" + (" — flagged 疑似空壳" if s["flagged"] else "")
                       + f"; cluster {s['cluster_id']} ({s['kind']})")

    st.subheader("Timeline of records 信用记录")
    tl = p.timeline
    if tl.height > 30:
        if st.toggle(f"all {tl.height} records 全部记录", key="timeline_all"):
            ui.table(tl, height=400, static_rows=0)
        else:
            ui.table(tl.head(30))
            st.caption(f"the 30 newest of {tl.height} records")
    elif tl.height:
        ui.table(tl)
    else:
        st.caption("no credit records")

    c1, c2 = st.columns(2)
    with c1:
        st.subheader("Related parties 关联方")
        if p.related.height:
            ui.table(p.related.select("relation", "name", "ratio", "risk", "grade", "label", "node_id"))
        else:
            st.caption("no shareholders, representatives, officers, branches or agents on record")
        if p.sharing.height:
            st.write("sharing an address or phone 共用地址/电话")
            ui.table(p.sharing.select("name", "via_kind", "via_name", "node_id"))
    with c2:
        if p.kind == "LegalPerson":
            st.subheader("Ultimate controller 实际控制人")
            c = p.controller
            if c and c.get("controller_id"):
                st.write(f"**{c['controller_name']}** — votes {ui.pct(c['control_votes'])}, "
                         f"integrated ownership {ui.pct(c['integrated_ratio'])}")
                st.caption("chain: " + " → ".join(c.get("chain_names") or []))
                ui.page_link("profile", f"→ {c['controller_name']}", c["controller_id"])
            else:
                st.caption((c or {}).get("status", "no controller") + ": nobody holds more than half of the votes")
            st.subheader("Beneficial owners 受益所有人")
            if p.owners.height:
                ui.table(p.owners.select("owner_name", "integrated_ratio", "chain_ratio", "owner_id"))
            else:
                st.caption(f"no natural person holds more than {ui.pct(w.cfg.dashboard.beneficial_owner_threshold)}")
        else:
            st.subheader("Companies controlled 控制的企业")
            if p.controls.height:
                ui.table(p.controls)
            else:
                st.caption("controls no company")
            st.subheader("Beneficial ownership 受益所有权")
            if p.owners.height:
                ui.table(p.owners.select("company_name", "integrated_ratio", "company_id"))
            else:
                st.caption("beneficial owner of no company")
