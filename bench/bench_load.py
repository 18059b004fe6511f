"""Benchmark of `credgraph load`: rows per second and peak memory on a large catalog.

Makes a shareholder catalog (relationship: company <- shareholder person) of
``--rows`` rows with realistic noise: valid and invalid USCCs (some letter-first,
some full-width), valid, 15-digit, masked and invalid ID numbers, ratios and
dates in all accepted spellings, amounts with units, a few empty rows. Then loads
it in a fresh child process and reports rows/s and the child's peak RSS.

    .venv/bin/python bench/bench_load.py                      # 1,000,000 rows, CSV UTF-8
    .venv/bin/python bench/bench_load.py --format jsonl --rows 300000
    .venv/bin/python bench/bench_load.py --encoding gbk

By default the catalogs come from the synthetic-city generator
(``credgraph.synth.generate_city``: 15 catalogs in CSV UTF-8/GBK/GB18030, TSV,
XLSX and JSON lines, with its noise), sized to about ``--rows`` rows;
``--source simple`` uses the single-file generator of this script instead
(``--format`` and ``--encoding`` choose its file type).

Targets (the issue): >= 100,000 rows/s and <= 2 GB peak RSS at 1M rows.
Wall time depends on what else the machine runs; the CPU seconds are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DIVISIONS = ["440300", "440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310", "440311"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰")
BRANDS = ["华强", "腾飞", "宏图", "新科", "海纳", "鹏程", "粤海", "南山", "前海", "天健", "中兴", "创维"]
INDUSTRIES = ["电子", "科技", "贸易", "物流", "建筑", "餐饮", "医药", "文化", "投资", "咨询"]
FORMS = ["有限公司", "有限责任公司", "股份有限公司"]

SPEC = """code = "MR_SHAREHOLDER"
name = "股东及出资"
source_unit = "市场监管局"
kind = "relationship"
file = "{file}"
format = "{fmt}"
{encoding}
required = ["subject_name"]

[columns]
subject_name = "企业名称"
subject_uscc = "统一社会信用代码"
object_name = "股东名称"
object_id_number = "股东证件号码"
capital = "认缴出资额"
ratio = "持股比例"
date = "出资日期"
object_address = "住所"

[constants]
subject_type = "legal"
object_type = "natural"
relation = "shareholder_of"
"""


def _pick(rng, items, n):
    return np.asarray(items, dtype=object)[rng.integers(0, len(items), n)]


def _usccs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid USCCs, computed with the standards' check characters over all rows at once."""
    first = np.where(rng.random(n) < 0.03, rng.choice(list("5YN"), n), "9")  # a few letter-first codes
    second = np.where(first == "9", rng.choice(list("123"), n), "1")
    division = _pick(rng, DIVISIONS, n)
    org_vals = rng.integers(0, 10, (n, 8))
    org_w = np.array([3, 7, 9, 10, 5, 8, 4, 2])
    r = 11 - (org_vals * org_w).sum(1) % 11
    org_check = np.where(r == 10, "X", np.where(r == 11, "0", r.astype(str)))
    org = np.array(["".join(map(str, row)) for row in org_vals], dtype=object) + org_check
    first17 = first.astype(object) + second.astype(object) + division + org
    lut = {c: i for i, c in enumerate(USCC_ALPHABET)}
    m = np.array([[lut[c] for c in s] for s in first17])
    w = np.array([pow(3, i, 31) for i in range(17)])
    check = (31 - (m * w).sum(1) % 31) % 31
    return first17 + np.array(list(USCC_ALPHABET), dtype=object)[check]


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    born = np.datetime64("1950-01-01") + rng.integers(0, 365 * 50, n).astype("timedelta64[D]")
    ymd = np.datetime_as_string(born).astype(object)
    digits = np.array([s.replace("-", "") for s in ymd], dtype=object)
    region = _pick(rng, ["440301", "440303", "440304", "110105", "430102"], n)
    seq = np.char.zfill(rng.integers(0, 1000, n).astype(str), 3).astype(object)
    first17 = region + digits + seq
    m = np.array([[ord(c) - 48 for c in s] for s in first17])
    w = np.array([pow(2, 17 - i, 11) for i in range(17)])
    check = np.array(list("10X98765432"), dtype=object)[(m * w).sum(1) % 11]
    return first17 + check


def make_frame(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    uscc = _usccs(rng, n)
    u = rng.random(n)
    uscc = np.where(u < 0.02, [s[:17] + ("1" if s[17] != "1" else "2") for s in uscc], uscc)  # bad check
    fw = str.maketrans({chr(48 + i): chr(0xFF10 + i) for i in range(10)})
    uscc = np.where((u >= 0.02) & (u < 0.03), [s.translate(fw) for s in uscc], uscc)  # full-width digits
    good = _ids(rng, n)
    v = rng.random(n)
    ids = np.where(v < 0.01, [s[:6] + s[8:17] for s in good], good)  # legacy 15-digit
    ids = np.where((v >= 0.01) & (v < 0.04), [s[:6] + "********" + s[14:] for s in good], ids)  # masked
    ids = np.where((v >= 0.04) & (v < 0.05), [s[:16] + str((int(s[16]) + 1) % 10) + s[17] for s in good], ids)
    ratio = rng.integers(1, 10000, n) / 10000
    r = rng.random(n)
    ratio_text = np.where(
        r < 0.4, np.char.add((ratio * 100).round(2).astype(str), "%"), np.where(r < 0.8, ratio.astype(str), (ratio * 100).round(2).astype(str))
    )
    ratio_text = np.where(r > 0.995, "120%", ratio_text)
    day = np.datetime64("2000-01-01") + rng.integers(0, 8000, n).astype("timedelta64[D]")
    iso = np.datetime_as_string(day)
    d = rng.random(n)
    y, mo, dd = (np.char.lstrip(np.array([s.split("-")[k] for s in iso]), "0") for k in range(3))
    dates = np.where(
        d < 0.5, iso, np.where(d < 0.7, [s.replace("-", "") for s in iso],
                               np.where(d < 0.9, np.char.add(np.char.add(np.char.add(np.char.add(y, "/"), mo), "/"), dd),
                                        np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(y, "年"), mo), "月"), dd), "日")))
    )
    dates = np.where(d > 0.998, "2021-02-30", dates)
    capital = (rng.integers(1, 100000, n) / 10).astype(str)
    capital = np.where(rng.random(n) < 0.3, np.char.add(capital, "万元"), capital)
    names = _pick(rng, ["深圳市"], n) + _pick(rng, BRANDS, n) + _pick(rng, INDUSTRIES, n) + _pick(rng, FORMS, n)
    people = _pick(rng, SURNAMES, n) + _pick(rng, GIVEN, n) + np.where(rng.random(n) < 0.5, _pick(rng, GIVEN, n), "")
    frame = pl.DataFrame(
        {
            "企业名称": names.astype(str),
            "统一社会信用代码": uscc.astype(str),
            "股东名称": people.astype(str),
            "股东证件号码": ids.astype(str),
            "认缴出资额": capital.astype(str),
            "持股比例": ratio_text.astype(str),
            "出资日期": dates.astype(str),
            "住所": ("深圳市南山区科技园" + rng.integers(1, 999, n).astype(str).astype(object) + "号").astype(str),
            "联系电话": ("1380013" + np.char.zfill(rng.integers(0, 9999, n).astype(str), 4).astype(object)).astype(str),
            "备注": _pick(rng, ["", "变更", "新设", "转让"], n).astype(str),
        }
    )
    empty = rng.random(n) < 0.001
    return frame.with_columns(
        [pl.when(pl.lit(pl.Series(empty))).then(pl.lit("")).otherwise(pl.col(c)).alias(c) for c in frame.columns]
    )


def write_catalog(out: Path, rows: int, fmt: str, encoding: str | None, seed: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    ext = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}[fmt]
    data = out / f"shareholders-{rows}-{seed}{'-' + encoding if encoding else ''}.{ext}"
    if not data.exists():
        t0 = time.perf_counter()
        tmp = data.with_suffix(".part")
        chunk = 250_000
        starts = list(enumerate(range(0, rows, chunk)))
        if fmt == "parquet":
            pl.concat([make_frame(min(chunk, rows - s), seed + i) for i, s in starts]).write_parquet(tmp)
        else:
            with open(tmp, "wb") as f:  # chunk by chunk, so the generator's memory stays small
                for i, start in starts:
                    frame = make_frame(min(chunk, rows - start), seed + i)
                    text = frame.write_csv(include_header=(i == 0)) if fmt == "csv" else frame.write_ndjson()
                    f.write(text.encode(encoding or "utf-8"))
        tmp.rename(data)
        print(f"generated {rows:,} rows in {time.perf_counter() - t0:.1f} s -> {data}")
    spec = out / f"{data.stem}.toml"
    enc = f'encoding = "{encoding}"' if encoding else ""
    spec.write_text(SPEC.format(file=data.name, fmt=fmt, encoding=enc), encoding="utf-8")
    return spec


def child(spec: Path, workspace: Path) -> None:
    """The measured run: a fresh process that only loads."""
    from credgraph.loaders import load_specs

    t0 = time.perf_counter()
    c0 = time.process_time()
    report = load_specs([spec], workspace, batch="bench")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(json.dumps({"seconds": seconds, "cpu": cpu, "files": len(report.files), "read": report.read, "accepted": report.accepted,
                      "quarantined": report.quarantined, "problems": report.files[0].problems if report.files else {}}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv")
    ap.add_argument("--encoding", default=None, help="write the file in this encoding and declare it (e.g. gbk)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "out")
    ap.add_argument("--source", choices=["synth", "simple"], default="synth", help="where the catalogs come from")
    ap.add_argument("--child", nargs=2, metavar=("SPEC", "WORKSPACE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return

    if args.source == "synth":
        from credgraph.synth import generate_city

        entities = max(-(-args.rows * 10 // 42), 100)  # the generator writes about 4.23 rows per entity
        raw = args.out / f"city-{entities}-{args.seed}"
        if not (raw / "specs").exists():
            t0 = time.perf_counter()
            summary = generate_city(raw, entities=entities, seed=args.seed)
            print(f"generated a city of {entities:,} entities, {summary.records:,} rows in {time.perf_counter() - t0:.1f} s -> {raw}")
        spec = raw / "specs"
    else:
        spec = write_catalog(args.out, args.rows, args.format, args.encoding, args.seed)
    workspace = args.out / "workspace"
    if workspace.exists():
        import shutil

        shutil.rmtree(workspace)
    load = os.getloadavg()
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", str(spec), str(workspace)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        print(done.stdout, done.stderr, sep="\n")
        sys.exit(done.returncode)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    rate = result["read"] / result["seconds"]
    print(f"rows read      {result['read']:,} (accepted {result['accepted']:,}, quarantined {result['quarantined']:,})")
    print(f"files          {result['files']}; problems of the first: {result['problems']}")
    print(f"load time      {result['seconds']:.2f} s wall, {result['cpu']:.2f} s CPU (process wall {wall:.2f} s)")
    print(f"per CPU second {result['read'] / result['cpu']:,.0f} rows")
    print(f"throughput     {rate:,.0f} rows/s   (target >= 100,000)")
    print(f"peak RSS       {peak_mb:,.0f} MB      (target <= 2,048 at 1M rows)")
    print(f"cores          {os.cpu_count()} (load average before the run: {load[0]:.1f})")


if __name__ == "__main__":
    main()
