"""The dashboard's ASGI app, which ``streamlit run`` serves (see :mod:`credgraph.dashboard.launcher`):
Streamlit's own server running ``pages/app.py``, plus caching headers for the graph
component's files (:mod:`credgraph.dashboard.caching`)."""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from credgraph.dashboard.caching import ComponentCaching

app = st.App(Path(__file__).parent / "pages" / "app.py", middleware=[Middleware(ComponentCaching)])
