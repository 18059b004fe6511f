"""``credgraph demo``: the whole pipeline on a small synthetic city, one step per stage.

Each stage adds its step here, so a newcomer always sees the pipeline run end to end:
generate → load → resolve (scored against the ground truth) → graph (embedded store) →
analytics (risk, grades, inspection list, shell clusters) → how to open the dashboard.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.markup import escape as _esc

#: Stage outputs the demo rebuilds from scratch on every run.
STAGE_DIRS = ("raw", "records", "quarantine", "entities", "graph", "analytics")


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        entities: int = typer.Option(None, help="Entities in the demo city (default: generate.entities)."),
        seed: int = typer.Option(None, help="Random seed (default: generate.seed)."),
        workspace: Path = typer.Option(None, help="Workspace directory (default: workspace.path)."),
    ) -> None:
        """Generate a small city and run every pipeline stage on it, on the embedded store."""
        from credgraph.cli import config_or_exit, console

        cfg = config_or_exit()
        if workspace:
            cfg.workspace.path = str(workspace)
        cfg.graph.backend = "embedded"  # the main job needs nothing but pip
        n = entities or cfg.generate.entities
        s = cfg.generate.seed if seed is None else seed
        run_demo(cfg, n, s, console)


def _clear_demo_workspace(ws: Path, console) -> None:
    """Remove the previous demo's outputs; refuse to touch a workspace holding other data."""
    present = [d for d in STAGE_DIRS if (ws / d).exists()]
    if present and not (ws / "raw" / "generator.json").is_file():
        console.print(f"[red]error:[/red] {_esc(str(ws))} holds data that the demo did not generate; "
                      "use another folder with --workspace")
        raise typer.Exit(2)
    for d in present:
        shutil.rmtree(ws / d)


def run_demo(cfg, entities: int, seed: int, console) -> None:
    from credgraph.analytics import demo_step as analytics_step
    from credgraph.dashboard import demo_hint
    from credgraph.graph import StoreError, build_from_workspace, open_store
    from credgraph.graph.generation import load_graph
    from credgraph.loaders import LoadError, load_specs
    from credgraph.resolution import ResolutionError, evaluate, resolve, write_resolution
    from credgraph.synth import generate_city

    ws = cfg.workspace_path
    _clear_demo_workspace(ws, console)
    raw = ws / "raw"

    console.rule("[bold]1. generate[/bold] a synthetic city")
    summary = generate_city(raw, entities=entities, seed=seed, noise=cfg.generate.noise)
    console.print(f"wrote the city to {raw} ({summary.total_records:,} catalog rows, ground truth in {raw / 'truth'})")

    console.rule("[bold]2. load[/bold] the catalogs into standard records")
    try:
        report = load_specs(sorted((raw / "specs").glob("*.toml")), ws)
    except LoadError as exc:
        console.print(f"[red]load failed:[/red] {_esc(str(exc))}")
        raise typer.Exit(2) from None
    console.print(f"records: {report.accepted:,} accepted, {report.quarantined:,} quarantined "
                  f"(of {report.read:,} read) → {ws / 'records'}")

    console.rule("[bold]3. resolve[/bold] records into entities")
    import polars as pl

    try:
        res = resolve(pl.read_parquet(ws / "records" / "records.parquet"), config=cfg.resolution)
        write_resolution(res, ws / "entities")
    except ResolutionError as exc:
        console.print(f"[red]resolution failed:[/red] {_esc(str(exc))}")
        raise typer.Exit(2) from None
    run = res.run
    console.print(f"{run['mentions']:,} mentions → {run['entities']:,} entities "
                  f"({run['legal_entities']:,} legal, {run['natural_entities']:,} natural), "
                  f"{run['review_pairs']:,} pairs to review → {ws / 'entities'}")
    console.print(evaluate(res, raw / "truth").format())

    console.rule("[bold]4. graph[/bold]: the credit network in the embedded store")
    frames = build_from_workspace(cfg)
    try:
        store = open_store(cfg)
        try:
            counts = load_graph(cfg, store, frames)  # one complete generation, under the load locks
        finally:
            store.close()
    except StoreError as exc:
        console.print(f"[red]graph load failed:[/red] {_esc(str(exc))}")
        raise typer.Exit(2) from None
    console.print(f"{frames.n_nodes:,} nodes, {frames.n_edges:,} relationships "
                  f"({sum(counts.values()):,} elements) → {ws / 'graph'}")

    console.rule("[bold]5. analytics[/bold]: risk, grades, inspection list, shell clusters")
    analytics_step(cfg, console)

    console.rule("[bold]6. dashboard[/bold]")
    console.print(demo_hint(cfg))
    console.rule("[bold green]done[/bold green]")
