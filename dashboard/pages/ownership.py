"""Ownership penetration (股权穿透): shareholding chains up (who owns it) and down (what it
owns), with the cumulative ratio of every chain and the integrated share of every holder."""

import polars as pl
import streamlit as st
from st_link_analysis import st_link_analysis

from credgraph.dashboard import ui
from credgraph.dashboard.graphview import Canvas, edge_styles, legend_html, node_styles


def tree_markdown(chains: pl.DataFrame, direction: str, root: str) -> str:
    """Chains as a nested list: each holder under the company it holds (or the reverse)."""
    children: dict[tuple, dict] = {}
    for row in chains.iter_rows(named=True):
        path = row["path"]
        for k in range(1, len(path)):
            children.setdefault(tuple(path[:k]), {})[path[k]] = None
    names = {}
    info = {}
    for row in chains.iter_rows(named=True):
        names[row["path"][-1]] = row["name"]
        info[tuple(row["path"])] = (row["ratios"][-1] if row["ratios"] else None, row["ratio"])
    lines = []

    def walk(prefix: tuple, depth: int) -> None:
        for child in children.get(prefix, {}):
            key = prefix + (child,)
            direct, cum = info.get(key, (None, None))
            verb = "holds" if direction == "up" else "held"
            lines.append("  " * depth + f"- **{names.get(child, child)}** — {verb} {ui.pct(direct) or '?'}"
                         + (f", cumulative {ui.pct(cum)}" if depth else ""))
            walk(key, depth + 1)

    walk((root,), 0)
    return "\n".join(lines)


st.title("Ownership penetration 股权穿透")
node_id = ui.entity_box("own")
depth = st.slider("layers 层数", 1, 10, 5, key="own_depth")

with ui.guard("ownership"):
    if not node_id:
        st.info("type a company's name, USCC or entity id, or open its ownership from Search or its profile")
        st.stop()
    w = ui.wb()
    found = w.names([node_id])
    if not found:
        st.error(f"no entity with id {node_id!r} in the graph (search by name or code instead)")
        st.stop()
    label, name = found[node_id]
    st.header(name)
    ui.page_link("profile", "→ profile 画像", node_id)
    up = w.network.ownership(node_id, "up", depth)
    down = w.network.ownership(node_id, "down", depth)
    canvas = Canvas()
    canvas.add_nodes([{"node_id": node_id, "label": label, "name": name}])
    left, right = st.columns(2)
    for col, chains, direction, title in ((left, up, "up", "Shareholders (up) 股东穿透"),
                                          (right, down, "down", "Investments (down) 对外投资")):
        with col:
            st.subheader(title)
            if chains.height == 0:
                st.caption("none on record")
                continue
            st.markdown(tree_markdown(chains, direction, node_id))
            holders = (chains.group_by("node_id", "name", "label").agg(pl.col("integrated").first(),
                                                                      pl.col("depth").min().alias("nearest layer"),
                                                                      pl.len().alias("chains"))
                       .sort("integrated", descending=True, nulls_last=True))
            st.caption("integrated share = sum over every chain of the product of the ratios along it")
            ui.table(holders.with_columns(pl.col("integrated").map_elements(ui.pct, return_dtype=pl.Utf8))
                     .select("name", "integrated", "nearest layer", "chains", "label", "node_id"),
                     links={"name": "node_id"})
            for row in chains.iter_rows(named=True):
                path = row["path"]
                nm = w.names(path)
                canvas.add_nodes([{"node_id": n, "label": nm.get(n, ("", n))[0], "name": nm.get(n, ("", n))[1]}
                                  for n in path])
                for k in range(len(path) - 1):
                    src, dst = (path[k + 1], path[k]) if direction == "up" else (path[k], path[k + 1])
                    canvas.add_edges([{"src": src, "dst": dst, "type": "SHAREHOLDER_OF", "ratio": row["ratios"][k],
                                       "edge_id": f"SHAREHOLDER_OF|{src}|{dst}"}])
    if len(canvas.nodes) > 1:
        st.subheader("Ownership graph 股权结构图")
        a = w.analysis()
        loops = w.network.holding_loops(list(canvas.nodes))
        if loops:
            nm = w.names({x for loop in loops for x in loop.ids})
            st.warning(f"{len(loops)} circular or cross holding(s) 循环/交叉持股")
            st.markdown("\n".join(
                f"- **{loop.label}**: " + " → ".join(
                    f"{nm.get(x, ('', x))[1]} ({ui.pct(r) or '?'})" for x, r in zip(loop.ids, loop.ratios))
                + f" → {nm.get(loop.ids[0], ('', loop.ids[0]))[1]}" for loop in loops[:10]))
            for loop in loops:  # drawn in the path colour: the loop stands out
                for k, src in enumerate(loop.ids):
                    dst = loop.ids[(k + 1) % len(loop.ids)]
                    eid = f"SHAREHOLDER_OF|{src}|{dst}"
                    if eid not in canvas.edges and src in canvas.nodes and dst in canvas.nodes:
                        canvas.add_edges([{"src": src, "dst": dst, "type": "SHAREHOLDER_OF", "edge_id": eid,
                                           "ratio": loop.ratios[k]}])
                    canvas.path_edges.add(eid)
        else:
            st.caption("no circular or cross holding among these holders 无循环/交叉持股")
        canvas.centre = node_id
        # top-down: the ultimate holders on top, the company below them, what it holds further down
        held = {d["target"] for d in canvas.edges.values()}
        roots = [n for n in canvas.nodes if n not in held] or [node_id]
        st_link_analysis(canvas.elements("grade", a.risk_of, a.grade_of), layout={
            "name": "breadthfirst", "directed": True, "roots": roots, "fit": True, "padding": 20, "animate": False,
            "spacingFactor": 1.3}, node_styles=node_styles("grade"), edge_styles=edge_styles(), height=520,
            key=f"own_graph_{node_id}_{depth}")
        st.html(legend_html("grade"))
