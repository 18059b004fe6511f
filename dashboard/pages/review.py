"""Review queue: uncertain record pairs side by side with the evidence; a match / no-match
decision is stored as a judgement that every later `credgraph resolve` honours."""

import polars as pl
import streamlit as st

from credgraph.dashboard import ui
from credgraph.dashboard.data import DashboardError

FIELDS = ("name", "catalog", "source_file", "source_row", "uscc", "org_code", "reg_no", "id_number", "phone",
          "address", "relation", "entity_id", "mention_id")


LABELS = {"name": "名称", "catalog": "目录", "source_file": "来源文件", "source_row": "行号", "uscc": "统一社会信用代码",
          "org_code": "组织机构代码", "reg_no": "注册号", "id_number": "身份证号", "phone": "电话", "address": "地址",
          "relation": "关系", "entity_id": "归属主体", "mention_id": "记录编号"}
#: Fields that name where a record came from: they differ between any two records and are not evidence.
PROVENANCE = ("catalog", "source_file", "source_row", "mention_id")


def aligned_html(left: dict, right: dict) -> str:
    """The two records field by field in one table (masked already): a row per field either
    has; rows where both have a value and the values differ are marked ``cg-diff``, rows only
    one has ``cg-one``."""
    import html

    def norm(v) -> str:
        return "".join(str(v).split()).upper() if v not in (None, "") else ""

    rows = []
    for f in FIELDS:
        a, b = left.get(f), right.get(f)
        if a in (None, "") and b in (None, ""):
            continue
        cls = ""
        if f not in PROVENANCE:
            if (a in (None, "")) != (b in (None, "")):
                cls = "cg-one"
            elif norm(a) != norm(b):
                cls = "cg-diff"
        cells = "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in (a, b))
        rows.append(f'<tr class="{cls}"><td>{html.escape(LABELS.get(f, f))} <small>{f}</small></td>{cells}</tr>')
    return ('<table class="cg-table cg-fields cg-align"><thead><tr><th>field 字段</th><th>left 左</th>'
            f'<th>right 右</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def decide(w, left: str, right: str, decision: str) -> None:
    """Store the decision (a judgement the next `credgraph resolve` applies) and say so."""
    who = (st.session_state.get("review_who") or "").strip()
    try:
        w.review.record_decision(left, right, decision, who, st.session_state.get("review_why") or "")
    except DashboardError as exc:
        st.session_state.review_done = ("error", str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - a callback's error would otherwise be a bare failure
        ui.log.exception("review decision")
        st.session_state.review_done = ("error", f"the decision could not be stored ({type(exc).__name__}: {exc})")
        return
    st.session_state.review_done = ("success", f"recorded {decision} for {left} / {right} by {who}; "
                                               "the next `credgraph resolve` applies it")


st.title("Review queue 待审核")
with ui.guard("review"):
    w = ui.wb()
    show_decided = st.toggle("show decided pairs too 显示已决定", value=False)
    queue = w.review.review_queue(include_decided=show_decided)
    done = st.session_state.pop("review_done", None)
    if done:
        getattr(st, done[0])(done[1])
    if queue.height == 0:
        st.info("the review queue is empty: no uncertain pair is waiting for a decision")
        st.stop()
    st.caption(f"{queue.height:,} pair(s) {'in the queue' if show_decided else 'waiting for a decision'}, "
               "most likely matches first")
    pos = st.number_input("pair 序号", 1, queue.height, 1, step=1) - 1
    pair = queue.row(int(pos), named=True)
    left, right = w.review.mention(pair["left"]), w.review.mention(pair["right"])
    st.metric("match probability 匹配概率", f"{pair['score']:.3f}",
              help="Fellegi-Sunter probability that the two records name the same entity")
    if pair.get("decision"):
        st.info(f"decided: {pair['decision']} by {pair['who']} at {pair['when']}")
    st.subheader("The two records 两条记录")
    st.html(aligned_html(left, right))
    st.caption("yellow: the records differ · grey: only one record has the field")
    st.subheader("Their entities now 当前归属主体")
    ctx_cols = st.columns(2)
    for col, m in zip(ctx_cols, (left, right)):
        with col:
            eid = m.get("entity_id")
            found = w.names([eid]) if eid else {}
            if found:
                ui.page_link("profile", found[eid][1], eid)
                hits = w.find.describe(pl.DataFrame({"node_id": [eid], "label": [found[eid][0]], "name": [found[eid][1]]}))
                st.caption(ui.describe_entity(hits.row(0, named=True)))
            else:
                st.caption("not in the graph (a mention of its own)")
    st.subheader("Evidence 证据")
    levels = [c[6:] for c in pair if c.startswith("level_") and pair[c] is not None]
    ev = pl.DataFrame({"field": levels,
                       "agreement level": [pair[f"level_{f}"] for f in levels],
                       "weight (bits)": [pair.get(f"weight_{f}") for f in levels]}) if levels else pl.DataFrame()
    ui.table(ev)
    st.caption(f"total weight {pair['weight']:+.2f} bits · rule {pair.get('rule') or 'model'} · "
               f"model {pair.get('model_version', '')} (level -1: missing on one side, no evidence)")
    with st.form("decide"):
        c1, c2 = st.columns(2)
        c1.text_input("who 审核人", value=w.cfg.dashboard.reviewer, key="review_who")
        c2.text_input("why 理由", placeholder="e.g. same USCC on the licence", key="review_why")
        b1, b2, _ = st.columns([1, 1, 2])
        # recorded in the buttons' callback, before the page runs: the page then shows the
        # queue without the pair, in one run (no second run of the page)
        b1.form_submit_button("✔ match 同一主体", type="primary", on_click=decide,
                              args=(w, pair["left"], pair["right"], "match"))
        b2.form_submit_button("✘ no match 不同主体", on_click=decide,
                              args=(w, pair["left"], pair["right"], "no_match"))
