"""``credgraph.connect()``: read-only Cypher from a notebook, answers as pandas DataFrames.

>>> import credgraph                                              # doctest: +SKIP
>>> g = credgraph.connect()                   # the workspace of ./credgraph.toml  # doctest: +SKIP
>>> g.query("MATCH (c:LegalPerson) RETURN c.name AS name LIMIT 5")  # doctest: +SKIP

It opens the configured graph store (embedded LadybugDB or Neo4j) read-only, through the same
time- and row-limited query path as ``credgraph query``: writes are refused by the database.
List properties come back as Python lists; ID numbers are stored masked or hashed only.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Connection", "connect"]


class Connection:
    """A read-only connection to the credit graph (close it, or use ``with``)."""

    def __init__(self, cfg):
        from credgraph.graph import open_store

        self.cfg = cfg
        self.store = open_store(cfg, read_only=True)

    def query(self, cypher: str, params: dict[str, Any] | None = None, *, row_limit: int | None = None,
              timeout: float | None = None):
        """Run a read-only Cypher query; a pandas DataFrame (``df.attrs["truncated"]`` says if the row limit cut it)."""
        res = self.store.query(cypher, params or {}, row_limit=row_limit, timeout=timeout)
        df = res.frame.to_pandas()
        df.attrs.update(truncated=res.truncated, row_limit=res.row_limit, seconds=res.seconds)
        return df

    def counts(self) -> dict[str, int]:
        """Nodes and relationships per label and type."""
        return self.store.counts()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(workspace: str | None = None, config: str | None = "credgraph.toml") -> Connection:
    """Open the graph of ``workspace`` (default: the configured one) for read-only queries."""
    from credgraph.config import load_config

    cfg = load_config(config)
    if workspace:
        cfg.workspace.path = str(workspace)
    return Connection(cfg)
