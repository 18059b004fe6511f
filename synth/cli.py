"""``credgraph generate``: write a synthetic city's catalogs, specs and ground truth."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape as _esc

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``generate`` command to the credgraph app."""

    @app.command("generate")
    def generate(
        entities: int = typer.Option(None, "--entities", "-n", help="Legal + natural persons in the city "
                                     "(default: generate.entities); each gives about 4-5 catalog rows."),
        seed: int = typer.Option(None, "--seed", help="Random seed (default: generate.seed); same seed, same bytes."),
        out: Path = typer.Option(None, "--out", help="Output folder (default: generate.out, else <workspace>/raw). "
                                 "Must be new, empty, or a previous generator output (which is replaced)."),
        noise: float = typer.Option(None, "--noise", help="Scale of every catalog's noise rates, 0 = clean "
                                    "(default: generate.noise)."),
        rate: list[str] = typer.Option(None, "--rate", help="Override one catalog's noise rate, e.g. "
                                       "MR_REG.missing_id=0.1 or MR_REG.object.legacy_id=0 (repeatable; "
                                       "added to generate.rates)."),
        name_noise: float = typer.Option(0.0, "--name-noise", help="Realistic person-name noise: each of a "
                                         "similar-shape character, a dropped character and a romanised name "
                                         "(either order), and for foreign nationals' Latin names a nickname, family "
                                         "name first, capitals, middle name dropped or an initial, accents stripped, "
                                         "at this rate per person mention (default 0: off)."),
        foreign_share: float = typer.Option(None, "--foreign-share", help="Share of natural persons who are "
                                            "foreign nationals with Latin names and passports (default: "
                                            "generate.foreign_share, 0.02)."),
        regime: str = typer.Option("burst", "--regime", help="How shells are planted and violations arise: a "
                                   "regime of synth/regimes.toml (burst, spread, nominee_holders, agent_factory, "
                                   "lone_address, spread_weak, burst_isolated, spread_isolated_weak) or "
                                   "SHELL+VIOLATION."),
    ) -> None:
        """Write a synthetic Shenzhen-like city: catalogs as government files hold them (CSV in UTF-8, GBK and
        GB18030, XLSX, JSON lines) with one loader spec each in OUT/specs/, and the ground truth in OUT/truth/."""
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
        from rich.table import Table

        from credgraph.cli import config_or_exit, console
        from credgraph.synth import OutputDirError, generate_city
        from credgraph.synth.catalogs import parse_rates
        from credgraph.synth.regimes import RegimeError, draw_regime

        cfg = config_or_exit()
        g = cfg.generate
        n = g.entities if entities is None else entities
        s = g.seed if seed is None else seed
        scale = g.noise if noise is None else noise
        fshare = g.foreign_share if foreign_share is None else foreign_share
        if not 0 <= fshare <= 1:
            console.print(f"[red]error:[/red] --foreign-share must lie in [0, 1], got {fshare}")
            raise typer.Exit(2)
        target = Path(out) if out else (Path(g.out).expanduser() if g.out else cfg.workspace_path / "raw")
        if n < 50:
            console.print(f"[red]error:[/red] --entities must be at least 50, got {n}")
            raise typer.Exit(2)
        if scale < 0:
            console.print(f"[red]error:[/red] --noise must be 0 or more, got {scale}")
            raise typer.Exit(2)
        try:
            rates = parse_rates(",".join([g.rates, *(rate or [])]))
        except ValueError as exc:
            console.print(f"[red]error:[/red] {_esc(str(exc))}")
            raise typer.Exit(2) from None

        try:
            draw_regime(regime, s)
        except RegimeError as exc:
            console.print(f"[red]error:[/red] {_esc(str(exc))}")
            raise typer.Exit(2) from None

        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("generating", total=None)

            def progress(step: str, done: int, total: int) -> None:
                bar.update(task, description=step, completed=done, total=total)

            try:
                summary = generate_city(target, entities=n, seed=s, noise=scale, chunk_rows=g.chunk_rows,
                                        progress=progress, legal_share=g.legal_share, rates=rates,
                                        name_noise=name_noise, regime=regime, foreign_share=fshare)
            except (OutputDirError, ValueError) as exc:
                console.print(f"[red]error:[/red] {_esc(str(exc))}")
                raise typer.Exit(2) from None
            except OSError as exc:
                console.print(f"[red]error:[/red] cannot write {_esc(str(target))}: {_esc(str(exc.strerror or exc))}")
                raise typer.Exit(2) from None

        table = Table(title=f"synthetic city: {n:,} entities, seed {s}, noise {scale:g}, regime {regime}")
        table.add_column("catalog")
        table.add_column("file")
        table.add_column("rows", justify="right")
        for code, rows in summary.counts.items():
            table.add_row(code, summary.files[code].name, f"{rows:,}")
        table.add_row("[bold]total[/bold]", "", f"[bold]{summary.records:,}[/bold]")
        out_console = Console()
        out_console.print(table)
        out_console.print(f"catalogs in {summary.out}, specs in {summary.out / 'specs'}, "
                          f"ground truth in {summary.out / 'truth'}")
