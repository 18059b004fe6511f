"""Commands of the graph stage: ``credgraph graph ...``, ``credgraph neo4j ...``, ``credgraph query``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from credgraph.console import fail as _fail, config as _config

__all__ = ["register"]

_err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)  # data in messages is not markup


def _store(cfg, read_only: bool = False):
    from credgraph.graph.store import StoreError, open_store

    from credgraph.security.secrets import SecretError

    try:
        return open_store(cfg, read_only=read_only)
    except (StoreError, SecretError) as exc:
        _fail(str(exc))


def _print_frame(frame, title: str | None = None, max_rows: int = 200) -> None:
    import json

    from rich.markup import escape

    from credgraph.security.display import clean_text

    table = Table(title=escape(clean_text(title)) if title else None, show_lines=False)
    for c in frame.columns:
        table.add_column(escape(clean_text(c)), overflow="fold")
    for row in frame.head(max_rows).iter_rows():
        table.add_row(*[escape(clean_text("" if v is None else v if isinstance(v, str)
                        else json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict))
                        else str(v))) for v in row])
    Console().print(table)
    if frame.height > max_rows:
        _err.print(f"({frame.height - max_rows} more rows not shown; use --out to write them all)")


def _audit(cfg, action: str, target: str | None = None, **detail) -> None:
    from credgraph.security.audit import AuditError, record
    from credgraph.security.display import actor_cli

    try:
        record(cfg, actor=actor_cli(), action=action, target=target, **detail)
    except AuditError as exc:
        _fail(str(exc))


def _write_out(frame, out: Path) -> None:
    from credgraph.atomic import atomic_path

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        _fail(f"{out}: --out must end in .csv or .parquet")
    with atomic_path(out) as tmp:
        if suffix == ".parquet":
            frame.write_parquet(tmp)
        else:
            import polars as pl

            flat = frame.with_columns([pl.col(c).cast(pl.List(pl.Utf8)).list.join("|")
                                       for c, d in frame.schema.items() if isinstance(d, pl.List)])
            flat.write_csv(tmp)
    _err.print(f"wrote {frame.height} rows to {out}")


def register(app: typer.Typer) -> None:
    """Add ``graph``, ``neo4j`` and ``query`` to the credgraph app."""
    graph_app = typer.Typer(help="Build, load and explore the credit network graph.", no_args_is_help=True)
    neo_app = typer.Typer(help="The local Neo4j server (fetched from Maven Central, run from a cache).",
                          no_args_is_help=True)
    app.add_typer(graph_app, name="graph")
    app.add_typer(neo_app, name="neo4j")

    # ---------------------------------------------------------------------- neo4j
    def _server(action: str, test: bool) -> None:
        from credgraph.graph import neo4j_server as srv

        cfg = _config()
        if test:
            cfg = srv.config_for_tests(cfg)
        try:
            if action == "start":
                st = srv.start(cfg, log=lambda m: _err.print(m, highlight=False))
            elif action == "stop":
                st = srv.stop(cfg, log=lambda m: _err.print(m, highlight=False))
            else:
                st = srv.status(cfg)
        except srv.ServerError as exc:
            _fail(str(exc))
        print(st.message)
        if action == "status" and not st.answering:
            raise typer.Exit(1)

    test_opt = typer.Option(False, "--test", help="The test instance (port 17687, its own data).")

    @neo_app.command("start")
    def neo_start(test: bool = test_opt) -> None:
        """Start the local Neo4j (Bolt on 127.0.0.1 only, password from the config); fetches the jars once.

        Returns when Bolt answers. Already running: says so and does nothing.
        """
        _server("start", test)

    @neo_app.command("stop")
    def neo_stop(test: bool = test_opt) -> None:
        """Stop the local Neo4j started by `credgraph neo4j start`."""
        _server("stop", test)

    @neo_app.command("status")
    def neo_status(test: bool = test_opt) -> None:
        """Say whether Neo4j runs and answers with the configured login (exit 1 when it does not)."""
        _server("status", test)

    # ---------------------------------------------------------------------- graph
    @graph_app.command("load")
    def graph_load(
        backend: Optional[str] = typer.Option(None, help="embedded or neo4j (default: graph.backend)."),
        frames_out: bool = typer.Option(True, help="Also write the frames to <workspace>/graph/frames/."),
    ) -> None:
        """Build the graph from records and resolution outputs and load it into the active backend.

        Reads records/records.parquet, entities/assignments.parquet and entities/entities.parquet.
        Loading replaces the previous graph; loading twice gives the same graph.
        """
        import time

        from rich.progress import Progress

        from credgraph.atomic import write_parquet
        from credgraph.graph.build import InputError, build_from_workspace

        from credgraph.security.locks import LockBusy, workspace_lock

        cfg = _config()
        if backend is not None:
            if backend not in ("embedded", "neo4j"):
                _fail(f"--backend {backend!r}: use embedded or neo4j")
            cfg.graph.backend = backend
        lock = workspace_lock(cfg, "graph-load", command="credgraph graph load")
        try:
            lock.__enter__()
        except LockBusy as exc:
            _fail(f"graph load refused: {exc}")
        try:
            _graph_load(cfg, frames_out)
        finally:
            lock.__exit__(None, None, None)

    def _graph_load(cfg, frames_out: bool) -> None:
        import time

        from rich.progress import Progress

        from credgraph.atomic import write_parquet
        from credgraph.graph.build import InputError, build_from_workspace

        t0 = time.monotonic()
        from credgraph.security.secrets import SecretError

        try:
            frames = build_from_workspace(cfg)
        except (InputError, SecretError) as exc:
            _fail(str(exc))
        _err.print(f"built {frames.n_nodes:,} nodes and {frames.n_edges:,} relationships "
                   f"in {time.monotonic() - t0:.1f} s")
        for k, v in frames.report.items():
            if v:
                _err.print(f"  note: {k.replace('_', ' ')}: {v:,}")
        from credgraph.graph.generation import current_generation, interrupted_load, load_graph
        from credgraph.security.locks import LockBusy

        note = interrupted_load(cfg)
        if note:
            _err.print(f"note: {note}", highlight=False)
        if frames_out:
            import os

            nodes, edges = frames.contract()
            d = cfg.workspace_path / "graph" / "frames"
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o700)
            write_parquet(nodes, d / "nodes.parquet")
            write_parquet(edges, d / "edges.parquet")
        store = _store(cfg)
        t1 = time.monotonic()
        try:
            with Progress(console=_err, transient=True) as bar:
                task = bar.add_task(f"loading into {store.backend}", total=len(frames.counts()))

                def step(what: str, n: int) -> None:
                    bar.update(task, advance=1, description=f"{what}: {n:,}")

                counts = load_graph(cfg, store, frames, progress=step, workspace_locked=True)
        except LockBusy as exc:
            _fail(f"graph load refused: {exc}")
        finally:
            store.close()
        gen = current_generation(cfg) or {}
        _err.print(f"graph generation {gen.get('generation', '?')} is complete")
        secs = time.monotonic() - t1
        total = sum(counts.values())
        _err.print(f"loaded {total:,} elements into {cfg.graph.backend} in {secs:.1f} s "
                   f"({total / max(secs, 1e-9):,.0f}/s)")
        for k, v in counts.items():
            print(f"{k}\t{v}")

    @graph_app.command("export")
    def graph_export(out: Path = typer.Argument(..., help="Folder for nodes.parquet and edges.parquet.")) -> None:
        """Write the stored graph as the nodes/edges frames analytics reads."""
        from credgraph.atomic import write_parquet

        cfg = _config()
        store = _store(cfg, read_only=True)
        try:
            nodes, edges = store.export_frames()
        finally:
            store.close()
        write_parquet(nodes, out / "nodes.parquet")
        write_parquet(edges, out / "edges.parquet")
        _audit(cfg, "export", target=str(out), what="graph frames", nodes=nodes.height, edges=edges.height)
        _err.print(f"wrote {nodes.height:,} nodes and {edges.height:,} edges to {out}")

    @graph_app.command("search")
    def graph_search(text: str = typer.Argument(..., help="Name, part of a name, pinyin, USCC, org code or ID."),
                     limit: int = typer.Option(20, help="Most results.")) -> None:
        """Find entities by name (variants, traditional/simplified), pinyin, code or ID number."""
        from credgraph.identifiers import mask_id, normalise_code

        cfg = _config()
        store = _store(cfg, read_only=True)
        try:
            found = store.search(text, limit=limit)
        finally:
            store.close()
        shown = mask_id(normalise_code(text)) if len(normalise_code(text)) in (15, 18) else text
        _audit(cfg, "search", target=None, text=shown,
               persons=found.filter(found["label"] == "NaturalPerson")["node_id"].to_list())
        _print_frame(found, title=f"search: {shown}")

    @graph_app.command("neighbours")
    def graph_neighbours(
        entity_id: str = typer.Argument(..., help="node_id of the entity."),
        hops: int = typer.Option(1, help="1 or 2."),
        rel: Optional[List[str]] = typer.Option(None, help="Relationship types to follow (repeatable)."),
        limit: Optional[int] = typer.Option(None, help="Page size (default graph.neighbourhood_limit)."),
        offset: int = typer.Option(0, help="Skip this many ranked neighbours."),
    ) -> None:
        """The ranked neighbourhood of an entity, one page at a time, with the total count."""
        cfg = _config()
        store = _store(cfg, read_only=True)
        try:
            nb = store.neighbourhood(entity_id, hops=hops, rel_types=rel or None, limit=limit, offset=offset)
        except (KeyError, ValueError) as exc:
            _fail(str(exc).strip("'\""))
        finally:
            store.close()
        _print_frame(nb.nodes, title=f"{entity_id}: {nb.offset + 1}-{nb.offset + nb.nodes.height} of {nb.total}")

    @app.command("query")
    def query(
        cypher: str = typer.Argument(..., help="A read-only Cypher query."),
        param: Optional[List[str]] = typer.Option(None, "--param", "-p", help="Parameter name=value (repeatable)."),
        out: Optional[Path] = typer.Option(None, help="Write all rows to a .csv or .parquet file."),
        limit: Optional[int] = typer.Option(None, help="Row limit (default graph.query_row_limit)."),
        timeout: Optional[float] = typer.Option(None, help="Seconds before the query is stopped."),
    ) -> None:
        """Run a read-only Cypher query on the graph and print a table (or write --out).

        Writes are refused by the database itself. On the embedded store the dialect is
        LadybugDB's (label(x) for labels and types); on Neo4j, Neo4j's.
        """
        from credgraph.graph.store import QueryError

        params = {}
        for p in param or []:
            k, sep, v = p.partition("=")
            if not sep or not k:
                _fail(f"--param {p!r}: write name=value")
            params[k] = v
        if timeout is not None and not 0 < timeout <= 3600:
            _fail(f"--timeout {timeout:g}: give the seconds a query may run, above 0 and at most 3600")
        if limit is not None and limit < 1:
            _fail(f"--limit {limit}: give the most rows to return, at least 1")
        cfg = _config()
        _audit(cfg, "query", target=None, cypher=cypher[:2000], out=str(out) if out else None)
        store = _store(cfg, read_only=True)
        try:
            res = store.query(cypher, params, row_limit=limit, timeout=timeout)
        except QueryError as exc:
            msg = str(exc)
            _fail(f"query refused: {msg[len('refused: '):] if msg.startswith('refused: ') else msg}")
        finally:
            store.close()
        if out is not None:
            _write_out(res.frame, out)
            _audit(cfg, "export", target=str(out), what="query result", rows=res.frame.height)
        else:
            _print_frame(res.frame)
        if res.bytes_cut:
            _err.print(f"(stopped at the size limit of {cfg.graph.query_max_bytes:,} bytes, graph.query_max_bytes)")
        elif res.truncated:
            _err.print(f"(stopped at the row limit of {res.row_limit}; raise it with --limit)")
