"""Caching headers for the graph component's files (an ASGI middleware of the dashboard's server).

Streamlit serves a custom component's files with a bare ``Cache-Control: public``: no
lifetime and no validator, so the browser fetches (and the server compresses) about
270 KB of scripts and a font again each time the network explorer opens, about 0.2 s of
the 1 s an interaction may take. The component's scripts and font carry a content hash in
their names, so they can be kept for good; its other files (icons) for an hour.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ComponentCaching", "component_cache_control"]

#: A file name with a content hash in it (``index.34ae10892539aa3c9e1b.bundle.js``,
#: ``32b01d6a21d9433a251c.ttf``): its content never changes under that name.
HASHED_NAME = re.compile(r"(^|\.)[0-9a-f]{16,}\.")
COMPONENT_PREFIX = "/component/"
#: Cache-Control for the component's hashed files, and for its other files but pages.
FOREVER = b"public, max-age=31536000, immutable"
AN_HOUR = b"public, max-age=3600"


def component_cache_control(path: str) -> bytes | None:
    """The Cache-Control a component file at URL ``path`` is served with (None: unchanged).

    >>> component_cache_control("/component/st_link_analysis.x/index.34ae10892539aa3c9e1b.bundle.js")
    b'public, max-age=31536000, immutable'
    >>> component_cache_control("/component/st_link_analysis.x/icons/home.svg")
    b'public, max-age=3600'
    >>> component_cache_control("/component/st_link_analysis.x/index.html") is None
    True
    """
    if COMPONENT_PREFIX not in path:
        return None
    name = path.rsplit("/", 1)[-1]
    if not name or name.endswith(".html"):
        return None  # the component's page: Streamlit's no-cache stays
    return FOREVER if HASHED_NAME.search(name) else AN_HOUR


class ComponentCaching:
    """ASGI middleware: sets :func:`component_cache_control` on successful GETs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        value = component_cache_control(scope.get("path", ""))
        if value is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cache(message: dict) -> None:
            if message["type"] == "http.response.start" and message.get("status") == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", value)]}
            await send(message)

        await self.app(scope, receive, send_with_cache)
