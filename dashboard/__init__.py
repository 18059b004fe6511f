"""The investigator dashboard: a Streamlit multipage app over the graph and the analytics.

Pages (``pages/*.py``, kept thin): overview with the pictures, search, entity profile
(with an HTML credit report), network explorer (st-link-analysis), ownership penetration,
inspection lists, shell clusters, review queue, Cypher console. Data access lives in
:mod:`.data` (:class:`Workbench`), masking in :mod:`.privacy`, the canvas in
:mod:`.graphview`, the report in :mod:`.report`.

* :func:`launch` starts the server (127.0.0.1, headless, no usage statistics) and returns
  the process; :func:`wait_until_up` waits for it;
* :func:`demo_hint` says how to open it; ``cli.register`` adds ``credgraph dashboard``.

>>> demo_hint(__import__("credgraph.config", fromlist=["Config"]).Config()).startswith("open the dashboard")
True
"""

from credgraph.dashboard.data import DashboardError, Profile, Workbench
from credgraph.dashboard.launcher import APP, HOST, demo_hint, launch, streamlit_args, url, wait_until_up
from credgraph.dashboard.privacy import mask_frame, mask_text
from credgraph.dashboard.report import credit_report_html

__all__ = [
    "APP",
    "HOST",
    "DashboardError",
    "Profile",
    "Workbench",
    "credit_report_html",
    "demo_hint",
    "launch",
    "mask_frame",
    "mask_text",
    "streamlit_args",
    "url",
    "wait_until_up",
]
