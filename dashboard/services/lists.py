"""Lists and pictures: inspection lists and their files, shell groups, the city overview.

Part of the dashboard's data access (:class:`credgraph.dashboard.data.Workbench`, attribute
``lists``): it asks the Workbench's store and analytics, keeps its own answers, and masks
what it returns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import tempfile
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from credgraph.dashboard.data import DashboardError, _remember, frame_bytes_csv, log
from credgraph.dashboard.labels import EVENT_LABELS
from credgraph.dashboard.privacy import mask_frame, mask_text

if TYPE_CHECKING:
    from credgraph.dashboard.data import Workbench


class Lists:
    """Lists and pictures: inspection lists and their files, shell groups, the city overview."""

    def __init__(self, w: "Workbench") -> None:
        self.w = w
        self._listings: dict[tuple, Any] = {}
        self._files: dict[int, dict] = {}
        self._files_lock = threading.Lock()

    def field_columns(self) -> pl.DataFrame:
        """Per company what an inspector needs in the field: node_id, uscc, legal_rep, address, district (made once)."""
        if getattr(self, "_field", None) is None:
            a = self.w.analysis()
            firms = a.net.nodes.filter(pl.col("label") == "LegalPerson").select(
                "node_id", *(c for c in ("uscc",) if c in a.net.nodes.columns))
            ctx = self.w.find.context().select("node_id", pl.col("rep_name").alias("legal_rep"), "address", "district")
            self._field = firms.join(ctx, on="node_id", how="left")
        return self._field

    def inspection(self, seed: int, budget: float, ratios: tuple[float, ...] | None = None,
                   live_only: bool | None = None, past: pl.DataFrame | None = None,
                   complaints: pl.DataFrame | None = None, strata: str | None = None):
        """Draw an inspection list (analytics.draw_inspection) with these parameters, as
        ``credgraph inspect`` does: strata are the configured ones (``analytics.inspection_strata``:
        risk classes or grades) unless ``strata`` says; ``ratios`` one per stratum (four risk
        classes or six grades); firms on the directed-check list (flagged shells) are checked
        there, not drawn. ``past`` (node_id, date of the last inspection) excludes the recently
        inspected, ``complaints`` (node_id, reason) are drawn whatever their grade. Targets
        carry uscc, legal representative, address and district."""
        from credgraph.analytics import GRADES, directed_checks, draw_inspection
        from credgraph.analytics.inspection import RISK_CLASSES

        a = self.w.analysis()
        acfg = dataclasses.replace(self.w.cfg.analytics)
        strata = strata or acfg.inspection_strata
        if strata not in ("risk", "grade"):
            raise DashboardError(f"strata: risk classes ('risk') or grades ('grade'), not {strata!r}")
        acfg.inspection_strata = strata
        if ratios is not None:
            names = RISK_CLASSES if strata == "risk" else GRADES
            if len(ratios) != len(names) or any(not 0 <= r <= 1 for r in ratios):
                raise DashboardError(f"sampling ratios: {len(names)} shares between 0 and 1 ({', '.join(names)})")
            if strata == "risk":
                acfg.risk_class_ratios = tuple(float(r) for r in ratios)
            else:
                acfg.sample_ratios = tuple(float(r) for r in ratios)
        if live_only is not None:
            acfg.inspect_live_only = bool(live_only)
        if not 0 <= budget <= 1:
            raise DashboardError("the budget is a share of enterprises between 0 and 1")
        digest = tuple(hashlib.sha1(f.write_csv().encode()).hexdigest() if f is not None and f.height else ""
                       for f in (past, complaints))
        key = (int(seed), float(budget), strata, tuple(acfg.sample_ratios), tuple(acfg.risk_class_ratios),
               bool(acfg.inspect_live_only), digest)
        if key in self._listings:  # the same parameters draw the same list: drawn once
            return self._listings[key]
        directed = self._once("directed", lambda: directed_checks(self.w.analysis().shells)["node_id"].to_list())
        listing = draw_inspection(a.grades.grades, acfg, seed=int(seed), budget=float(budget), as_of=a.as_of,
                                  extra=self.field_columns(), past=past, complaints=complaints, directed=directed)
        listing = dataclasses.replace(listing, targets=mask_frame(listing.targets))
        _remember(self._listings, key, listing, 32)
        return listing

    def read_subjects(self, data: bytes, filename: str, kind: str) -> tuple[pl.DataFrame, list[str]]:
        """An uploaded list of past inspections (``kind="past"``: who and when) or complaints
        (``"complaints"``: who and why), CSV (UTF-8 or GB18030) or XLSX, as (frame, problems).

        A row names its firm by 统一社会信用代码/uscc, 实体编号/node_id or 名称/name (codes win);
        past inspections need 检查日期/日期/date, complaints take 原因/事由/reason. The frame is
        node_id + date (past) or node_id + reason; every row that cannot be used is named in
        ``problems`` with its row number, field and why."""
        frame = _read_table(data, filename)
        cols = {c.strip().lower(): c for c in frame.columns}

        def pick(*names):
            return next((cols[n] for n in names if n in cols), None)

        code_c, id_c, name_c = pick("统一社会信用代码", "uscc", "code"), pick("实体编号", "node_id"), pick("名称", "name", "企业名称")
        if not (code_c or id_c or name_c):
            raise DashboardError(f"{filename}: no column naming the firm (统一社会信用代码 / uscc, 实体编号 / node_id or 名称 / name)")
        date_c, reason_c = pick("检查日期", "日期", "date"), pick("原因", "事由", "投诉事由", "reason")
        if kind == "past" and not date_c:
            raise DashboardError(f"{filename}: no date column (检查日期 / 日期 / date)")
        index = self.w.find.entity_index()
        n = frame.height
        codes = frame[code_c].cast(pl.Utf8).to_list() if code_c else [None] * n
        names = frame[name_c].cast(pl.Utf8).to_list() if name_c else [None] * n
        ids = frame[id_c].cast(pl.Utf8).to_list() if id_c else [None] * n
        known = set(self.w.names([i for i in ids if i]))
        res = index.resolve([x or "" for x in names], [x or "" for x in codes], min_score=100)
        out, problems = [], []
        for i, (nid, r) in enumerate(zip(ids, res.iter_rows(named=True))):
            row_no = i + 2  # the header is row 1
            node = nid if nid in known else r["node_id"] if r["status"] == "resolved" else None
            if node is None:
                what = codes[i] or names[i] or nid or ""
                problems.append(f"{filename} row {row_no}: {code_c or name_c or id_c} {what!r} names no company "
                                f"in the graph ({r['note'] or 'not found'})")
                continue
            if kind == "past":
                d = _parse_date(frame[date_c][i])
                if d is None:
                    problems.append(f"{filename} row {row_no}: {date_c} {frame[date_c][i]!r} is not a date (YYYY-MM-DD)")
                    continue
                out.append({"node_id": node, "date": d})
            else:
                reason = frame[reason_c][i] if reason_c else None
                out.append({"node_id": node, "reason": str(reason) if reason not in (None, "") else "投诉举报"})
        schema = {"node_id": pl.Utf8, "date": pl.Date} if kind == "past" else {"node_id": pl.Utf8, "reason": pl.Utf8}
        return pl.DataFrame(out, schema=schema), [mask_text(p) for p in problems]

    def inspection_csv(self, listing) -> bytes:
        """The list as CSV for Excel: UTF-8 with a byte-order mark (Excel then reads the Chinese),
        the same rows and columns as the analytics stage's export."""
        return frame_bytes_csv(listing.targets)

    def inspection_files(self, listing, wait: bool = True) -> dict[str, bytes] | None:
        """The list as the analytics stage exports it (CSV, XLSX, JSON), as bytes for download;
        made once per list. With ``wait=False`` the files are made in a background thread (call
        it when the list is drawn, so the XLSX is ready when asked for) and None returned."""
        with self._files_lock:
            entry = self._files.get(id(listing))
            if entry is None or entry["listing"] is not listing:
                entry = {"listing": listing, "done": threading.Event(), "files": None, "error": None}
                _remember(self._files, id(listing), entry, 8)
                threading.Thread(target=self._make_files, args=(entry,), name="credgraph-inspection-files",
                                 daemon=True).start()
        if not wait:
            return None
        entry["done"].wait()
        if entry["error"]:
            raise DashboardError(f"the inspection files could not be written: {entry['error']}")
        return entry["files"]
    @staticmethod
    def _make_files(entry: dict) -> None:
        from credgraph.analytics import export_inspection

        try:
            with tempfile.TemporaryDirectory(prefix="credgraph-dash-") as d:
                paths = export_inspection(entry["listing"], d)
                entry["files"] = {p.suffix.lstrip("."): p.read_bytes() for p in paths}
        except Exception as exc:  # noqa: BLE001 - reported to whoever downloads
            log.exception("inspection export failed")
            entry["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            entry["done"].set()
    def _once(self, name: str, make):
        """``make()`` computed once per analysis (the analysis is fixed for the server's life)."""
        a = self.w.analysis()
        cache = self.__dict__.setdefault("_made", {})
        got = cache.get(name)
        if got is None or got[0] is not a:
            got = cache[name] = (a, make())
        return got[1]

    def shell_groups(self) -> pl.DataFrame:
        """Flagged shell-company groups, ranked, with evidence (masked once)."""
        return self._once("shell_groups", lambda: mask_frame(self.w.analysis().shells.groups))
    def shell_firms(self, group_id: str | None = None) -> pl.DataFrame:
        """The firms of a flagged shell group (all groups when None), one row each, with the
        evidence as columns: score and the shell model's firm features
        (:data:`credgraph.analytics.shells.FIRM_FEATURES`); and uscc, legal representative,
        address, district, established, capital; masked."""
        if getattr(self, "_shell_table", None) is None:  # every group's firms, made once
            a = self.w.analysis()
            f = a.shells.firms.filter(pl.col("group_id").is_not_null())
            props = a.net.nodes.filter(pl.col("label") == "LegalPerson").select(
                "node_id", *(c for c in ("est_date", "registered_capital") if c in a.net.nodes.columns))
            self._shell_table = mask_frame(
                f.join(self.field_columns(), on="node_id", how="left").join(props, on="node_id", how="left")
                .sort("group_id", "shell_score", "name", descending=[False, True, False]))
        t = self._shell_table
        return t if group_id is None else t.filter(pl.col("group_id") == group_id)

    def shell_candidates(self) -> pl.DataFrame:
        """Every candidate cluster (shared address, phone, agent or legal rep), ranked (masked once)."""
        return self._once("shell_candidates", lambda: mask_frame(self.w.analysis().shells.candidates))
    def overview(self) -> dict[str, pl.DataFrame]:
        """The pictures of the home page: grade distribution, risk histogram, records per year
        and type, shell-cluster sizes (made once: they read every entity and record)."""
        return self._once("overview", self._overview)

    def _overview(self) -> dict[str, pl.DataFrame]:
        a = self.w.analysis()
        dist = a.grades.distribution.select("grade", "enterprises")
        r = a.risk.scores.filter(pl.col("risk") > 0)["risk"].to_numpy()
        if len(r):
            # risk spans orders of magnitude: logarithmic bins
            lo, hi = max(float(r.min()), 1e-4), max(float(r.max()), 2e-4)
            bins = np.geomspace(lo, hi * 1.0001, 13)
            counts, _ = np.histogram(np.clip(r, lo, hi), bins=bins)
            hist = pl.DataFrame({"risk from": [f"≥{b:.2g}" for b in bins[:-1]],
                                 "entities": counts})
        else:
            hist = pl.DataFrame({"risk from": [], "entities": []}, schema={"risk from": pl.Utf8, "entities": pl.Int64})
        rec = a.net.records.filter(pl.col("date").is_not_null())
        per_year = (rec.group_by(pl.col("date").dt.year().alias("year"), "event_type").len()
                    .pivot(on="event_type", index="year", values="len").fill_null(0).sort("year"))
        per_year = per_year.select("year", *sorted(c for c in per_year.columns if c != "year"))  # one order every time
        per_year = per_year.rename({c: EVENT_LABELS.get(c, c) for c in per_year.columns if c != "year"})
        sizes = a.shells.candidates.group_by("size").len().rename({"len": "clusters"}).sort("size")
        return {"grades": dist, "risk": hist, "records": per_year, "clusters": sizes}


    def city_by(self, by: str) -> pl.DataFrame:
        """Companies per ``by`` ("district" or "industry") with their grade mix: one row per
        value, columns companies, graded, A+ … E (counts) and share_high (D and E among graded);
        made once per server."""
        cache = self.__dict__.setdefault("_city", {})
        if by not in cache:
            cache[by] = self._city_by(by)
        return cache[by]

    def _city_by(self, by: str) -> pl.DataFrame:
        from credgraph.analytics import GRADES

        a = self.w.analysis()
        firms = a.net.nodes.filter(pl.col("label") == "LegalPerson").select("node_id", *(
            c for c in ("industry",) if c in a.net.nodes.columns))
        firms = firms.join(self.w.find.context().select("node_id", "district"), on="node_id", how="left")
        if by not in firms.columns:
            raise DashboardError(f"the graph has no {by} of companies")
        g = a.grades.grades.select("node_id", "grade")
        f = firms.join(g, on="node_id", how="left").with_columns(pl.col(by).fill_null("（未知）"))
        counts = f.group_by(by).agg(pl.len().alias("companies"), pl.col("grade").is_not_null().sum().alias("graded"),
                                    *[(pl.col("grade") == x).sum().alias(x) for x in GRADES])
        return (counts.with_columns(((pl.col("D") + pl.col("E")) / pl.col("graded").clip(1)).alias("share_high"))
                .sort(["companies", by], descending=[True, False]))

    def coverage(self) -> pl.DataFrame:
        """Coverage and freshness per source unit and catalog, from the last load report and the
        records: file, rows read / accepted / quarantined, quarantine rate, when it was loaded,
        the newest record's date, and how many records reached the graph (entities covered)."""
        import json as _json

        rep = self.w.cfg.workspace_path / "records" / "load_report.json"
        stamp = rep.stat().st_mtime if rep.is_file() else None
        kept = getattr(self, "_coverage", None)
        if kept is not None and kept[0] == stamp:  # the same load report: the same answer
            return kept[1]
        if not rep.is_file():
            raise DashboardError(f"{rep}: no load report; run `credgraph load` first")
        try:
            report = _json.loads(rep.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DashboardError(f"{rep}: not a load report ({exc})") from None
        rows = [{"source_unit": f.get("source_unit"), "catalog": f.get("catalog"), "file": f.get("source_file"),
                 "read": f.get("read", 0), "accepted": f.get("accepted", 0), "quarantined": f.get("quarantined", 0),
                 "loaded": report.get("started", "")[:19].replace("T", " ")} for f in report.get("files", [])]
        out = pl.DataFrame(rows, schema={"source_unit": pl.Utf8, "catalog": pl.Utf8, "file": pl.Utf8, "read": pl.Int64,
                                         "accepted": pl.Int64, "quarantined": pl.Int64, "loaded": pl.Utf8})
        out = out.with_columns((pl.col("quarantined") / pl.col("read").clip(1)).alias("quarantine_rate"))
        recs = self.w.cfg.workspace_path / "records" / "records.parquet"
        if recs.is_file():
            fresh = (pl.scan_parquet(recs).group_by("catalog")
                     .agg(pl.col("date").max().alias("newest_record"), pl.col("date").min().alias("oldest_record"))
                     .collect())
            out = out.join(fresh, on="catalog", how="left")
        out = out.sort("source_unit", "catalog")
        self._coverage = (stamp, out)
        return out


def _read_table(data: bytes, filename: str) -> pl.DataFrame:
    """An uploaded CSV (UTF-8, with or without BOM, or GB18030) or XLSX, every column as text."""
    name = filename.lower()
    try:
        if name.endswith((".xlsx", ".xlsm")):
            return pl.read_excel(io.BytesIO(data), engine="openpyxl", infer_schema_length=0)
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DashboardError(f"{filename}: neither UTF-8 nor GB18030 text")
        return pl.read_csv(io.StringIO(text), infer_schema_length=0)
    except DashboardError:
        raise
    except Exception as exc:  # noqa: BLE001 - a user's file: say what is wrong with it
        raise DashboardError(f"{filename}: cannot be read as {'XLSX' if name.endswith('.xlsx') else 'CSV'} ({exc})") from None


def _parse_date(v) -> dt.date | None:
    """A date cell: a date, or text as YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (None when it is not a date)."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    text = str(v or "").strip().replace("/", "-").replace(".", "-")[:10]
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
