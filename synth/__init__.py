"""Synthetic city generator: a Shenzhen-like city's credit catalogs with ground truth.

``generate_city(out, entities, seed)`` writes the catalogs (CSV in UTF-8/GBK/GB18030,
XLSX, JSON lines) as government files would hold them, one loader spec per catalog in
``out/specs/``, and the truth (true entity of every mention, relationships, shell
clusters, hidden violators) in ``out/truth/``. See :mod:`credgraph.synth.generate`.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     s = generate_city(pathlib.Path(d) / "city", entities=200, seed=1)
...     (s.out / "specs" / "MR_REG.toml").is_file(), s.counts["MR_REG"] > 0
(True, True)
"""

from credgraph.synth.catalogs import CATALOGS, DEFAULT_NOISE
from credgraph.synth.generate import CitySummary, OutputDirError, check_output_dir, generate_city
from credgraph.synth.noise import NOISE_TAGS
from credgraph.synth.truth import true_assignments, true_entities
from credgraph.synth.world import HARD_TAGS

__all__ = [
    "generate_city",
    "CitySummary",
    "OutputDirError",
    "check_output_dir",
    "CATALOGS",
    "DEFAULT_NOISE",
    "NOISE_TAGS",
    "HARD_TAGS",
    "true_assignments",
    "true_entities",
]
