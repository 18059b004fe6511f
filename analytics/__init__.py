"""Credit-network analytics over the graph frames.

* :func:`compute_risk` — risk seeded by active records, propagated along the links (sparse
  series; equals personalized PageRank when row-normalised), with top sources and paths;
* :func:`explain_risk` — one entity's top risk sources and their paths, from a finished result;
* :func:`grade_enterprises` — 5-dimension indicator scores and grades A+ to E, explained;
* :func:`draw_inspection` / :func:`export_inspection` — double-random inspection lists;
* :func:`detect_shells` — shell-company groups measured against the city, with evidence, and
  :func:`directed_checks` — the directed-check list (定向抽查) they feed;
* :func:`grade_history` — an entity's grades over the recorded runs and what moved them;
* :mod:`credgraph.analytics.loop` — inspectors, recorded outcomes, re-fitted weights;
* :func:`controllers` / :func:`beneficial_owners` / :func:`integrated_ownership` — ownership;
* :func:`related_parties` — connections among listed entities;
* :func:`credit_check` — batch credit checks;
* :class:`CreditNetwork` — the frames read once into arrays and sparse matrices.

``demo_step(cfg, console)`` runs risk, grades, an inspection list and shell detection on the
workspace's graph and prints where the outputs went.
"""

from __future__ import annotations

from pathlib import Path

from .check import credit_check, read_check_list
from .frames import load_frames, make_frames
from .grading import GRADES, GradeResult, grade_enterprises
from .inspection import InspectionList, draw_inspection, evaluate_inspection, export_inspection
from .lookup import EntityIndex
from .network import CreditNetwork, FrameError
from .ownership import beneficial_owners, controllers, integrated_ownership
from .propagation import RiskResult, compute_risk, explain_risk
from .related import RelatedResult, related_parties
from .history import grade_history, record_run
from .shells import ShellResult, detect_shells, directed_checks, evaluate_shells

__all__ = [
    "CreditNetwork", "FrameError", "load_frames", "make_frames",
    "RiskResult", "compute_risk", "explain_risk",
    "GRADES", "GradeResult", "grade_enterprises",
    "InspectionList", "draw_inspection", "evaluate_inspection", "export_inspection",
    "ShellResult", "detect_shells", "directed_checks", "evaluate_shells", "grade_history", "record_run",
    "controllers", "beneficial_owners", "integrated_ownership",
    "RelatedResult", "related_parties",
    "EntityIndex", "credit_check", "read_check_list",
    "run_all", "demo_step",
]


def run_all(net: CreditNetwork, cfg, out_dir: str | Path, as_of=None, stamp: dict | None = None,
            frames: tuple | None = None) -> dict[str, Path]:
    """Risk, grades, an inspection list and shells for ``net``, written to ``out_dir``.

    ``cfg`` is the whole Config or its ``analytics`` section. With ``stamp`` (the graph's
    :func:`credgraph.analytics.results.graph_stamp`, read before ``net``) and the whole Config, the
    results are also kept for the dashboard (:func:`credgraph.analytics.results.save_results`,
    path ``results``; ``frames``, the graph frames ``net`` was built from, kept with them).
    Returns the written paths by name.
    """
    from credgraph.atomic import write_parquet

    acfg = getattr(cfg, "analytics", cfg)
    out = Path(out_dir)
    risk = compute_risk(net, acfg, as_of)
    grades = grade_enterprises(net, acfg, as_of, risk)
    shells = detect_shells(net, acfg, grades.as_of, features=grades.features)
    directed = directed_checks(shells)
    # Firms on the directed-check list are checked there, not drawn again at random.
    listing = draw_inspection(grades.grades, acfg, as_of=grades.as_of, directed=directed["node_id"].to_list())
    paths = {
        "risk": write_parquet(risk.scores, out / "risk.parquet"),
        "risk_sources": write_parquet(risk.sources, out / "risk_sources.parquet"),
        "grades": write_parquet(grades.grades.drop("idx"), out / "grades.parquet"),
        "grade_contributions": write_parquet(grades.contributions, out / "grade_contributions.parquet"),
        "grade_distribution": write_parquet(grades.distribution, out / "grade_distribution.parquet"),
        "shell_firms": write_parquet(shells.firms, out / "shell_firms.parquet"),
        "shell_groups": write_parquet(shells.groups, out / "shell_groups.parquet"),
        "directed_checks": write_parquet(directed, out / "directed_checks.parquet"),
    }
    for p in export_inspection(listing, out):
        paths[f"inspection{p.suffix}"] = p
    if hasattr(cfg, "workspace_path"):  # the whole configuration: keep the run in the grade history
        paths["grade_history"] = record_run(cfg, grades, net)
        if stamp is not None:
            from .results import save_results

            paths["results"] = save_results(cfg, net, risk, grades, shells, stamp, frames=frames)
    paths["_summary"] = {  # type: ignore[assignment]
        "entities": int(net.entity_mask.sum()), "at_risk": int((risk.seed > 0).sum()),
        "distribution": grades.distribution, "inspection": listing, "shell_groups": shells.groups.height,
    }
    return paths


def demo_step(cfg, console) -> dict[str, Path]:
    """The demo's analytics step: run everything on the workspace's graph and say where outputs went."""
    from credgraph.security.locks import workspace_lock

    from .results import COMMAND, graph_stamp

    with workspace_lock(cfg, "analyse", command=COMMAND):  # the same lock as `credgraph analyse`
        stamp = graph_stamp(cfg)  # read before the graph: what these results were computed from
        nodes, edges = load_frames(cfg)
        net = CreditNetwork.from_frames(nodes, edges)
        out = Path(cfg.workspace_path) / "analytics"
        paths = run_all(net, cfg, out, stamp=stamp, frames=(nodes, edges))
    s = paths.pop("_summary")
    dist = ", ".join(f"{r['grade']} {r['enterprises']}" for r in s["distribution"].iter_rows(named=True))
    console.print(f"analytics: {s['entities']} entities, {s['at_risk']} with active adverse records")
    console.print(f"  grades: {dist}")
    console.print(f"  inspection list: {s['inspection'].targets.height} targets (seed {s['inspection'].seed})")
    console.print(f"  shell groups flagged: {s['shell_groups']}")
    for name, p in paths.items():
        console.print(f"  {name}: {p}")
    return paths
