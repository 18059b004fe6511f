"""``credgraph load SPEC...``: load catalog files into standard records."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import LoadError
from .load import LoadReport, findings_path, load_specs, quarantine_path, records_path, report_path
from credgraph.console import config as _config

__all__ = ["register", "summary_table"]


def summary_table(report: LoadReport) -> Table:
    """Rows read, accepted and quarantined per file, with the fields most often at fault."""
    table = Table(title=f"load batch {escape(report.batch)}", show_footer=True)
    table.add_column("catalog", footer="total")
    table.add_column("file")
    table.add_column("read", justify="right", footer=f"{report.read:,}")
    table.add_column("accepted", justify="right", footer=f"{report.accepted:,}")
    table.add_column("quarantined", justify="right", footer=f"{report.quarantined:,}")
    table.add_column("set aside", justify="right", footer=f"{report.set_aside:,}")
    table.add_column("problems (field: lines)")
    for f in report.files:
        merged = dict(f.problems)
        for k, v in f.findings.items():
            merged[k] = merged.get(k, 0) + v
        top = sorted(merged.items(), key=lambda kv: -kv[1])[:4]
        problems = ", ".join(f"{k}: {v:,}" for k, v in top)
        if f.note:
            problems = (problems + "; " if problems else "") + "read row by row"
        table.add_row(
            escape(f.catalog),
            escape(f.source_file),
            f"{f.read:,}",
            f"{f.accepted:,}",
            f"{f.quarantined:,}",
            f"{f.set_aside:,}",
            escape(problems),
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("load")
    def load(
        specs: List[Path] = typer.Argument(..., metavar="SPEC...", help="Catalog spec files (*.toml), or folders of them."),
        workspace: Optional[Path] = typer.Option(
            None, "--workspace", "-w", help="Workspace directory (default: workspace.path from the config)."
        ),
        batch: Optional[str] = typer.Option(None, help="Load batch id recorded on every row (default: time-based)."),
    ) -> None:
        """Load catalog files described by SPECs into standard records.

        Every row is validated (identifier check characters, ID birth dates, dates,
        share ratios, amounts, required fields). A bad optional value is set aside
        (nulled, listed in findings.parquet) and the row kept; a row that is broken,
        misses a required field or names no party goes to the quarantine table with
        the field, column, value and reason. Reloading a file replaces its rows
        instead of duplicating them. On an error nothing is written.
        """
        cfg = _config()
        ws = workspace or cfg.workspace_path
        err = Console(stderr=True)
        out = Console()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            tasks: dict[str, int] = {}

            def progress(label: str, done: int, total: int | None) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(escape(label), total=total)
                bar.update(tasks[label], completed=done, total=max(total or 0, done) or None)

            from credgraph.security.locks import LockBusy, path_lock

            try:
                (Path(ws) / "locks").mkdir(parents=True, exist_ok=True)
                with path_lock(Path(ws) / "locks" / "load.lock", "load", command="credgraph load"):
                    report = load_specs(specs, ws, batch=batch, progress=progress, config=cfg.load)
            except LockBusy as exc:
                bar.stop()
                err.print(f"[red]load refused:[/red] {escape(str(exc))}", soft_wrap=True)
                raise typer.Exit(2) from None
            except LoadError as exc:
                bar.stop()
                err.print(f"[red]load failed:[/red] {escape(str(exc))}", soft_wrap=True)
                err.print("nothing was written; the previous outputs are unchanged")
                raise typer.Exit(2) from None
        out.print(summary_table(report))
        out.print(
            f"{report.accepted:,} of {report.read:,} rows accepted, {report.quarantined:,} quarantined, "
            f"{report.set_aside:,} values set aside "
            f"in {report.seconds:.1f} s; workspace holds {report.records_total:,} records, "
            f"{report.quarantine_total:,} quarantine lines and {report.findings_total:,} findings",
            soft_wrap=True,
        )
        out.print(
            f"records: {escape(str(records_path(ws)))}\nquarantine: {escape(str(quarantine_path(ws)))}\n"
            f"findings: {escape(str(findings_path(ws)))}\n"
            f"report: {escape(str(report_path(ws)))}",
            soft_wrap=True,
        )
