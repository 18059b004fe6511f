"""Text as shown to people: control and direction-override characters removed, HTML escaped.

A name or record from a catalog may hold NUL, terminal escape sequences or the right-to-left
override (U+202E) that makes ``exe.txt`` read as ``txt.exe``. Whatever prints or renders text
that came from data passes it through :func:`clean_text` (terminal, CSV preview) or
:func:`html_text` (HTML). The stored value is kept as written.

>>> clean_text("华强\\x00电子\\x1b[31m\\u202e有限公司\\n")
'华强电子[31m有限公司 '
>>> html_text("<b>x</b>\\u202e")
'&lt;b&gt;x&lt;/b&gt;'
"""

from __future__ import annotations

import html
import unicodedata

__all__ = ["clean_text", "html_text", "actor_cli"]


def clean_text(value) -> str:
    """``value`` as text without control (Cc) or format (Cf: bidi overrides, zero-width) characters;
    line breaks and tabs become spaces."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    out = []
    for ch in text:
        if ch in "\n\r\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def html_text(value) -> str:
    """:func:`clean_text`, then HTML-escaped (quotes too)."""
    return html.escape(clean_text(value), quote=True)


def actor_cli() -> str:
    """The audit actor of a command-line run: ``cli:<os user>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name (containers)
        import os

        return f"cli:uid{os.getuid()}"
