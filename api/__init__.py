"""The data interface for institutions: an HTTP API over the credit network (``credgraph serve``).

* :func:`create_app` / :class:`Service` — FastAPI app under ``/v1``: match, entities, credit
  reports (JSON and PDF, numbered and verifiable), joint reward and punishment checks, credit
  repair, the change feed; keys, scopes, rate limits and quotas, every call audited;
* :class:`ApiDB` — keys (stored as keyed hashes), usage, repairs, changes, issued reports;
* :func:`connect` — read-only Cypher from a notebook, answers as pandas DataFrames.
"""

from .connect import Connection, connect
from .db import SCOPES, ApiDB

__all__ = ["SCOPES", "ApiDB", "Connection", "connect", "create_app", "Service"]


def __getattr__(name):  # the web stack loads only when asked for
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Service":
        from .service import Service

        return Service
    raise AttributeError(name)
