"""Commands of the resolution stage: ``resolve``, ``review``, ``evaluate``, ``explain``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from credgraph.console import fail as _fail, config as _config

__all__ = ["register"]


def _entities_dir(cfg, out: Optional[Path]) -> Path:
    return Path(out) if out else cfg.workspace_path / "entities"


def _load(directory: Path):
    from credgraph.resolution.errors import ResolutionError
    from credgraph.resolution.pipeline import load_resolution

    if not directory.is_dir():
        _fail(f"{directory}: no resolution output; run `credgraph resolve` first")
    try:
        return load_resolution(directory)
    except ResolutionError as exc:
        _fail(str(exc))


def _read_records(path: Path):
    import polars as pl

    if not path.is_file():
        _fail(f"{path}: records not found; run `credgraph load` first (or pass --records)")
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # a user's file: report it, no stack trace
        _fail(f"{path}: cannot read records ({exc})")


def _mention_of(res, key: str) -> str:
    """A mention id from a mention id, a record id (its subject) or an entity id (its oldest member)."""
    import polars as pl

    a = res.assignments
    if a.filter(pl.col("mention_id") == key).height:
        return key
    hit = a.filter(pl.col("record_id") == key)
    if hit.height:
        return hit.sort("role", descending=True)["mention_id"][0]
    hit = a.filter(pl.col("entity_id") == key)
    if hit.height:
        m = res.mentions.join(hit.select("mention_id"), on="mention_id").sort("seq")
        return m["mention_id"][0]
    _fail(f"{key!r} is neither a mention id, a record id nor an entity id of the last resolution")


def register(app: typer.Typer) -> None:
    @app.command("resolve")
    def resolve_cmd(
        records: Optional[Path] = typer.Option(None, help="Records file (default: <workspace>/records/records.parquet)."),
        out: Optional[Path] = typer.Option(None, help="Output folder (default: <workspace>/entities)."),
        full: bool = typer.Option(False, "--full", help="Rescore every pair instead of only what new records touch."),
        fresh: bool = typer.Option(False, "--fresh", help="Ignore the previous run (new ids; judgements are kept)."),
        refit: bool = typer.Option(False, "--refit", help="Estimate the model again (EM) instead of reusing it."),
        model: Optional[Path] = typer.Option(None, help="Use this model file (model.json) instead of estimating one."),
    ) -> None:
        """Resolve the records' mentions into legal-person and natural-person entities.

        Writes assignments, entities, evidence, events, judgements and the review queue
        to <workspace>/entities as one atomic step. A previous run there is continued:
        entity ids are kept, only blocks touched by new records are scored (unless --full),
        and human judgements always apply.
        """
        import polars as pl
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from credgraph.resolution.errors import ResolutionError
        from credgraph.resolution.judgements import check_judgements
        from credgraph.resolution.model import load_model
        from credgraph.resolution.pipeline import load_resolution, resolve, write_resolution

        from credgraph.resolution.judgements import missing_from, with_journal
        from credgraph.security.locks import LockBusy, workspace_lock

        cfg = _config()
        rec_path = records or cfg.workspace_path / "records" / "records.parquet"
        out_dir = _entities_dir(cfg, out)
        lock = workspace_lock(cfg, "resolve", command="credgraph resolve")
        try:
            lock.__enter__()
        except LockBusy as exc:
            _fail(f"resolve refused: {exc}")
        try:
            frame = _read_records(rec_path)
        except BaseException:
            lock.__exit__(None, None, None)
            raise
        previous = None
        judgements = None
        try:
            if (out_dir / "run.json").is_file() and not fresh:
                previous = load_resolution(out_dir)
                judgements = missing_from(previous.judgements, out_dir)  # decisions made during the last run
                if judgements.height == 0:
                    judgements = None
            elif (out_dir / "judgements.parquet").is_file():
                judgements = with_journal(pl.read_parquet(out_dir / "judgements.parquet"), out_dir)
            else:
                judgements = with_journal(None, out_dir)
            fixed = load_model(model) if model else None
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                          console=Console(stderr=True), transient=True) as bar:
                bar.add_task(f"resolving {frame.height:,} records", total=None)
                res = resolve(frame, previous=previous, judgements=judgements, config=cfg.resolution,
                              model=fixed, full=full, refit=refit)
            write_resolution(res, out_dir)
        except ResolutionError as exc:
            _fail(str(exc))
        finally:
            lock.__exit__(None, None, None)  # also on errors: an in-process caller may run again
        run = res.run
        con = Console()
        con.print(f"run {run['run']}: {run['mentions']:,} mentions → {run['entities']:,} entities "
                  f"({run['legal_entities']:,} legal, {run['natural_entities']:,} natural) in {run['seconds']:.1f} s")
        for t, s in run["stats"].items():
            con.print(f"  {t}: {s['candidate_pairs']:,} candidate pairs ({s['blocks_over_cap']:,} blocks over the cap "
                      f"of {cfg.resolution.max_block_size}), {s['pairs_merge']:,} merges, {s['pairs_review']:,} to review, "
                      f"{s['pairs_constraint'] + s['pairs_kept_apart']:,} kept apart by rules, {s['pairs_related']:,} possibly related")
        con.print(f"  {run['review_pairs']:,} pairs in the review queue, {run['events']:,} merge/split events; "
                  f"model {run['model_version']}")
        con.print(f"outputs: {escape(str(out_dir))}")

    @app.command("review")
    def review_cmd(
        match: Optional[Tuple[str, str]] = typer.Option(None, "--match", help="Record a match: --match A B (mention, record or entity ids).", show_default=False),
        no_match: Optional[Tuple[str, str]] = typer.Option(None, "--no-match", help="Record a no-match: --no-match A B.", show_default=False),
        who: Optional[str] = typer.Option(None, help="Who decides (required with --match/--no-match)."),
        why: Optional[str] = typer.Option(None, help="Why (required with --match/--no-match)."),
        limit: int = typer.Option(20, help="Pairs to list."),
        out: Optional[Path] = typer.Option(None, help="Resolution folder (default: <workspace>/entities)."),
    ) -> None:
        """List uncertain pairs (ID numbers and phones masked), or record a decision on one.

        Decisions are stored as judgements (who, when, why) and applied by every later
        `credgraph resolve`; no run overrides them.
        """
        import polars as pl

        from credgraph.atomic import write_parquet
        from credgraph.resolution.errors import ResolutionError
        from credgraph.resolution.judgements import add_judgement

        cfg = _config()
        d = _entities_dir(cfg, out)
        res = _load(d)
        decision = None
        ids: list[str] = []
        if match is not None or no_match is not None:
            if match is not None and no_match is not None:
                _fail("give either --match or --no-match, not both")
            decision = "match" if match is not None else "no_match"
            ids = list(match if match is not None else no_match)
        if decision:
            a, b = (_mention_of(res, x) for x in ids)
            types = dict(res.mentions.filter(pl.col("mention_id").is_in([a, b])).select("mention_id", "type").iter_rows())
            if types.get(a) != types.get(b):
                _fail(f"{a} is a {types.get(a)} person and {b} a {types.get(b)} person: they are never one entity")
            try:
                ent = {m: res.entity_of(m) for m in (a, b)}
                j = add_judgement(res.judgements, a, b, decision, who=who or "", why=why or "",
                                  left_entity=ent[a], right_entity=ent[b])
            except ResolutionError as exc:
                _fail(str(exc))
            from credgraph.resolution.judgements import append_journal, with_journal
            from credgraph.security.audit import record
            from credgraph.security.display import actor_cli
            from credgraph.security.locks import LockBusy, workspace_lock

            append_journal(d, j.row(-1, named=True))  # durable before anything else: never lost
            record(cfg, actor=actor_cli(), action="review", target=f"{a} / {b}", decision=decision,
                   who=who or "", why=why or "")
            try:
                with workspace_lock(cfg, "resolve", command="credgraph resolve"):
                    write_parquet(with_journal(_load(d).judgements, d), d / "judgements.parquet")
                note = "run `credgraph resolve` to apply it"
            except LockBusy as exc:
                note = f"{exc.args[0].split(';')[0]}: the decision is kept in the journal and the next `credgraph resolve` applies it"
            Console().print(f"recorded {decision} {a} / {b} by {escape(who or '')}; {escape(note)}")
            return
        _print_review(res, limit)

    @app.command("evaluate")
    def evaluate_cmd(
        truth: Path = typer.Option(..., "--truth", help="Ground-truth folder (DIR/truth, or the city folder holding it)."),
        out: Optional[Path] = typer.Option(None, help="Resolution folder (default: <workspace>/entities)."),
        json_out: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    ) -> None:
        """Compare the last resolution with ground truth: pairwise and B-cubed P/R/F1, entity-count
        error, per subject type and per hard-case class; branch→parent merges; multi-USCC clusters."""
        from credgraph.resolution.errors import ResolutionError
        from credgraph.resolution.evaluate import evaluate

        cfg = _config()
        res = _load(_entities_dir(cfg, out))
        try:
            ev = evaluate(res, truth)
        except ResolutionError as exc:
            _fail(str(exc))
        print(ev.to_json() if json_out else ev.format())

    @app.command("explain")
    def explain_cmd(
        key: str = typer.Argument(..., help="An entity id, record id, mention id or CATALOG:user-id."),
        other: Optional[str] = typer.Argument(None, help="A second one: explain this pair (merged or not)."),
        out: Optional[Path] = typer.Option(None, help="Resolution folder (default: <workspace>/entities)."),
        limit: int = typer.Option(25, help="Members and links to show."),
    ) -> None:
        """Explain why records were put together in an entity (or kept apart), with scores,
        per-field evidence and the model version. With two keys: compare that pair field by field
        (level, weight, running total), also when the resolver never compared them, and say why.
        ID numbers and phones are masked."""
        from credgraph.resolution.errors import ResolutionError
        from credgraph.resolution.explain import explain, explain_pair, find_mentions

        cfg = _config()
        res = _load(_entities_dir(cfg, out))
        try:
            if other is None:
                if ":" in key and not res.assignments.filter(res.assignments["mention_id"] == key).height:
                    key = find_mentions(res, key)[0]
                print(explain(res, key, limit=limit), end="")
            else:
                print(explain_pair(res, key, other), end="")
        except ResolutionError as exc:
            _fail(str(exc))

    @app.command("export")
    def export_cmd(
        what: str = typer.Argument(..., help="What to export: assignments."),
        to: Optional[Path] = typer.Option(None, "--to", help="CSV file (default: <workspace>/entities/assignments.csv)."),
        out: Optional[Path] = typer.Option(None, help="Resolution folder (default: <workspace>/entities)."),
    ) -> None:
        """Export which entity each input row ended in: catalog, user id (the spec's id column),
        record id, role (subject/object), entity id, entity type and name, confidence. Written atomically."""
        import polars as pl

        from credgraph.atomic import atomic_path

        if what != "assignments":
            _fail(f"unknown export {what!r}; known: assignments")
        cfg = _config()
        d = _entities_dir(cfg, out)
        res = _load(d)
        m = res.mentions.select("mention_id", "catalog", *(["user_id"] if "user_id" in res.mentions.columns else []))
        table = (res.assignments.join(m, on="mention_id", how="left")
                 .join(res.entities.select("entity_id", pl.col("name").alias("entity_name")), on="entity_id",
                       how="left"))
        if "user_id" not in table.columns:
            table = table.with_columns(pl.lit(None, dtype=pl.Utf8).alias("user_id"))
        table = table.select("catalog", "user_id", "record_id", "role", "entity_id", "type", "entity_name",
                             "confidence").sort(["catalog", "record_id", "role"], descending=[False, False, True])
        path = to or d / "assignments.csv"
        with atomic_path(path) as tmp:
            table.write_csv(tmp)
        Console().print(f"{table.height:,} rows ({table['user_id'].is_not_null().sum():,} with a user id) → "
                        f"{escape(str(path))}")


def _print_review(res, limit: int) -> None:
    import polars as pl

    from credgraph.identifiers import mask_id, mask_phone

    rv = res.review
    con = Console()
    if rv.height == 0:
        con.print("the review queue is empty")
        return
    m = res.mentions.select("mention_id", "name", "id_number", "phone", "uscc")
    table = Table(title=f"review queue: {rv.height:,} uncertain pairs (showing {min(limit, rv.height)})")
    for col in ("p", "left", "left name / ids", "right", "right name / ids"):
        table.add_column(col)

    def desc(mid: str) -> str:
        row = m.filter(pl.col("mention_id") == mid)
        if row.height == 0:
            return ""
        r = row.row(0, named=True)
        bits = [r["name"] or ""]
        if r["uscc"]:
            bits.append(r["uscc"])
        if r["id_number"]:
            bits.append(mask_id(r["id_number"]))
        if r["phone"]:
            bits.append(mask_phone(r["phone"]))
        return " ".join(bits)

    for r in rv.head(limit).iter_rows(named=True):
        table.add_row(f"{r['score']:.3f}", escape(r["left"]), escape(desc(r["left"])),
                      escape(r["right"]), escape(desc(r["right"])))
    con.print(table)
    con.print("decide with: credgraph review --match A B --who NAME --why TEXT   (or --no-match)")
