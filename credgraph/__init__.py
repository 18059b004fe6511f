"""credgraph: Chinese-aware entity resolution and credit-network analytics.

The pipeline, one subpackage per stage:

    credgraph.synth       synthetic city with ground truth (catalog files)
    credgraph.loaders     catalog files -> validated standard records (+ quarantine)
    credgraph.resolution  records -> legal-person and natural-person entities
    credgraph.graph       entities and facts -> Neo4j or the embedded LadybugDB store
    credgraph.analytics   risk propagation, grades, inspection lists, shells, control
    credgraph.dashboard   the Streamlit app for investigators, supervisors and analysts

Shared by all: ``credgraph.config`` (settings), ``credgraph.identifiers`` (USCC, ID
numbers, masking), ``credgraph.records`` (the standard record), ``credgraph.atomic``.
"""

__version__ = "0.1.0"


def connect(workspace: str | None = None, config: str | None = "credgraph.toml"):
    """Read-only Cypher from a notebook, answers as pandas DataFrames (see :mod:`credgraph.api.connect`)."""
    from credgraph.api.connect import connect as _connect

    return _connect(workspace, config)
