"""Run every docstring example in the package: they are documentation that must stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import credgraph


def _modules():
    names = ["credgraph"]
    for info in pkgutil.walk_packages(credgraph.__path__, "credgraph."):
        names.append(info.name)
    # Stage packages are mapped from top-level folders; walk them too.
    for stage in ("synth", "loaders", "resolution", "graph", "analytics", "dashboard", "api"):
        pkg = importlib.import_module(f"credgraph.{stage}")
        for info in pkgutil.walk_packages(pkg.__path__, f"credgraph.{stage}."):
            names.append(info.name)
    # The dashboard's Streamlit pages run as scripts, not as importable modules; importing
    # its ASGI entry script would build the app (and pin Streamlit's script directory).
    return sorted({n for n in names if ".pages" not in n and not n.endswith(("__main__", "dashboard.server"))})


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
