"""Hand-made standard records, for examples, tests and trying things out.

>>> frame = records_frame([{"subject_name": "深圳市华强电子有限公司", "subject_type": "legal"}])
>>> frame.height, frame["record_id"][0], frame["source_row"][0]
(1, 'r000001', 1)
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import polars as pl

from credgraph.records import polars_schema

__all__ = ["records_frame"]


def records_frame(rows: Iterable[Mapping[str, Any]], source_file: str = "sample.csv") -> pl.DataFrame:
    """A records frame in the standard schema from a few dicts of standard fields.

    Missing fields are null; ``record_id`` defaults to ``r000001, r000002, ...`` and
    ``source_row`` to the row's position (1-based).
    """
    schema = polars_schema()
    out = []
    for i, row in enumerate(rows, start=1):
        full = {name: None for name in schema}
        full.update({"record_id": f"r{i:06d}", "source_file": source_file, "source_row": i,
                     "catalog": "SAMPLE", "load_batch": "b1", "kind": "entity"})
        full.update(row)
        out.append(full)
    return pl.DataFrame(out, schema=schema)
