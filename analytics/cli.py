"""Analytics commands: risk, grade, inspect, shells, control, related, check.

All read the graph frames once (from the graph store, ``--frames DIR`` holding
nodes.parquet/edges.parquet, or ``--city DIR`` a generated city's truth files) and write
their outputs atomically to ``<workspace>/analytics/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from credgraph.console import fail as _fail, warn as _warn

__all__ = ["register"]

_err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)  # data in messages is not markup

FramesOpt = typer.Option(None, "--frames", help="Folder with nodes.parquet and edges.parquet (default: the graph store).")
CityOpt = typer.Option(None, "--city", help="A generated city's folder (with truth/): build frames from its truth files.")
TruthOpt = typer.Option(None, "--truth", help="A generated city's folder: evaluate against its hidden truth "
                        "(ids mapped to the workspace's resolved entities).")
AsOfOpt = typer.Option(None, "--as-of", help="Analysis date YYYY-MM-DD (default: analytics.as_of, else today).")


def _workspace_key(cfg) -> str:
    """The workspace's secret key for exact ID look-ups (credgraph.security.secrets)."""
    from credgraph.security.secrets import SecretError, hash_key

    try:
        return hash_key(cfg)
    except SecretError as exc:
        _fail(str(exc))


class _Ctx:
    """Configuration, network and output folder of one command."""

    def __init__(self, frames: Optional[Path], city: Optional[Path], as_of: Optional[str]):
        from credgraph.cli import config_or_exit

        from .frames import load_frames
        from .frames_from_truth import frames_from_truth
        from .network import CreditNetwork, FrameError, resolve_as_of

        self.cfg = config_or_exit()
        self.acfg = self.cfg.analytics
        self.city = city
        with _err.status("reading the graph frames"):
            try:
                if city is not None:
                    nodes, edges = frames_from_truth(city, self.cfg)
                else:
                    nodes, edges = load_frames(self.cfg, frames)
                self.net = CreditNetwork.from_frames(nodes, edges)
            except (FileNotFoundError, FrameError, ValueError) as exc:
                _fail(str(exc))
        try:
            self.as_of = resolve_as_of(self.net, as_of or self.acfg.as_of)
        except FrameError as exc:
            _fail(str(exc))
        self.out = self.cfg.workspace_path / "analytics"
        self._risk = self._grades = None

    def risk(self):
        if self._risk is None:
            from .propagation import compute_risk

            with _err.status("propagating risk"):
                try:
                    self._risk = compute_risk(self.net, self.acfg, self.as_of)
                except ValueError as exc:
                    _fail(str(exc))
        return self._risk

    def grades(self):
        if self._grades is None:
            from .grading import grade_enterprises

            risk = self.risk()
            with _err.status("grading enterprises"):
                try:
                    self._grades = grade_enterprises(self.net, self.acfg, self.as_of, risk)
                except ValueError as exc:
                    _fail(str(exc))
        return self._grades

    def truth(self, name: str, truth_city: Optional[Path] = None):
        """The true entity ids of a truth table, in the network's id space, or None.

        With ``--city`` the network's ids are the city's own; with ``--truth CITY`` over a graph
        built by the pipeline, true ids are mapped to resolved ids through the mentions.
        """
        import polars as pl

        from .frames_from_truth import truth_id_map

        city = self.city or truth_city
        if city is None:
            return None
        p = Path(city) / "truth" / f"{name}.parquet"
        if not p.is_file():
            _fail(f"{p}: not found (is {city} a generated city?)")
        ids = pl.read_parquet(p)["entity_id"]
        if self.city is not None:
            return set(ids.to_list())
        try:
            m = truth_id_map(self.cfg.workspace_path, Path(city) / "truth")
        except (FileNotFoundError, pl.exceptions.PolarsError) as exc:
            _fail(f"cannot map true ids to the workspace's entities: {exc}")
        m = m.filter(pl.col("entity_id").is_in(ids.to_list())).sort("share", descending=True).unique("entity_id", keep="first")
        return set(m["node_id"].to_list())

    def resolve(self, query: str) -> str:
        """An entity id from an id, a code or a name (exits 2 when not found)."""
        from .lookup import EntityIndex

        if not hasattr(self, "_index"):
            self._index = EntityIndex(self.net, hash_key=_workspace_key(self.cfg))
        if self.net.index_of([query])[0] >= 0:
            return query
        r = self._index.resolve([query], [query], self.acfg.check_min_score).row(0, named=True)
        if r["node_id"] is None:
            _fail(f"no entity matches {query!r} ({r['note']})")
        return r["node_id"]


def _print_table(title: str, frame, columns: list[str], limit: int = 15) -> None:
    t = Table(title=title, show_lines=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in frame.select(columns).head(limit).iter_rows():
        t.add_row(*[f"{v:.3f}" if isinstance(v, float) else ("; ".join(map(str, v)) if isinstance(v, list) else str(v))
                    for v in row])
    Console().print(t)


def _write(frame, path: Path) -> Path:
    from credgraph.atomic import atomic_path, write_parquet

    if path.suffix == ".parquet":
        return write_parquet(frame, path)
    with atomic_path(path) as tmp:
        _flat(frame).write_csv(tmp)
    return path


def _flat(frame):
    import polars as pl

    return frame.with_columns([pl.col(c).list.join(" > ") for c, t in frame.schema.items() if t == pl.List(pl.Utf8)])


def register(app: typer.Typer) -> None:
    """Add the analytics commands to the ``credgraph`` app."""
    from .results import register_command as _register_analyse

    _register_analyse(app)  # credgraph analyse: everything, kept for the dashboard

    @app.command("risk")
    def risk_cmd(frames: Optional[Path] = FramesOpt, city: Optional[Path] = CityOpt, as_of: Optional[str] = AsOfOpt,
                 top: int = typer.Option(10, help="Rows to print."),
                 explain: list[str] = typer.Option([], "--explain", help="Also explain this entity (id, code or name); repeatable.")) -> None:
        """Propagate risk from active credit records along the links; explain the riskiest entities."""
        from .propagation import compute_risk

        ctx = _Ctx(frames, city, as_of)
        ids = [ctx.resolve(q) for q in explain]
        with _err.status("propagating risk"):
            r = ctx._risk = compute_risk(ctx.net, ctx.acfg, ctx.as_of, explain_ids=ids)
        from .propagation import _severity_table
        from .severity import unweighted_event_types

        silent = unweighted_event_types(ctx.net.records, _severity_table(ctx.acfg))
        if silent:
            _warn(f"records of {', '.join(silent)} weigh nothing as risk: give their "
                  "catalog spec a severity (0-1) for them to count")
        for nid in ids:
            rows = r.sources.filter(r.sources["node_id"] == nid)
            print(f"{ctx.net.describe(int(ctx.net.index_of([nid])[0]))} ({nid}): "
                  + ("no risk received from others" if rows.height == 0 else "top sources:"))
            for x in rows.iter_rows(named=True):
                print(f"  {x['share']:.0%} from {x['source_name'] or x['source_id']}: {x['path_text']}")
        paths = [_write(r.scores, ctx.out / "risk.parquet"), _write(r.sources, ctx.out / "risk_sources.parquet"),
                 _write(r.sources, ctx.out / "risk_sources.csv")]
        _print_table(f"riskiest entities (as of {r.as_of})", r.scores, ["rank", "node_id", "name", "seed", "received", "risk"], top)
        _done(paths)

    @app.command("grade")
    def grade_cmd(frames: Optional[Path] = FramesOpt, city: Optional[Path] = CityOpt, as_of: Optional[str] = AsOfOpt,
                  diff: bool = typer.Option(False, "--diff", help="Show the grade changes of the last run against the "
                                            "one before, with the record that moved each (grades nothing).")) -> None:
        """Score every enterprise on the indicator system and grade A+ to E; keep the run in the grade history."""
        from .history import latest_changes, record_run

        if diff:
            from credgraph.cli import config_or_exit

            ch = latest_changes(config_or_exit())
            if ch.height == 0:
                print("no grade changes recorded (grade at least twice to see changes)")
            for r in ch.sort("node_id").iter_rows(named=True):
                print(f"{r['node_id']}: {r['because']}")
            return
        ctx = _Ctx(frames, city, as_of)
        g = ctx.grades()
        paths = [_write(g.grades.drop("idx"), ctx.out / "grades.parquet"), _write(g.grades.drop("idx"), ctx.out / "grades.csv"),
                 _write(g.contributions, ctx.out / "grade_contributions.parquet"),
                 _write(g.distribution, ctx.out / "grade_distribution.csv"),
                 _write(g.excluded, ctx.out / "grades_excluded.csv")]
        paths.append(record_run(ctx.cfg, g, ctx.net))
        _print_table("grade distribution", g.distribution, ["grade", "enterprises", "share"])
        if g.excluded.height:
            print(f"{g.excluded.height} legal person(s) not graded on the enterprise scheme (USCC not issued by market "
                  f"regulation): see grades_excluded.csv")
        changed = latest_changes(ctx.cfg)
        if changed.height:
            print(f"{changed.height} grade(s) changed since the last run: credgraph grade --diff")
        _done(paths)

    @app.command("inspect")
    def inspect_cmd(
        action: str = typer.Argument("draw", help="draw (default): draw a list; results FILE: record outcomes; "
                                     "refit: re-fit the indicator weights from recorded outcomes (--apply to keep)."),
        file: Optional[Path] = typer.Argument(None, help="With results: CSV of outcomes (node_id, date, found, "
                                              "problem, inspectors)."),
        frames: Optional[Path] = FramesOpt, city: Optional[Path] = CityOpt, as_of: Optional[str] = AsOfOpt,
        inspectors: Optional[Path] = typer.Option(None, help="Inspector pool CSV (inspector_id, name, unit, node_id): "
                                                  "two unlinked inspectors are drawn per target."),
        apply: bool = typer.Option(False, "--apply", help="With refit: write the re-fitted indicators file."),
        seed: Optional[int] = typer.Option(None, help="Random seed (default: analytics.inspection_seed)."),
        budget: Optional[float] = typer.Option(None, help="Share of enterprises to inspect (0: use the ratios as they are)."),
        past: Optional[Path] = typer.Option(None, help="CSV of past inspections (name/code, date): recent ones are excluded."),
        complaints: Optional[Path] = typer.Option(None, help="CSV of complaints (name/code, reason): always included."),
        name: str = typer.Option("inspection", help="File name stem of the outputs."),
        truth: Optional[Path] = TruthOpt,
    ) -> None:
        """Double-random inspections: draw a list (ratio per risk class or grade, random within it, random inspectors),
        record results, re-fit the weights from them."""
        from .inspection import draw_inspection, evaluate_inspection, export_inspection

        if action not in ("draw", "results", "refit"):
            _fail(f"unknown action {action!r}: draw, results FILE or refit")
        ctx = _Ctx(frames, city, as_of)
        g = ctx.grades()
        if action != "draw":
            _inspect_loop(ctx, g, action, file, apply)
            return
        past_df = _read_ref_csv(ctx, past, "date") if past else None
        comp_df = _read_ref_csv(ctx, complaints, "reason") if complaints else None
        extra = _extra_columns(ctx)
        from .shells import detect_shells, directed_checks

        # Firms on the directed-check list (flagged shells) are checked there, not drawn again at random.
        directed = directed_checks(detect_shells(ctx.net, ctx.acfg, g.as_of, features=g.features))["node_id"].to_list()
        try:
            lst = draw_inspection(g.grades, ctx.acfg, seed=seed, budget=budget, past=past_df, complaints=comp_df,
                                  as_of=g.as_of, extra=extra, directed=directed)
        except ValueError as exc:
            _fail(str(exc))
        if inspectors is not None:
            import polars as pl

            from .loop import LoopError, assign_inspectors, read_inspectors

            try:
                pool = read_inspectors(inspectors)
            except LoopError as exc:
                _fail(str(exc))
            lst.targets = assign_inspectors(lst.targets, pool, ctx.net, lst.seed, ctx.acfg.inspectors_per_target,
                                            ctx.acfg.inspector_link_hops)
            short = lst.targets.filter(pl.col("assignment_note") != "").height
            if short:
                lst.notes.append(f"{short} target(s) have fewer than {ctx.acfg.inspectors_per_target} unlinked inspectors")
        paths = export_inspection(lst, ctx.out, name)
        print(f"inspection list: {lst.targets.height} targets, seed {lst.seed}, {lst.excluded} excluded (recently inspected or on the directed-check list)")
        _print_table(f"allocation per {'risk class' if ctx.acfg.inspection_strata == 'risk' else 'grade'}",
                     lst.allocation, ["stratum", "grade", "pool", "ratio", "drawn"])
        for note in lst.notes:
            _warn(note)
        v = ctx.truth("violators", truth)
        if v is not None:
            ev = evaluate_inspection(lst, v, seed=lst.seed)
            print(f"against hidden violators: discovery {ev['discovery_rate']:.1%} vs uniform {ev['uniform_rate']:.1%} "
                  f"(one uniform draw {ev['uniform_draw_rate']:.1%}): lift {ev['lift']:.2f}x")
        _done(paths)

    @app.command("shells")
    def shells_cmd(frames: Optional[Path] = FramesOpt, city: Optional[Path] = CityOpt, as_of: Optional[str] = AsOfOpt,
                   top: int = typer.Option(10, help="Groups to print."), truth: Optional[Path] = TruthOpt) -> None:
        """Find shell companies: groups sharing an address, phone, agent or person that are unusual against the
        city, ranked with evidence; writes the directed-check list (定向抽查)."""
        from .shells import detect_shells, directed_checks, evaluate_shells

        ctx = _Ctx(frames, city, as_of)
        with _err.status("scoring shell candidates"):
            res = detect_shells(ctx.net, ctx.acfg, ctx.as_of)
        dc = directed_checks(res)
        print(f"directed-check list (定向抽查): {dc.height} firm(s) in {res.groups.height} group(s)")
        paths = [_write(res.groups, ctx.out / "shell_groups.csv"), _write(dc, ctx.out / "directed_checks.csv"),
                 _write(res.firms, ctx.out / "shell_firms.parquet"),
                 _write(res.firms, ctx.out / "shell_firms.csv"), _write(res.candidates, ctx.out / "shell_candidates.parquet")]
        _print_table("flagged shell groups", res.groups, ["group_id", "size", "score", "evidence"], top)
        t = ctx.truth("shell_clusters", truth)
        if t is not None:
            ev = evaluate_shells(res, t)
            print(f"against planted shells: precision@50 {ev['precision_at_50']:.2f}, recall {ev['recall']:.2f} "
                  f"({ev['flagged']} flagged, {ev['planted']} planted)")
        _done(paths)

    @app.command("control")
    def control_cmd(entity: str = typer.Argument(..., help="Entity id, code or name."),
                    frames: Optional[Path] = FramesOpt, city: Optional[Path] = CityOpt) -> None:
        """Ultimate controller and beneficial owners (> 25%) of an enterprise, with their chains."""
        import polars as pl

        from .ownership import beneficial_owners, controllers

        ctx = _Ctx(frames, city, None)
        nid = ctx.resolve(entity)
        i = int(ctx.net.index_of([nid])[0])
        print(f"{ctx.net.describe(i)} ({nid})")
        if ctx.net.labels[i] != "LegalPerson":
            _fail(f"{nid} is a {ctx.net.labels[i]}, not an enterprise")
        import numpy as np

        ctl = controllers(ctx.net, ctx.acfg.control_ratio, companies=np.array([i])).row(0, named=True)
        def name(ids: list[str]) -> str:
            return " -> ".join(ctx.net.describe(int(j)) for j in ctx.net.index_of(ids))

        if ctl["status"] == "controlled":
            print(f"ultimate controller: {ctl['controller_name']} ({ctl['controller_id']}, {ctl['controller_label']}), "
                  f"votes {ctl['control_votes']:.1%}, integrated ownership {ctl['integrated_ratio']:.1%}")
            print("  chain: " + name(ctl["chain"]))
        else:
            print(f"ultimate controller: none ({ctl['status']})")
        bo = beneficial_owners(ctx.net).filter(pl.col("company_id") == nid)
        if bo.height == 0:
            print("beneficial owners (> 25%): none")
        for r in bo.iter_rows(named=True):
            print(f"beneficial owner: {r['owner_name']} ({r['owner_id']}) {r['integrated_ratio']:.1%}; "
                  f"main chain {name(r['chain'])} ({r['chain_ratio']:.1%})")

    @app.command("related")
    def related_cmd(ids: list[str] = typer.Argument(..., help="Entity ids, codes or names (e.g. the bidders)."),
                    frames: Optional[Path] = FramesOpt, city: Optional[Path] = CityOpt,
                    hops: Optional[int] = typer.Option(None, help="Most links between two related entities.")) -> None:
        """Connections among the listed entities within k links: groups and paths."""
        from .related import related_parties

        ctx = _Ctx(frames, city, None)
        resolved = [ctx.resolve(q) for q in ids]
        res = related_parties(ctx.net, resolved, hops or ctx.acfg.related_max_hops, ctx.acfg.control_ratio)
        if res.pairs.height == 0:
            print(f"no connections within {hops or ctx.acfg.related_max_hops} links among {len(resolved)} entities")
        for g in res.groups.iter_rows(named=True):
            print(f"group {g['group_id']}: " + ", ".join(ctx.net.describe(int(ctx.net.index_of([m])[0])) for m in g["members"]))
        for p in res.pairs.iter_rows(named=True):
            print(f"  {p['hops']} links: {p['path_text']}")
        _done([_write(res.pairs, ctx.out / "related_pairs.csv"), _write(res.groups, ctx.out / "related_groups.csv")])

    @app.command("check")
    def check_cmd(list_csv: Path = typer.Argument(..., help="CSV with a name and/or code column."),
                  frames: Optional[Path] = FramesOpt, city: Optional[Path] = CityOpt, as_of: Optional[str] = AsOfOpt,
                  name: str = typer.Option("check", help="File name stem of the outputs."),
                  measures: Optional[Path] = typer.Option(None, help="Catalogue of joint reward and punishment "
                                                          "measures (TOML; default api.measures or the sample).")) -> None:
        """Batch credit check: resolve each row, report active records, grade, risky related parties and the
        joint reward and punishment measures that apply now."""
        from .check import CheckListError, credit_check, open_matcher, read_check_list
        from .inspection import _sheet
        from .measures import CatalogueError, load_catalogue

        try:
            rows = read_check_list(list_csv)
        except CheckListError as exc:
            _fail(str(exc))
        ctx = _Ctx(frames, city, as_of)
        try:
            catalogue = load_catalogue(measures or ctx.cfg.api.measures or None)
        except CatalogueError as exc:
            _fail(str(exc))
        rep = credit_check(ctx.net, rows, ctx.acfg, ctx.grades(), hash_key=_workspace_key(ctx.cfg),
                           matcher=open_matcher(ctx.cfg) if city is None else None, catalogue=catalogue)
        csv = _write(rep, ctx.out / f"{name}.csv")
        from credgraph.atomic import atomic_path
        import xlsxwriter

        with atomic_path(ctx.out / f"{name}.xlsx") as tmp:
            wb = xlsxwriter.Workbook(str(tmp))
            _sheet(wb, "check", rep)
            wb.close()
        n_un = rep.filter(rep["status"] == "unresolved").height
        print(f"checked {rep.height} rows: {rep.height - n_un} resolved, {n_un} unresolved")
        n_m = rep.filter(rep["measures"] != "").height
        print(f"{n_m} rows with joint reward or punishment measures in force (column 'measures')")
        _print_table("credit check", rep, ["row", "input_name", "status", "resolved_name", "confidence", "grade", "active_count"])
        _done([csv, ctx.out / f"{name}.xlsx"])


def _inspect_loop(ctx: _Ctx, g, action: str, file: Optional[Path], apply: bool) -> None:
    """``credgraph inspect results FILE`` and ``credgraph inspect refit [--apply]``."""
    import polars as pl

    from .loop import LoopError, discovery_by_grade, read_results, record_results, refit_weights, reweighted, write_indicators

    store = ctx.out / "inspection_results.parquet"
    if action == "results":
        if file is None:
            _fail("inspect results needs the outcomes CSV: credgraph inspect results FILE")
        try:
            res = read_results(file, set(g.grades["node_id"].to_list()))
        except LoopError as exc:
            _fail(str(exc))
        path, allr = record_results(res, ctx.out)
        print(f"recorded {res.height} outcome(s) ({int(res['found'].sum())} with a problem); {allr.height} in all")
        _print_table("discovery rate per grade (recorded outcomes)", discovery_by_grade(allr, g.grades),
                     ["grade", "inspected", "found", "discovery_rate"])
        _done([path])
        return
    if not store.is_file():
        _fail(f"{store}: no recorded outcomes yet (credgraph inspect results FILE)")
    allr = pl.read_parquet(store)
    try:
        table = refit_weights(g, allr, ctx.acfg)
    except LoopError as exc:
        _fail(str(exc))
    _print_table(f"indicator weights re-fitted from {allr.height} outcomes (old -> new)",
                 table.filter(pl.col("change").abs() >= 0.01).sort("change"), ["indicator", "dimension", "old", "new", "change"], 60)
    if not apply:
        print("nothing changed: run again with --apply to write the re-fitted indicators file")
        return
    p = write_indicators(reweighted(g.indicators, table), ctx.out / "indicators_refitted.toml")
    print(f"to grade with them: set analytics.indicators_file = \"{p}\" (credgraph.toml)")
    _done([p])


def _read_ref_csv(ctx: _Ctx, path: Path, extra: str):
    """A past-inspections or complaints CSV: name/code columns resolved to node ids, plus ``extra``."""
    import polars as pl

    from .check import CheckListError, read_check_list
    from .lookup import EntityIndex

    try:
        rows = read_check_list(path)
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except CheckListError as exc:
        _fail(str(exc))
    cols = {c.strip().lower(): c for c in raw.columns}
    if extra not in cols and extra == "date":
        _fail(f"{path}: needs a 'date' column (date of the inspection)")
    res = EntityIndex(ctx.net, hash_key=_workspace_key(ctx.cfg)).resolve(rows["name"].to_list(), rows["code"].to_list(), ctx.acfg.check_min_score)
    bad = res.with_row_index("r").filter(pl.col("node_id").is_null())
    for r in bad.iter_rows(named=True):
        _warn(f"{path} row {r['r'] + 1}: not resolved ({r['note']}); row ignored", label="skipped")
    out = res.select("node_id").with_columns(
        raw[cols[extra]].alias(extra) if extra in cols else pl.lit(None, pl.Utf8).alias(extra))
    if extra == "date":
        from .network import _as_date

        out = out.with_columns(_as_date(out["date"]).alias("date"))
        if out["date"].null_count() > raw[cols["date"]].null_count():
            _fail(f"{path}: column 'date' has values that are not dates like 2024-03-01")
    return out.filter(pl.col("node_id").is_not_null())


def _extra_columns(ctx: _Ctx):
    import polars as pl

    if "uscc" not in ctx.net.nodes.columns:
        return None
    return ctx.net.nodes.select("node_id", pl.col("uscc").cast(pl.Utf8))


def _done(paths) -> None:
    for p in paths:
        print(f"wrote {p}")
