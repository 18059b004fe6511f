"""Security primitives shared by every stage: the audit trail and the workspace lock.

- :mod:`credgraph.security.audit`: an append-only, hash-chained log of who did what
  (every view of a natural person, export, analyst query, review decision, login, API call).
- :mod:`credgraph.security.locks`: one writer per workspace resource, with a clear message
  for the run that has to wait or refuse.
"""

from credgraph.security.audit import AuditError, VerifyResult, read_events, record, verify
from credgraph.security.locks import LockBusy, workspace_lock

__all__ = ["AuditError", "VerifyResult", "read_events", "record", "verify", "LockBusy", "workspace_lock"]
