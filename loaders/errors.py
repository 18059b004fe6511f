"""The one error a user can cause while loading catalogs."""

from __future__ import annotations

__all__ = ["LoadError"]


class LoadError(Exception):
    """A spec or catalog file that cannot be loaded.

    The message is written for the person who gave the file: it names the spec or
    data file, and the key, row, column or byte offset where that applies. When it
    is raised nothing has been written: the previous outputs stay as they were.
    """
