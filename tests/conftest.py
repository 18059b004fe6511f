"""Test helpers shared by several test modules (valid_codes, graph_fixtures) live beside the tests:
with ``--import-mode=importlib`` pytest does not put this folder on the path, so do it here."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
