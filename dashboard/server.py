"""The dashboard's ASGI app, which ``streamlit run`` serves (see :mod:`credgraph.dashboard.launcher`):
Streamlit's own server running ``pages/app.py``, plus the sign-in form and the gate that sends a
browser without a session to it (:mod:`credgraph.dashboard.signin`), and caching headers for the
graph component's files (:mod:`credgraph.dashboard.caching`)."""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from credgraph.dashboard.caching import ComponentCaching
from credgraph.dashboard.signin import SignInGate, routes

app = st.App(Path(__file__).parent / "pages" / "app.py", routes=routes(),
             middleware=[Middleware(SignInGate), Middleware(ComponentCaching)])
