"""Network explorer: an interactive graph (st-link-analysis).

Click a node to select it (its details, and the path ends); double-click it to expand its
neighbours. Node positions are computed on the server (:meth:`Canvas.place`) and drawn with
Cytoscape's ``preset`` layout: a change is drawn at once, without a layout animation, and an
expansion leaves the nodes already drawn where they were. A supernode (more neighbours than a page) is expanded selectively: by
relationship type, by risk, top N, page by page, with the total always shown. Two nodes
can be joined by the paths between them.
"""

import time

import streamlit as st
from st_link_analysis import Event, st_link_analysis

from credgraph.dashboard import ui
from credgraph.dashboard.data import DashboardError
from credgraph.dashboard.graphview import (COLOUR_MODES, REL_TEXT, Canvas, edge_styles, legend_html, node_styles,
                                          split_edge_id)
from credgraph.graph import REL_TYPES

GRAPH_KEY = "explorer_graph"
DEFAULT_TYPES = [t for t in REL_TYPES if t != "HAS_RECORD"]


def canvas() -> Canvas:
    if "canvas" not in st.session_state:
        st.session_state.canvas = Canvas()
    return st.session_state.canvas


def say(msg: str, kind: str = "info") -> None:
    st.session_state.explorer_msg = (kind, msg)


def settings() -> dict:
    return {"hops": st.session_state.get("ex_hops", 1), "types": st.session_state.get("ex_types", DEFAULT_TYPES),
            "rank": st.session_state.get("ex_rank", "relationship"),
            "limit": int(st.session_state.get("ex_limit", ui.wb().cfg.dashboard.expand_page))}


def expand(node_id: str, offset: int = 0, rank: str | None = None, types: list | None = None) -> None:
    """Add one page of ``node_id``'s neighbours to the canvas."""
    w, c, s = ui.wb(), canvas(), settings()
    if node_id not in c.nodes:
        return
    if len(c.nodes) >= w.cfg.dashboard.max_canvas_nodes:
        say(f"the canvas holds {len(c.nodes)} nodes (at most {w.cfg.dashboard.max_canvas_nodes}): "
            "remove some or clear it before expanding further", "warning")
        return
    rank = rank or c.expanded.get(node_id, {}).get("rank") or s["rank"]
    types = types if types is not None else c.expanded.get(node_id, {}).get("types") or s["types"]
    if node_id in c.expanded:
        c.collapse(node_id)
    page = w.network.expand(node_id, s["hops"], types, rank, s["limit"], offset, existing=list(c.nodes))
    before = set(c.nodes)
    c.add_nodes(page["nodes"])
    c.add_edges(page["edges"])
    added = [n for n in c.nodes if n not in before]
    c.place(anchor=node_id)
    c.expanded[node_id] = {"total": page["total"], "shown": added, "offset": offset, "rank": rank, "types": types,
                           "by_type": page["by_type"], "page": len(page["nodes"])}
    name = c.nodes[node_id]["name"]
    shown = min(offset + s["limit"], page["total"])
    say(f"{name}: showing neighbours {offset + 1 if page['total'] else 0}–{shown} of {page['total']:,} "
        f"({len(added)} new on the canvas)")


def load_centre(node_id: str) -> None:
    w, c = ui.wb(), canvas()
    found = w.names([node_id])
    if not found:
        raise DashboardError(f"no node with id {node_id!r} in the graph (search by name or code instead)")
    c.clear()
    lab, name = found[node_id]
    c.add_nodes([{"node_id": node_id, "label": lab, "name": name}])
    c.centre = node_id
    expand(node_id)
    c.version += 1


def select(node_id: str) -> None:
    """Make ``node_id`` the last selected node (the last two are the path's ends)."""
    sel = [x for x in st.session_state.get("explorer_sel", []) if x != node_id]
    st.session_state.explorer_sel = (sel + [node_id])[-2:]


def on_graph_event() -> None:
    """The component reported a click, double-click or removal: update the canvas before redrawing.

    A double-click is reported by our own ``open`` event on Cytoscape's ``dbltap`` rather
    than the component's ``expand`` node action: the component sends its events through
    one 100 ms debounce, so the ``open`` of a double-click replaces the ``pick`` of its
    first click and the server runs once; the ``expand`` action would come 150 ms later
    still, after a separate run for the click."""
    ev = st.session_state.get(GRAPH_KEY)
    if not ev or ev.get("timestamp") == st.session_state.get("explorer_ts"):
        return
    st.session_state.explorer_ts = ev.get("timestamp")
    action, data = ev.get("action"), ev.get("data") or {}
    ui.log.debug("graph event %s", action)
    if action == "open" and data.get("target_group") == "nodes":
        action, data = "expand", {"node_ids": [data["target_id"]]}
        select(data["node_ids"][0])
    try:
        if action == "expand":
            for nid in data.get("node_ids", [])[:1]:
                info = canvas().expanded.get(nid)
                if info is None:
                    expand(nid)
                elif info["offset"] + info["page"] < info["total"]:  # expanded already: the next page
                    expand(nid, offset=info["offset"] + settings()["limit"])
                    canvas().version += 1
                else:
                    say(f"{canvas().nodes[nid]['name']}: all {info['total']:,} neighbours are shown")
        elif action == "pick" and data.get("target_group") == "nodes":
            select(data["target_id"])
        elif action == "remove":
            canvas().remove_nodes(data.get("node_ids", []))
    except DashboardError as exc:
        say(str(exc), "error")


def find_paths(a: str, b: str, hops: int) -> None:
    w, c = ui.wb(), canvas()
    paths = w.network.paths(a, b, hops)
    st.session_state.explorer_paths = paths
    c.path_edges.clear()
    if paths.height == 0:
        say(f"no path of at most {hops} links between {c.nodes[a]['name']} and {c.nodes[b]['name']}", "warning")
        c.version += 1
        return
    shortest = paths["length"][0]
    for row in paths.iter_rows(named=True):
        c.add_nodes([{"node_id": n, "label": lab, "name": nm} for n, lab, nm in
                     zip(row["node_ids"], row["labels"], row["names"])])
        for eid, typ, ratio in zip(row["edge_ids"], row["types"], row["ratios"]):
            t, s, d = split_edge_id(eid)
            c.add_edges([{"src": s, "dst": d, "type": typ, "ratio": ratio, "edge_id": eid}])
            if row["length"] == shortest:
                c.path_edges.add(eid)
    c.version += 1
    say(f"{paths.height} path(s) found; the shortest ({shortest} link(s)) drawn thick in amber")


def path_text(row: dict) -> str:
    from credgraph.dashboard.graphview import edge_caption

    parts = [row["names"][0] or row["node_ids"][0]]
    for i, (typ, d, r) in enumerate(zip(row["types"], row["directions"], row["ratios"])):
        cap = edge_caption(typ, r)
        parts.append(f" —{cap}→ " if d == ">" else f" ←{cap}— ")
        parts.append(row["names"][i + 1] or row["node_ids"][i + 1])
    return "".join(parts)


@st.fragment
def board() -> None:
    """The canvas and its side panel: reruns on its own when the graph or a control in it
    reports something, so an expansion or a path redraws only this part of the page."""
    t0 = time.perf_counter()
    with ui.guard("explorer"):
        _board()
    ui.log.info("explorer canvas ran in %.3f s", time.perf_counter() - t0)


def _board() -> None:
    w, c = ui.wb(), canvas()
    # always the same elements before the graph, so Streamlit keeps the same component
    # (a message appearing or not must not remount the canvas and lose its layout)
    msg_box = st.container()
    msg = st.session_state.pop("explorer_msg", None)
    if msg:
        getattr(msg_box, msg[0])(msg[1])
    if not c.nodes:
        st.info("load an entity (its name, USCC or ID number under settings), open a shell cluster from its page, "
                "or a saved investigation")
        _investigation_panel(w, c, w.analysis())
        return

    main, side = st.columns([3, 1])
    a = w.analysis()
    # The side panel's buttons act in callbacks, which Streamlit runs before the script: the
    # canvas drawn here already shows their effect, in one run. The graph is sent before the
    # side panel, so the browser starts loading the component's frame as early as it can.
    mode = st.session_state.get("ex_colour", "risk")
    c.place()  # nodes a path or a hand-over brought (an expansion placed its own)
    elements = c.elements(mode, a.risk_of, a.grade_of, w.cfg.analytics.check_risky_related)
    # positions come with the elements; the layout only fits the view, again whenever the
    # canvas changed (its version is part of the layout, which the component reruns on change)
    layout = {"name": "preset", "fit": True, "padding": 30, "animate": False, "_version": c.version}
    with main:
        st_link_analysis(elements, layout=layout, node_styles=node_styles(mode), edge_styles=edge_styles(),
                         height=620, key=GRAPH_KEY, on_change=on_graph_event, node_actions=["remove"],
                         events=[Event("pick", "tap", "node"), Event("open", "dbltap", "node")])
        st.caption(f"{len(c.nodes)} nodes, {len(c.edges)} links on the canvas (parallel links drawn as one line "
                   "listing every role) · click a node to select it, double-click to expand it")
        st.html(legend_html(mode))
    with side:
        _side_panel(w, c, a)

    paths = st.session_state.get("explorer_paths")
    if paths is not None and paths.height:
        st.subheader("Paths 路径")
        for row in paths.head(w.cfg.dashboard.path_limit).iter_rows(named=True):
            st.write(f"{row['length']} link(s): {path_text(row)}")


def _supernodes(c: Canvas) -> dict:
    """Expanded nodes with more neighbours than one page shows."""
    return {k: v for k, v in c.expanded.items() if (v["total"] > v["page"] or v["offset"] > 0) and k in c.nodes}


def _action(fn):
    """A side-panel callback: a clear message on the page instead of a stack trace."""
    def run(*args):
        try:
            fn(*args)
        except DashboardError as exc:
            say(str(exc), "error")
        except Exception as exc:  # noqa: BLE001 - a page must never show a trace
            ui.log.exception("explorer action failed")
            say(f"this could not be done ({type(exc).__name__}: {exc}); the details are in the dashboard's log",
                "error")
    return run


@_action
def _do_expand(nid: str) -> None:
    expand(nid)
    canvas().version += 1


@_action
def _do_remove(nid: str) -> None:
    canvas().remove_nodes([nid])
    canvas().version += 1


@_action
def _do_page(nid: str, how: str) -> None:
    """◀ / apply / ▶ of a supernode's paging form (its widgets' values are in the session)."""
    c = canvas()
    info = c.expanded.get(nid)
    if info is None:
        return
    step = settings()["limit"]
    off = max(info["offset"] - step, 0) if how == "prev" else info["offset"] + step if how == "next" else 0
    if off >= info["total"]:
        off = info["offset"]
    ss = st.session_state
    rank = ss.get(f"sr_{nid}", info["rank"])
    expand(nid, offset=off, rank=rank, types=ss.get(f"st_{nid}") or None)
    c.version += 1


@_action
def _do_paths(key_a: str, key_b: str) -> None:
    ss = st.session_state
    find_paths(ss[key_a], ss[key_b], ss["path_hops"])


@_action
def _do_clear() -> None:
    canvas().clear()
    st.session_state.pop("explorer_paths", None)
    st.session_state.explorer_loaded_id = ui.query_id()


def _path_form(c: Canvas, sel: list[str], max_hops: int) -> None:
    """From, to (the selected nodes, changeable) and the number of links; finds the paths."""
    ids = list(c.nodes)
    fmt = lambda x: c.nodes[x]["name"] if x in c.nodes else x  # noqa: E731
    da = ids.index(sel[0])
    db = ids.index(sel[1]) if len(sel) == 2 else next((i for i, x in enumerate(ids) if x != sel[0]), da)
    key_a, key_b = f"path_a_{'-'.join(sel)}", f"path_b_{'-'.join(sel)}"
    with st.form("path_form", border=False):
        st.selectbox("from", ids, index=da, format_func=fmt, key=key_a)
        st.selectbox("to", ids, index=db, format_func=fmt, key=key_b)
        # a select box, not a slider: the slider's code (with a date library) would be one more
        # thing for the browser to load on the explorer's first visit
        st.selectbox("max links", range(1, 7), index=min(max(max_hops, 1), 6) - 1,
                     key="path_hops")
        st.form_submit_button("find paths 查找路径", on_click=_do_paths, args=(key_a, key_b))


def _side_panel(w, c: Canvas, a) -> None:
    """Selection (expand, remove, profile), supernode paging, paths, clear — acting at once
    (in callbacks, before the next run draws the canvas)."""
    sel = [x for x in st.session_state.get("explorer_sel", []) if x in c.nodes]
    st.markdown("**selected 选中**")
    if sel:
        nid = sel[-1]
        d = c.nodes[nid]
        b1, b2 = st.columns(2)
        b1.button("expand 展开", key="btn_expand", on_click=_do_expand, args=(nid,))
        b2.button("remove 移除", key="btn_remove", on_click=_do_remove, args=(nid,))
        st.write(f"{d['name']}  \n{ui.entity_label(d['kind'])} · risk {ui.num(a.risk_of.get(nid), 3)}"
                 + (f" · grade {a.grade_of[nid]}" if nid in a.grade_of else ""))
        if d["kind"] in ("LegalPerson", "NaturalPerson"):
            ui.page_link("profile", "→ profile 画像", nid)
    else:
        st.caption("click a node")

    big = _supernodes(c)
    if big:
        st.markdown("**supernodes 超级节点**")
    for nid, info in big.items():
        name = c.nodes[nid]["name"]
        lo, hi = info["offset"] + 1, info["offset"] + info["page"]
        st.write(f"{name}: {lo}–{hi} of **{info['total']:,}** neighbours")
        st.caption(", ".join(f"{REL_TEXT.get(t, t)} {n:,}" for t, n in sorted(info["by_type"].items())))
        with st.form(f"super_{nid}", border=True):
            st.multiselect("types", sorted(info["by_type"]), default=[t for t in info["types"] if t in info["by_type"]],
                           format_func=lambda t: REL_TEXT.get(t, t), key=f"st_{nid}")
            st.radio("by", ("relationship", "risk"), horizontal=True, key=f"sr_{nid}",
                     index=0 if info["rank"] == "relationship" else 1)
            p1, p2, p3 = st.columns(3)
            p1.form_submit_button("◀", on_click=_do_page, args=(nid, "prev"))
            p2.form_submit_button("apply", on_click=_do_page, args=(nid, "apply"))
            p3.form_submit_button("▶", on_click=_do_page, args=(nid, "next"))

    st.markdown("**path 路径**")
    if sel:
        _path_form(c, sel, w.cfg.dashboard.path_max_hops)
    else:
        # the form comes with the first selected node: its three select boxes are a third
        # of what the browser draws when the explorer opens
        st.caption("click a node, then another: the path's ends")
    st.button("clear canvas 清空", key="btn_clear", on_click=_do_clear)
    _investigation_panel(w, c, a)


def _investigation_panel(w, c: Canvas, a) -> None:
    """Save the canvas as a named investigation in the workspace, reopen one, download it as PNG."""
    from credgraph.dashboard import investigations as inv

    st.markdown("**investigation 调查**")
    if c.nodes:
        with st.form("inv_save", border=False):
            st.text_input("name 名称", key="inv_name", placeholder="e.g. 太宁路231号 空壳群",
                          label_visibility="collapsed")
            st.form_submit_button("save 保存", on_click=_do_save)
    saved = inv.listing(w.cfg.workspace_path)
    if saved:
        names = {r["stem"]: f"{r['name']} · {r['nodes']} nodes · {r['saved']}" for r in saved}
        st.selectbox("saved 已保存", list(names), format_func=names.get, key="inv_pick", index=None,
                     placeholder="open a saved one 打开", label_visibility="collapsed")
        st.button("open saved 打开", key="inv_open", on_click=_do_open)
    if not c.nodes:
        return
    title = st.session_state.get("inv_title") or (c.nodes.get(c.centre, {}).get("name") if c.centre else "") or ""
    st.download_button("PNG", lambda: inv.canvas_png(c, a.risk_of, a.grade_of, st.session_state.get("ex_colour", "risk"),
                                                     w.cfg.analytics.check_risky_related, title=title),
                       file_name=f"{inv.safe_name(title) or 'investigation'}.png", mime="image/png", key="inv_png",
                       icon=":material/download:", on_click="ignore")


@_action
def _do_save() -> None:
    from credgraph.dashboard import investigations as inv

    name = (st.session_state.get("inv_name") or "").strip()
    try:
        path = inv.save(ui.wb().cfg.workspace_path, name, canvas())
    except inv.InvestigationError as exc:
        raise DashboardError(str(exc)) from None
    st.session_state.inv_title = name
    say(f"saved as “{name}” ({path.name} in the workspace's investigations folder)", "success")


@_action
def _do_open() -> None:
    from credgraph.dashboard import investigations as inv

    stem = st.session_state.get("inv_pick")
    if not stem:
        return
    try:
        loaded = inv.load(ui.wb().cfg.workspace_path, stem)
    except inv.InvestigationError as exc:
        raise DashboardError(str(exc)) from None
    loaded.version = canvas().version + 1  # a new drawing: the view is fitted again
    st.session_state.canvas = loaded
    st.session_state.explorer_sel = []
    st.session_state.inv_title = next((r["name"] for r in inv.listing(ui.wb().cfg.workspace_path) if r["stem"] == stem), stem)
    say(f"opened “{st.session_state.inv_title}”: {len(loaded.nodes)} nodes", "success")


st.title("Network explorer 关系网络")
with ui.guard("explorer"):
    w = ui.wb()
    c = canvas()
    # a cluster handed over by the shell page, or a centre from ?id=
    handed = st.session_state.pop("explorer_load", None)
    if handed:
        c.clear()
        c.add_nodes(handed["nodes"])
        c.add_edges(handed["edges"])
        c.version += 1
        say(handed.get("message", f"{len(handed['nodes'])} nodes loaded"))
        st.session_state.explorer_loaded_id = ui.query_id()
    qid = ui.query_id()
    if qid and qid != st.session_state.get("explorer_loaded_id"):
        st.session_state.explorer_loaded_id = qid
        load_centre(qid)

    # The settings are drawn only when asked for (fewer widgets: the page draws faster). Their
    # values live in plain session keys (ex_*), so they hold while the widgets are hidden.
    ss = st.session_state
    if st.toggle("settings 设置", key="ex_show_settings", value=not c.nodes):
        s1, s2, s3, s4 = st.columns([1, 1, 1, 1])
        ss.ex_hops = s1.radio("hops 层数", (1, 2), index=ss.get("ex_hops", 1) - 1, horizontal=True)
        ss.ex_colour = s2.radio("colour by 着色", COLOUR_MODES, horizontal=True,
                                index=COLOUR_MODES.index(ss.get("ex_colour", "risk")),
                                format_func={"risk": "risk 风险", "grade": "grade 等级", "kind": "kind 类型"}.get)
        ss.ex_rank = s3.radio("rank neighbours by", ("relationship", "risk"), horizontal=True,
                              index=0 if ss.get("ex_rank", "relationship") == "relationship" else 1)
        ss.ex_limit = s4.number_input("top N per expansion", 1, 500,
                                      int(ss.get("ex_limit", w.cfg.dashboard.expand_page)))
        ss.ex_types = st.multiselect("relationship types 关系类型", list(REL_TYPES),
                                     default=ss.get("ex_types", DEFAULT_TYPES),
                                     format_func=lambda t: f"{REL_TEXT.get(t, t)} {t}")
        picked = ui.entity_box("ex_centre", "centre 中心: 名称 / 统一社会信用代码 / 身份证号 / entity id")
        if picked and picked != ss.get("explorer_loaded_id"):
            ss.explorer_loaded_id = picked
            load_centre(picked)

    board()
