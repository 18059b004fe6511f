"""A workspace to serve: a synthetic city run through every stage with their public APIs.

Used by the dashboard's tests and benchmark (and handy to try the dashboard):
generate → load → resolve → build and load the graph → analytics outputs. Returns the
seconds each step took.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from credgraph.config import Config

__all__ = ["build_city_workspace", "build_workspace_from_raw", "cached_city"]


def build_city_workspace(cfg: Config, entities: int, seed: int = 7, analytics: bool = True,
                         log=print) -> dict[str, float]:
    """Build ``cfg.workspace_path`` from a generated city of ``entities`` entities (replacing it)."""
    from credgraph.synth import generate_city

    ws = Path(cfg.workspace_path)
    if ws.exists():
        shutil.rmtree(ws)
    ws.mkdir(parents=True)
    t: dict[str, float] = {}

    t0 = time.perf_counter()
    generate_city(ws / "raw", entities=entities, seed=seed, noise=cfg.generate.noise)
    t["generate"] = time.perf_counter() - t0
    log(f"generated {entities:,} entities in {t['generate']:.1f} s")
    return t | build_workspace_from_raw(cfg, analytics, log)


def build_workspace_from_raw(cfg: Config, analytics: bool = True, log=print) -> dict[str, float]:
    """Load every spec in ``<workspace>/raw/specs``, resolve, build and load the graph (and the
    analytics outputs): a workspace from catalog files, generated or written by hand."""
    import polars as pl

    from credgraph.graph import build_from_workspace, open_store
    from credgraph.loaders import load_specs
    from credgraph.resolution import resolve, write_resolution

    ws = Path(cfg.workspace_path)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    report = load_specs(sorted((ws / "raw" / "specs").glob("*.toml")), ws, config=cfg.load)
    t["load"] = time.perf_counter() - t0
    log(f"loaded {report.accepted:,} records in {t['load']:.1f} s")

    t0 = time.perf_counter()
    records = pl.read_parquet(ws / "records" / "records.parquet")
    res = resolve(records, config=cfg.resolution)
    write_resolution(res, ws / "entities")
    t["resolve"] = time.perf_counter() - t0
    log(f"resolved into {res.run['entities']:,} entities ({res.review.height:,} pairs to review) "
        f"in {t['resolve']:.1f} s")

    t0 = time.perf_counter()
    from credgraph.graph.generation import load_graph

    frames = build_from_workspace(cfg)
    store = open_store(cfg)
    try:
        load_graph(cfg, store, frames)  # one complete generation: what the analytics results are stamped with
    finally:
        store.close()
    t["graph"] = time.perf_counter() - t0
    log(f"graph: {frames.n_nodes:,} nodes, {frames.n_edges:,} relationships in {t['graph']:.1f} s")

    if analytics:
        from credgraph.analytics.results import analyse

        t0 = time.perf_counter()
        del frames
        try:  # `credgraph analyse`: the outputs, and the results the dashboard reads
            analyse(cfg)
        except Exception as exc:  # noqa: BLE001 - the dashboard computes its own; say what failed
            log(f"analytics outputs skipped: {type(exc).__name__}: {exc}")
        t["analytics"] = time.perf_counter() - t0
        log(f"analytics outputs in {t['analytics']:.1f} s")
    return t


def cached_city(folder: str | Path, entities: int, seed: int = 7, log=lambda *_: None,
                auto_merge: float = 0.999, review: float = 0.05) -> Path:
    """A built workspace in ``folder``, built once (a ``READY`` marker says it is complete).

    Resolution runs with a wide review band (``auto_merge``/``review``) so that a small city
    still has uncertain pairs to review. Tests copy the workspace before changing it.
    """
    folder = Path(folder)
    if not (folder / "READY").is_file():
        cfg = Config()
        cfg.workspace.path = str(folder)
        cfg.resolution.auto_merge = auto_merge
        cfg.resolution.review = review
        build_city_workspace(cfg, entities, seed, log=log)
        (folder / "READY").write_text(f"{entities} {seed}\n", encoding="utf-8")
    return folder
