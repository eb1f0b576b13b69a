#!/usr/bin/env python3
"""Rampart reads Parquet as pyarrow (the reference C++ implementation)
writes it, in every shape that matters to its page checks, and the other
way round.

    /tmp/peers/bin/python interop/parquet_interop.py RAMPART

pyarrow -> rampart: one table (numbers with nulls, a category-like string
column, long strings, booleans) written with each codec Rampart reads
(none, snappy, gzip, zstd), data pages v1 and v2, dictionaries on and
off, tiny pages (hundreds of pages a column), tiny dictionary pages (a
fallback to plain mid-chunk), many row groups, statistics off, page
indexes on. For each file `rampart data profile` must succeed and give
the row count, every column's null count, and each numeric column's
mean (to 1e-9, relative) that pyarrow computes from the same file.

rampart -> pyarrow: `rampart data filter` rewrites a Parquet file by a
`data poison` report that names no row (its rows are all distinct), and
pyarrow must read back the same table.

Exit 0 when every case passes.
"""
import json
import math
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

RAMPART = sys.argv[1] if len(sys.argv) > 1 else "target/release/rampart"
ROWS = 20_000


def table():
    rng = np.random.default_rng(7)
    x = rng.normal(3.0, 2.0, ROWS)
    n = rng.integers(-50, 50, ROWS)
    nulls = rng.random(ROWS) < 0.1
    cats = np.array(["red", "green", "blue", "cyan"])[rng.integers(0, 4, ROWS)]
    long = ["v" * (i % 300) + str(i) for i in range(ROWS)]
    return pa.table({
        "x": pa.array(np.where(nulls, np.nan, x), mask=nulls),
        "n": pa.array(n, type=pa.int64()),
        "i32": pa.array(n.astype(np.int32), type=pa.int32()),
        "f32": pa.array(x.astype(np.float32), type=pa.float32()),
        "cat": pa.array(cats),
        "long": pa.array(long),
        "flag": pa.array(rng.random(ROWS) < 0.3),
    })


CASES = {
    "plain-none": dict(compression="none", use_dictionary=False),
    "snappy": dict(compression="snappy"),
    "gzip": dict(compression="gzip"),
    "zstd": dict(compression="zstd"),
    "v2-pages": dict(data_page_version="2.0"),
    "v2-zstd-no-dict": dict(data_page_version="2.0", compression="zstd", use_dictionary=False),
    "v2-gzip": dict(data_page_version="2.0", compression="gzip"),
    "tiny-pages": dict(data_page_size=512),
    "tiny-dictionary-pages": dict(dictionary_pagesize_limit=256),
    "many-row-groups": dict(row_group_size=1000),
    "no-statistics": dict(write_statistics=False),
    "page-index": dict(write_page_index=True),
    "byte-stream-split": dict(use_dictionary=["cat"], column_encoding={"x": "BYTE_STREAM_SPLIT", "f32": "BYTE_STREAM_SPLIT"}),
}


def profile(path, out):
    r = subprocess.run([RAMPART, "data", "profile", str(path), "-o", str(out)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(out.read_text()), ""


def compare(t, prof):
    problems = []
    if prof["rows"] != t.num_rows:
        problems.append(f"rows {prof['rows']} != {t.num_rows}")
    by_name = {c["name"]: c for c in prof["summary"]}
    for name in t.column_names:
        col = t.column(name)
        c = by_name.get(name)
        if c is None:
            problems.append(f"column {name} missing")
            continue
        if c["nulls"] != col.null_count:
            problems.append(f"{name}: nulls {c['nulls']} != {col.null_count}")
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            want = pc.mean(col.cast(pa.float64())).as_py()
            got = c.get("mean")
            if got is None or not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                problems.append(f"{name}: mean {got} != {want}")
    return problems


def main():
    t = table()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        for case, options in CASES.items():
            path = d / f"{case}.parquet"
            pq.write_table(t, path, **options)
            meta = pq.ParquetFile(path).metadata
            prof, err = profile(path, d / f"{case}.json")
            problems = [err] if prof is None else compare(t, prof)
            pages = f"{meta.num_row_groups} row groups, {path.stat().st_size} bytes"
            if problems:
                failed += 1
                print(f"FAIL pyarrow -> rampart {case} ({pages}): {'; '.join(problems)}")
            else:
                passed += 1
                print(f"ok   pyarrow -> rampart {case} ({pages})")
        # Codecs Rampart leaves out: refused, named, with what to do.
        for codec in ["brotli", "lz4"]:
            path = d / f"{codec}.parquet"
            pq.write_table(t, path, compression=codec)
            r = subprocess.run([RAMPART, "data", "profile", str(path), "-o", str(d / "b.json")],
                               capture_output=True, text=True)
            if r.returncode == 2 and f"compressed with {codec}" in r.stderr:
                passed += 1
                print(f"ok   pyarrow -> rampart {codec}: refused (exit 2), naming the codec")
            else:
                failed += 1
                print(f"FAIL pyarrow -> rampart {codec}: exit {r.returncode} {r.stderr.strip()[:300]}")
        # rampart -> pyarrow: a rewrite with nothing to drop.
        src = d / "snappy.parquet"
        report = d / "empty-report.json"
        r = subprocess.run([RAMPART, "data", "poison", str(src), "--json"],
                           capture_output=True, text=True)
        out = d / "rewritten.parquet"
        if r.returncode in (0, 1):
            report.write_text(r.stdout)
            r = subprocess.run([RAMPART, "data", "filter", str(src), str(out),
                                "--drop-findings", str(report)],
                               capture_output=True, text=True)
        if r.returncode == 0 and out.exists() and pq.read_table(out).equals(pq.read_table(src)):
            passed += 1
            print("ok   rampart -> pyarrow: a rewritten file reads back equal")
        else:
            failed += 1
            print(f"FAIL rampart -> pyarrow: exit {r.returncode} {r.stderr.strip()[:300]}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
