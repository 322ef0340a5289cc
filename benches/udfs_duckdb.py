#!/usr/bin/env python3
"""The plain-SQL side of the UDF benches (issue 5) in DuckDB, and the joint table.

Runs every plain variant of benches/udfs/cases.sql in DuckDB over the same Parquet files the
criterion bench (benches/udfs.rs) used, checks that DuckDB's count(*) and sum(v) equal DataFusion's
(relative 1e-9), and prints a Markdown table: the UDF in DataFusion and the plain SQL in DataFusion
(criterion medians, from $CARGO_TARGET_DIR/criterion/CASE/VARIANT/new/estimates.json), the plain
SQL in DuckDB (median of --runs runs after one warm-up run), and their ratios to the UDF.

Run the criterion bench first, at the same row count:

    export CARGO_TARGET_DIR=$HOME/.cache/bibflow-target
    BIBFLOW_BENCH_ROWS=10000000 cargo bench --locked --bench udfs
    python3 benches/udfs_duckdb.py --rows 10000000 --runs 5

Needs `pip install duckdb==2.0.1`. The corpus is SYNTHETIC (benches/udfs/data.rs).
"""

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
DATA_VERSION = 1  # benches/udfs/data.rs VERSION
TOLERANCE = 1e-9


def corpus_dir(rows):
    base = os.environ.get("BIBFLOW_BENCH_DATA")
    if base:
        base = Path(base)
    elif os.environ.get("CARGO_TARGET_DIR"):
        base = Path(os.environ["CARGO_TARGET_DIR"]) / "bench-data"
    else:
        base = Path(tempfile.gettempdir()) / "bibflow-bench-data"
    return base / f"udfs-synthetic-v{DATA_VERSION}-{rows}"


def linked_corpus(rows, prefix):
    """The bench corpus at `rows` papers as a folder `bibflow sql` can open: `bench_works` and
    `countries` linked into a temporary folder (`bibflow sql` gives a folder named `works` the
    canonical works schema; the bench corpus's works table has its own columns). Exits when the
    corpus has not been written yet."""
    data = corpus_dir(rows)
    if not (data / "COMPLETE").exists():
        sys.exit(f"no bench corpus at {data}: run BIBFLOW_BENCH_ROWS={rows} cargo bench --bench udfs")
    linked = Path(tempfile.mkdtemp(prefix=prefix))
    (linked / "bench_works").symlink_to(data / "works")
    (linked / "countries").symlink_to(data / "countries")
    return data, linked


def for_bibflow(sql):
    """A case's SQL over the linked corpus of `linked_corpus`."""
    return re.sub(r"\bworks\b", "bench_works", sql)


def parse_cases(text):
    """Same format as benches/udfs/cases.rs parses."""
    cases = []
    for line in text.splitlines():
        t = line.strip()
        if t.startswith("-- case:"):
            cases.append({"name": t[len("-- case:"):].strip(), "keys": [], "variants": []})
        elif t.startswith("-- keys:"):
            cases[-1]["keys"] = [k.strip() for k in t[len("-- keys:"):].split(",")]
        elif t.startswith("-- variant:"):
            cases[-1]["variants"].append([t[len("-- variant:"):].strip(), ""])
        elif cases and cases[-1]["variants"] and t:
            cases[-1]["variants"][-1][1] += line + "\n"
    return cases


def timed(sql):
    # Same wrapper as benches/udfs/cases.rs `timed`.
    return f"SELECT count(*) AS n, sum(CAST(v AS DOUBLE)) AS s FROM (\n{sql}) q"


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), 1.0)


def criterion_median(target, case, variant, not_before):
    p = Path(target) / "criterion" / case / variant / "new" / "estimates.json"
    if not p.exists():
        return None, f"no criterion estimate {p}"
    if not_before and p.stat().st_mtime < not_before:
        return None, f"{p} is older than the DataFusion run at this row count"
    est = json.loads(p.read_text())
    return est["median"]["point_estimate"] / 1e9, None


def fmt_s(x):
    return "n/a" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def fmt_ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, all cores)")
    ap.add_argument("--json", help="also write the measurements to this JSON file")
    args = ap.parse_args()

    target = os.environ.get("CARGO_TARGET_DIR", str(HERE.parent / "target"))
    data = corpus_dir(args.rows)
    results_path = data / "datafusion-results.json"
    if not (data / "COMPLETE").exists() or not results_path.exists():
        sys.exit(f"no bench corpus with DataFusion results at {data}: run "
                 f"BIBFLOW_BENCH_ROWS={args.rows} cargo bench --locked --bench udfs first")
    df_results = json.loads(results_path.read_text())
    cases = parse_cases((HERE / "udfs" / "cases.sql").read_text())
    if args.cases:
        wanted = set(args.cases.split(","))
        cases = [c for c in cases if c["name"] in wanted]

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    works = str(data / "works" / "*.parquet")
    con.execute(f"CREATE VIEW works AS SELECT * FROM read_parquet('{works}')")
    countries = str(data / "countries" / "*.parquet")
    con.execute(f"CREATE VIEW countries AS SELECT * FROM read_parquet('{countries}')")

    print(f"# SYNTHETIC corpus: {args.rows:,} papers ({data}); DuckDB {duckdb.__version__}, "
          f"{threads} threads, median of {args.runs} runs; DataFusion: criterion medians",
          file=sys.stderr)
    rows_out = []
    problems = []
    for case in cases:
        name = case["name"]
        dfr = df_results.get(name)
        if dfr is None:
            problems.append(f"{name}: not in {results_path} (run the criterion bench for it)")
            continue
        not_before = dfr.get("started_at")
        udf_s, why = criterion_median(target, name, "udf", not_before)
        if why:
            problems.append(f"{name}: {why}")
        for variant, sql in case["variants"][1:]:
            q = timed(sql)
            con.execute(q).fetchall()  # warm-up (and the file metadata cache)
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                n, s = con.execute(q).fetchone()
                times.append(time.perf_counter() - t)
            want = dfr["variants"][variant]
            if n != want["n"] or not close(s, want["sum"]):
                problems.append(f"{name}/{variant}: DuckDB gives count {n} sum {s}, DataFusion "
                                f"{want['n']} {want['sum']}")
            duck = statistics.median(times)
            plain_s, why = criterion_median(target, name, variant, not_before)
            if why:
                problems.append(f"{name}/{variant}: {why}")
            row = {"case": name, "variant": variant, "udf_datafusion_s": udf_s,
                   "plain_datafusion_s": plain_s, "plain_duckdb_s": duck,
                   "duckdb_runs_s": times, "rows_out": n}
            rows_out.append(row)
            print(f"{name}/{variant}: DuckDB {duck:.3f} s", file=sys.stderr)

    print(f"| function (case) | plain variant | UDF, DataFusion (s) | plain, DataFusion (s) "
          f"| plain, DuckDB (s) | plain DF / UDF | DuckDB / UDF | target met |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows_out:
        u, p, d = r["udf_datafusion_s"], r["plain_datafusion_s"], r["plain_duckdb_s"]
        met = "n/a" if None in (u, p, d) else ("yes" if u <= p and u <= d else "no")
        print(f"| {r['case']} | {r['variant']} | {fmt_s(u)} | {fmt_s(p)} | {fmt_s(d)} "
              f"| {fmt_ratio(p, u)} | {fmt_ratio(d, u)} | {met} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": args.rows, "duckdb": duckdb.__version__,
                                               "threads": threads, "runs": args.runs,
                                               "results": rows_out}, indent=2))
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
