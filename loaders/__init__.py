"""Catalog loaders: declarative specs → validated standard records, with lineage and quarantine.

A catalog spec (TOML) names a source file, its format and encoding, and maps its
columns to the standard record fields (:mod:`credgraph.records`). Loading reads the
file in chunks, validates every row column-wise (identifier check characters, ID
birth dates, dates, ratios, amounts, required fields), and writes:

- ``records/records.parquet``: accepted rows as standard records, each with its
  lineage (source unit, catalog, file, row, load batch) and a stable ``record_id``;
- ``quarantine/quarantine.parquet``: every rejected row, one line per problem, naming
  the field, the source column, the raw value and the reason; a row is rejected only
  when it is broken (cut short, wrong number of fields, not JSON), misses a required
  field, or names no party once bad values are set aside;
- ``quarantine/findings.parquet``: every value set aside (nulled) in an accepted row,
  with the same columns: a bad optional field never drops the row (in both files a person's
  ID number, phone or passport is masked: the file and row lead to the full value);
- ``records/load_report.json``: per file, rows read = accepted + quarantined, and the
  values set aside.

>>> sorted(__all__)[:3]
['CatalogSpec', 'FileReport', 'LoadError']
"""

from .errors import LoadError
from .load import FileReport, LoadReport, load_specs, read_findings, read_quarantine, read_records
from .spec import CatalogSpec, find_specs, read_spec
from .validate import QUARANTINE_SCHEMA

__all__ = [
    "CatalogSpec",
    "FileReport",
    "LoadError",
    "LoadReport",
    "QUARANTINE_SCHEMA",
    "find_specs",
    "load_specs",
    "read_findings",
    "read_quarantine",
    "read_records",
    "read_spec",
]
