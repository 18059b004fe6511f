"""The ``credgraph`` command line: one Typer app; each stage registers its commands."""

from __future__ import annotations

import json
import os
import sys

import typer
from rich.console import Console

from credgraph.config import ConfigError, load_config

app = typer.Typer(
    name="credgraph",
    help="Chinese-aware entity resolution and credit-network analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def config_or_exit():
    """The effective configuration, or a clear message and exit code 2."""
    try:
        cfg = load_config()
    except ConfigError as exc:
        from credgraph.console import fail

        fail(str(exc), label="configuration error")
    from credgraph.atomic import clean_stale_temps, harden_workspace, use_private_tempdir

    os.umask(0o077)  # what this run creates is the owner's only: outputs hold clear identifiers
    harden_workspace(cfg.workspace_path)
    clean_stale_temps(cfg.workspace_path)
    if _AS_PROGRAM:  # only a real run (not a caller's process) moves its temporary files into the workspace
        use_private_tempdir(cfg.workspace_path)
    return cfg


@app.command("config")
def show_config() -> None:
    """Print the effective configuration (defaults, credgraph.toml, environment)."""
    cfg = config_or_exit()
    data = cfg.as_dict()
    data["graph"]["neo4j_password"] = "***"
    data["graph"]["hash_key"] = "***" if data["graph"]["hash_key"] else "(the workspace's own key; see `credgraph keys status`)"
    print(json.dumps(data, ensure_ascii=False, indent=2))


# Each stage adds its commands; the order here is the pipeline's order.
from credgraph.synth import cli as _synth_cli  # noqa: E402
from credgraph.loaders import cli as _loaders_cli  # noqa: E402
from credgraph.resolution import cli as _resolution_cli  # noqa: E402
from credgraph.graph import cli as _graph_cli  # noqa: E402
from credgraph.dashboard import cli as _dashboard_cli  # noqa: E402
from credgraph.analytics import cli as _analytics_cli  # noqa: E402
from credgraph.api import cli as _api_cli  # noqa: E402

for _stage in (_synth_cli, _loaders_cli, _resolution_cli, _graph_cli, _analytics_cli, _dashboard_cli, _api_cli):
    _stage.register(app)

from credgraph.security import cli as _security_cli  # noqa: E402

_security_cli.register(app)

from credgraph import demo as _demo  # noqa: E402

_demo.register(app)


_AS_PROGRAM = False


def main() -> None:  # console entry point
    global _AS_PROGRAM
    _AS_PROGRAM = True
    try:
        app()
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]")
        sys.exit(130)


if __name__ == "__main__":
    main()
