"""What every ``credgraph`` command prints when it stops or warns: one place for all stages.

Messages often hold text from the user's data or file system (a file name, a firm's name, a
database's error). The terminal library reads ``[...]`` as style markup, so such text is
escaped here: ``data[2024].csv`` prints as written, and a ``[/x]`` in a name cannot end a
command with a stack trace. Control characters are stripped (:func:`credgraph.security.display.clean_text`).

>>> import io, typer
>>> buf = io.StringIO()
>>> try:
...     fail("cannot read data[2024].csv [/x]", file=buf)
... except typer.Exit as exc:
...     print(exc.exit_code, buf.getvalue().strip())
2 error: cannot read data[2024].csv [/x]
"""

from __future__ import annotations

from typing import IO, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["err", "fail", "warn", "config"]

#: Standard error, as every stage prints its progress and messages.
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _shown(message: object) -> str:
    """The message as written, markup escaped, control characters stripped line by line."""
    from credgraph.security.display import clean_text

    return "\n".join(escape(clean_text(line)) for line in str(message).split("\n"))


def _console(file: IO[str] | None) -> Console:
    return err if file is None else Console(file=file, soft_wrap=True, highlight=False, no_color=True)


def fail(message: str, code: int = 2, *, label: str = "error", file: IO[str] | None = None) -> NoReturn:
    """Print ``error: MESSAGE`` (the message as written) on standard error and exit with ``code``."""
    _console(file).print(f"[red]{label}:[/red] {_shown(message)}")
    raise typer.Exit(code)


def warn(message: str, *, label: str = "note", file: IO[str] | None = None) -> None:
    """Print ``note: MESSAGE`` (the message as written) on standard error and go on."""
    _console(file).print(f"[yellow]{label}:[/yellow] {_shown(message)}")


def config():
    """The effective configuration for a command, or a clear message and exit code 2
    (see :func:`credgraph.cli.config_or_exit`)."""
    from credgraph.cli import config_or_exit  # imported here: credgraph.cli imports the stage CLIs

    return config_or_exit()
