"""Generate a synthetic city: catalogs, loader specs and ground truth in one folder.

Layout of the output folder::

    generator.json            what was generated (marks the folder as generator output)
    mr_reg.csv, ...           the catalogs, each in its source's format and encoding
    specs/MR_REG.toml, ...    one loader spec per catalog (file = "../mr_reg.csv")
    truth/mentions.parquet    the true entity of every party of every row, with noise tags
    truth/entities.parquet, relationships.parquet, shell_clusters.parquet, violators.parquet

The folder is written to a temporary sibling and renamed into place at the end, so a
failed run leaves the previous output untouched.

What the truth tables mean:

* ``mentions``: one row per party of every data row (``source_row`` is 1-based, header not
  counted; ``role`` subject/object). ``noise`` lists what was done to that party's text
  (see :data:`credgraph.synth.noise.NOISE_TAGS`; ``duplicate`` marks the repeated copy, not
  the first occurrence). ``hard_case``: ``branch`` = the entity is a branch or has branches
  (names nearly equal, entities different); ``same_brand_other_industry`` = another firm
  uses the same brand (字号) in another trade (a group's subsidiaries, a famous brand);
  ``same_name_person`` = another person has exactly this name. Random brands never
  collide, so every shared brand is one of these planted cases.
* ``entities``: the clean canonical record of each entity (``industry`` is the GB/T 4754
  sector; ``registered_capital`` in 10k CNY; ``district`` of registration or residence).
* ``relationships``: ``src`` holds / represents / serves / is a branch of / registered
  ``dst``; ``role`` is the officer's title, 法定代表人/负责人, or ``nominee`` for shares
  held on someone else's behalf.
* ``shell_clusters``: one row per member; ``shared`` lists what the whole cluster shares
  (address, phone, agent, legal_rep). Members also have capital <= 10 (10k CNY), no insured
  staff, registration dates within 10 days, and often an abnormal-operations entry.
* ``violators``: live firms a spot check would find at fault, drawn from the latent risk
  (see :mod:`credgraph.synth.world`), not from the visible records.

Catalog MR_AGENT (登记代理信息, agent -> firm) is added to the briefing's catalog table so
that AGENT_OF links have a source. MR_REG rows are entity records that also name the legal
representative as their object (relation legal_rep_of).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import polars as pl

from credgraph.atomic import atomic_dir
from credgraph.synth import vocab
from credgraph.synth.catalogs import CATALOGS, Catalog
from credgraph.synth.noise import NOISE_TAGS, NoiseText, bit, render_party, tags_strings
from credgraph.synth.regimes import DEFAULT_REGIME, draw_regime
from credgraph.synth.output import MentionWriter, XLSX_MAX_ROWS, open_sink, spec_toml, to_series
from credgraph.synth.foreign import FOREIGN_SHARE
from credgraph.synth.world import HARD_TAGS, REL_NAMES, World, build_world, rng_for

__all__ = ["generate_city", "CitySummary", "OutputDirError", "MANIFEST", "GENERATOR", "check_output_dir"]

MANIFEST = "generator.json"
GENERATOR = "credgraph.synth"
#: Rows of world (entities or relationship rows) per random stream; fixed so that the output
#: does not depend on ``chunk_rows``.
BLOCK = 16_384

Progress = Callable[[str, int, int], None]


class OutputDirError(ValueError):
    """The output folder exists, is not empty, and was not written by the generator."""


@dataclass
class CitySummary:
    """What :func:`generate_city` wrote."""

    out: Path
    entities: int
    seed: int
    noise: float
    counts: dict[str, int] = field(default_factory=dict)  # catalog code -> data rows
    files: dict[str, Path] = field(default_factory=dict)  # catalog code -> catalog file
    specs: dict[str, Path] = field(default_factory=dict)  # catalog code -> spec file
    truth: dict[str, Path] = field(default_factory=dict)  # table name -> parquet file
    mentions: int = 0

    @property
    def records(self) -> int:
        """Total data rows over all catalogs."""
        return sum(self.counts.values())

    @property
    def total_records(self) -> int:
        """Same as :attr:`records`."""
        return self.records


def check_output_dir(out: Path) -> None:
    """Refuse a folder that exists, is not empty and is not a previous generator output."""
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputDirError(f"{out} exists and is not a folder")
    if not any(out.iterdir()):
        return
    manifest = out / MANIFEST
    try:
        ok = json.loads(manifest.read_text(encoding="utf-8")).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise OutputDirError(
            f"{out} is not empty and is not the output of `credgraph generate` (no {MANIFEST}); "
            "choose an empty or new folder"
        )


def _effective(cat: Catalog, world: World) -> Catalog:
    # XLSX holds at most ~1M rows; very large cities get those catalogs as UTF-8 CSV instead.
    if cat.format == "xlsx" and world.n * 0.2 > XLSX_MAX_ROWS:
        return dataclasses.replace(cat, format="csv", encoding="utf-8", file=cat.file.replace(".xlsx", ".csv"))
    return cat


def _blocks(cat: Catalog, world: World) -> list[tuple[int, int]]:
    if cat.scope == "legal":
        lo, hi = 0, world.n_legal
    elif cat.scope == "all":
        lo, hi = 0, world.n
    else:
        lo, hi = 0, len(world.rel_rows(cat.scope))
    out = []
    # Blocks of legal and natural persons never mix, so each block is one kind of row source.
    cuts = sorted({lo, hi, *range(lo, hi, BLOCK)} | ({world.n_legal} if cat.scope == "all" else set()))
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b > a:
            out.append((a, b))
    return out


def _hard_strings(world: World) -> np.ndarray:
    cache = world.__dict__.get("_hard_strings")
    if cache is None:
        cache = tags_strings(world.hard, HARD_TAGS)
        world._hard_strings = cache
    return cache


def render_block(world: World, cat: Catalog, base: dict, rng: np.random.Generator, scale: float,
                 text: NoiseText, row_offset: int) -> tuple[pl.DataFrame, list[dict]]:
    """Turn one block of true rows into file rows (with noise and duplicates) and their mentions."""
    subj = np.asarray(base["subj"], dtype=np.int64)
    n = len(subj)
    obj = np.asarray(base["obj"], dtype=np.int64) if cat.object is not None else None
    cols = base["cols"]
    if "sort" in base and n:
        order = np.argsort(base["sort"], kind="stable")
        subj = subj[order]
        obj = obj[order] if obj is not None else None
        cols = {k: np.asarray(v)[order] for k, v in cols.items()}
    s_cols, s_bits = render_party(world, subj, cat.subject, lambda k: cat.rate("subject", k, scale), rng, text)
    o_cols, o_bits = {}, None
    if cat.object is not None:
        o_cols, o_bits = render_party(world, obj, cat.object, lambda k: cat.rate("object", k, scale), rng, text)
    # Duplicate rows: the same row reported again a little later in the file.
    dup = np.flatnonzero(rng.random(n) < cat.rate("row", "duplicate", scale))
    later = np.minimum(dup + rng.integers(0, 30, len(dup)), max(n - 1, 0))
    key = np.concatenate([np.arange(n) * 2, later * 2 + 1])
    order = np.argsort(key, kind="stable")
    idx = np.concatenate([np.arange(n), dup])[order]
    is_dup = np.concatenate([np.zeros(n, bool), np.ones(len(dup), bool)])[order]
    data = []
    for col in cat.columns:
        if col in s_cols:
            v = s_cols[col]
        elif col in o_cols:
            v = o_cols[col]
        else:
            v = cols[col]
        data.append(to_series(col, np.asarray(v)[idx], cat.date_style))
    frame = pl.DataFrame(data)
    rows = row_offset + 1 + np.arange(len(idx), dtype=np.int64)
    dup_bit = np.where(is_dup, bit("duplicate"), 0)
    hard = _hard_strings(world)
    m = len(idx)
    mentions = [{
        "source_file": np.full(m, cat.file, dtype=object),
        "source_row": rows,
        "role": np.full(m, "subject", dtype=object),
        "entity_id": world.entity_id[subj[idx]],
        "noise": tags_strings(s_bits[idx] | dup_bit),
        "hard_case": hard[subj[idx]],
    }]
    if obj is not None:
        oi = obj[idx]
        has = oi >= 0
        mentions.append({
            "source_file": np.full(int(has.sum()), cat.file, dtype=object),
            "source_row": rows[has],
            "role": np.full(int(has.sum()), "object", dtype=object),
            "entity_id": world.entity_id[oi[has]],
            "noise": tags_strings((o_bits[idx] | dup_bit)[has]),
            "hard_case": hard[oi[has]],
        })
    return frame, mentions


def _write_catalog(world: World, cat: Catalog, out: Path, scale: float, chunk_rows: int, mw: MentionWriter,
                   tick: Callable[[], None]) -> int:
    sink = open_sink(out / cat.file, cat.format, cat.encoding, cat.columns)
    text = NoiseText(cat.encoding if cat.format != "xlsx" else "utf-8")
    frames: list[pl.DataFrame] = []
    mentions: list[dict] = []
    buffered = 0
    rows = 0
    try:
        for bi, (lo, hi) in enumerate(_blocks(cat, world)):
            rng = rng_for(world.seed, "catalog", cat.code, bi)
            base = cat.build(world, rng, lo, hi)
            frame, ment = render_block(world, cat, base, rng, scale, text, rows)
            rows += frame.height
            if frame.height:
                frames.append(frame)
                # Subject mentions then object mentions, per block: keep the file's row order.
                mentions.extend(ment)
                buffered += frame.height
            if buffered >= chunk_rows:
                sink.write(pl.concat(frames))
                mw.write(_row_order(mentions))
                frames, mentions, buffered = [], [], 0
            tick()
        if frames or rows == 0:
            sink.write(pl.concat(frames) if frames else _empty(cat))
            mw.write(_row_order(mentions))
    finally:
        sink.close()
    return rows


def _row_order(parts: list[dict]) -> list[dict]:
    """Mentions sorted by (row, subject before object) within a flush."""
    if not parts:
        return []
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((cols["role"] != "subject", cols["source_row"]))
    return [{k: v[order] for k, v in cols.items()}]


def _empty(cat: Catalog) -> pl.DataFrame:
    return pl.DataFrame({c: pl.Series(c, [], dtype=pl.Utf8) for c in cat.columns})


def _write_truth(world: World, out: Path) -> dict[str, Path]:
    L, P = world.n_legal, world.n_natural
    d_names = np.array([d[1] for d in vocab.DISTRICTS], dtype=object)

    def col(legal_values, natural_values=None):
        a = np.full(L + P, None, dtype=object)
        a[:L] = legal_values
        if natural_values is not None:
            a[L:] = natural_values
        return [None if v is None or v == "" else v for v in a]

    par = np.full(L, None, dtype=object)
    hasp = world.parent >= 0
    par[hasp] = world.entity_id[world.parent[hasp]]
    birth = np.full(L + P, np.datetime64("NaT"), dtype="datetime64[D]")
    birth[L:] = world.birth
    est = np.full(L + P, np.datetime64("NaT"), dtype="datetime64[D]")
    est[:L] = world.est
    capital = np.full(L + P, np.nan)
    capital[:L] = world.capital
    entities = pl.DataFrame({
        "entity_id": world.entity_id.tolist(),
        "type": ["legal"] * L + ["natural"] * P,
        "name": world.names.tolist(),
        "uscc": col(world.uscc),
        "org_code": col(world.org_code),
        "reg_no": col(world.reg_no),
        "id_number": col(None, world.id18),
        "passport": col(None, world.passport),
        "nationality": col(None, np.where(world.foreign, world.nationality, "CN")),
        "parent_id": col(par),
        "district": col(d_names[world.district], d_names[world.pdistrict]),
        "address": col(world.address),
        "phone": col(world.phone, world.pphone),
        "birth_date": pl.Series(birth).cast(pl.Date),
        "sex": col(None, np.where(world.male, "M", "F")),
        "legal_form": col(world.legal_form),
        "industry": col(world.sector),
        "brand": col(world.brand),
        "registered_capital": pl.Series(capital).fill_nan(None),
        "est_date": pl.Series(est).cast(pl.Date),
    })
    rel = pl.DataFrame({
        "src_id": world.entity_id[world.rel_src].tolist(),
        "dst_id": world.entity_id[world.rel_dst].tolist(),
        "relation": np.asarray(REL_NAMES, dtype=object)[world.rel_type].tolist(),
        "ratio": pl.Series(world.rel_ratio).fill_nan(None),
        "role": [r or None for r in world.rel_role],
    })
    shared = {c: ",".join(kinds) for c, kinds in world.clusters}
    members = np.flatnonzero(world.shell >= 0)
    shells = pl.DataFrame({
        "cluster_id": pl.Series(world.shell[members], dtype=pl.Int64),
        "entity_id": world.entity_id[members].tolist(),
        "shared": [shared[int(c)] for c in world.shell[members]],
    }).sort(["cluster_id", "entity_id"])
    v = np.flatnonzero(world.violation != "")
    violators = pl.DataFrame({"entity_id": world.entity_id[v].tolist(), "violation": world.violation[v].tolist()},
                             schema={"entity_id": pl.Utf8, "violation": pl.Utf8})
    paths = {}
    for name, frame in (("entities", entities), ("relationships", rel), ("shell_clusters", shells),
                        ("violators", violators)):
        path = out / "truth" / f"{name}.parquet"
        frame.write_parquet(path, compression="zstd", statistics=True)
        paths[name] = path
    return paths


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def generate_city(out: Path, entities: int, seed: int, noise: float = 1.0, chunk_rows: int = 100_000,
                  progress: Progress | None = None, legal_share: float = 0.45,
                  rates: Mapping[str, Mapping[str, float]] | None = None, name_noise: float = 0.0,
                  regime: str = DEFAULT_REGIME, foreign_share: float = FOREIGN_SHARE) -> CitySummary:
    """Write a synthetic Shenzhen-like city into ``out``; the same arguments give the same bytes.

    ``entities`` counts legal and natural persons (``legal_share`` of them legal); each gives
    about 4 catalog rows. ``noise`` scales every catalog's noise rates (0 = clean). Raises
    :class:`OutputDirError` when ``out`` is a non-empty folder that the generator did not write.
    ``progress(step, done, total)`` is called as the work advances. ``rates`` overrides
    catalogs' noise rates: ``{"MR_REG": {"missing_id": 0.1, "object.legacy_id": 0.0}}``
    (see :func:`credgraph.synth.catalogs.parse_rates`). ``name_noise`` turns on realistic person-name
    noise in every catalog, each kind of :data:`~credgraph.synth.catalogs.NAME_NOISE_KINDS` at that rate
    (before ``rates``, which may override it). ``regime`` names how shells are planted and
    violations arise (``synth/regimes.toml``; raises :class:`~credgraph.synth.regimes.RegimeError`
    when unknown); its drawn parameters go into the manifest. ``foreign_share`` of the natural persons
    are foreign nationals with Latin names and passports (:mod:`credgraph.synth.foreign`).
    """
    out = Path(out)
    if noise < 0:
        raise ValueError("noise must be >= 0")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be >= 1")
    if not 0 <= name_noise <= 1:
        raise ValueError("name_noise must lie in [0, 1]")
    if not 0 <= foreign_share <= 1:
        raise ValueError("foreign_share must lie in [0, 1]")
    rates = {k: dict(v) for k, v in (rates or {}).items()}
    if name_noise:
        from credgraph.synth.catalogs import NAME_NOISE_KINDS

        for c in CATALOGS:
            rates[c.code] = {**{k: name_noise for k in NAME_NOISE_KINDS}, **rates.get(c.code, {})}
    for code, table in rates.items():
        known = {c.code for c in CATALOGS}
        if code not in known:
            raise ValueError(f"noise rates for unknown catalog {code!r}")
        for key, value in table.items():
            if key.rsplit(".", 1)[-1] not in NOISE_TAGS or not 0 <= float(value) <= 1:
                raise ValueError(f"noise rate {code}.{key}={value!r}: unknown kind or not in [0, 1]")
    drawn = draw_regime(regime, seed)  # fails on an unknown regime before anything is written
    check_output_dir(out)
    report = progress or (lambda *_: None)
    summary = CitySummary(out=out, entities=entities, seed=seed, noise=noise)
    with atomic_dir(out) as tmp:
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the output is an ordinary folder
        report("building the city", 0, 1)
        world = build_world(entities, seed, legal_share=legal_share, regime=drawn, foreign_share=foreign_share)
        cats = [_effective(c, world) for c in CATALOGS]
        cats = [dataclasses.replace(c, noise={**c.noise, **rates[c.code]}) if c.code in rates else c for c in cats]
        total = sum(len(_blocks(c, world)) for c in cats) + 2
        done = 1
        report("building the city", done, total)
        (tmp / "specs").mkdir()
        (tmp / "truth").mkdir()
        mw = MentionWriter(tmp / "truth" / "mentions.parquet")
        try:
            for cat in cats:
                def tick(cat=cat):
                    nonlocal done
                    done += 1
                    report(f"writing {cat.file}", done, total)

                summary.counts[cat.code] = _write_catalog(world, cat, tmp, noise, chunk_rows, mw, tick)
                spec = spec_toml(cat, f"../{cat.file}", cat.format, cat.encoding)
                (tmp / "specs" / f"{cat.code}.toml").write_text(spec, encoding="utf-8")
                summary.files[cat.code] = out / cat.file
                summary.specs[cat.code] = out / "specs" / f"{cat.code}.toml"
        finally:
            mw.close()
        summary.mentions = mw.rows
        report("writing ground truth", done, total)
        truth = _write_truth(world, tmp)
        summary.truth = {k: out / "truth" / p.name for k, p in truth.items()} | {
            "mentions": out / "truth" / "mentions.parquet"}
        manifest = {
            "generator": GENERATOR,
            "format": 1,
            "entities": entities,
            "legal_persons": world.n_legal,
            "natural_persons": world.n_natural,
            "seed": seed,
            "noise": noise,
            "legal_share": legal_share,
            "foreign_share": foreign_share,
            "rates": {k: dict(v) for k, v in sorted(rates.items())},
            "regime": world.regime,
            "records": summary.records,
            "mentions": summary.mentions,
            "catalogs": {c.code: {"file": c.file, "format": c.format, "encoding": c.encoding,
                                  "spec": f"specs/{c.code}.toml", "rows": summary.counts[c.code]} for c in cats},
            "truth": sorted(p.name for p in truth.values()) + ["mentions.parquet"],
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
        report("done", total, total)
    return summary
