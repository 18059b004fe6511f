"""Messages that quote the user's own text print it as written, through the real program.

File and folder names may hold ``[...]`` (``data[2024].csv``); the terminal library reads that
as style markup, so an unescaped name was swallowed (``[2024]`` disappeared) or, with a ``[/x]``,
ended the command with a stack trace instead of its message. Each case runs ``credgraph`` as a
user would, in a workspace whose path holds such text, and checks the message names it exactly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ODD = "ws[2024][/x]"


def _credgraph(args: list[str], workspace: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CREDGRAPH_WORKSPACE__PATH": str(workspace), "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "credgraph.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, says", [
    (["grade"], ODD),                                     # analytics: nothing resolved yet
    (["graph", "load"], ODD),                             # graph: nothing to load
    (["report", "L1"], ODD),                              # data interface
    (["resolve"], ODD),                                   # resolution
    (["load", f"{ODD}/missing[/y].toml"], f"{ODD}/missing[/y].toml"),
])
def test_a_bracketed_path_is_quoted_as_written(tmp_path, args, says):
    ws = tmp_path / ODD
    r = _credgraph(args, ws, tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "Traceback" not in out and "MarkupError" not in out, out
    assert "error" in out or "failed" in out, out
    assert says in out, out


def test_a_configuration_error_quotes_the_value(tmp_path):
    (tmp_path / "credgraph.toml").write_text('[graph]\nquery_row_limit = "many[/x]"\n', encoding="utf-8")
    r = _credgraph(["config"], tmp_path / "ws", tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 2, out
    assert "Traceback" not in out and "'many[/x]'" in out, out


def test_fail_prints_markup_and_control_characters_as_text(capsys):
    import io

    import typer

    from credgraph.console import fail, warn

    buf = io.StringIO()
    with pytest.raises(typer.Exit) as exc:
        fail("cannot read [bold]a[/bold] [/x] \x1b[31mred\u202e\nsecond line", file=buf)
    assert exc.value.exit_code == 2
    assert buf.getvalue() == "error: cannot read [bold]a[/bold] [/x] [31mred\nsecond line\n"
    buf = io.StringIO()
    warn("data[2024].csv", file=buf)
    assert buf.getvalue() == "note: data[2024].csv\n"
