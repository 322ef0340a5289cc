#!/usr/bin/env python3
"""Study suite benchmark: `bibflow report` against the same suite in plain DuckDB SQL.

Usage: python3 benches/study_suite.py [N ...] [--work DIR] [--runs 3] [--delete]
                                      [--memory-limit 256MiB [--duckdb-memory-limit 128MiB]]
       (default N: 160000 1000000 10000000; DIR: /tmp/bibflow-bench)

With --memory-limit both engines run under a memory limit: bibflow's --memory-limit and DuckDB's
memory_limit setting (--duckdb-memory-limit, default the same). A bibflow run that fails under its
limit is reported as failed (with its error) instead of stopping the benchmark.

For each N: generates a SYNTHETIC corpus once with the release binary (seed 42; reused if
DIR/works-N/manifest.json exists), runs `bibflow report` `--runs` times (suite time from its stderr
line `suite: X s (shared views Y s, ...)`, which excludes file writing; wall time, CPU time and
peak RSS from os.wait4), then the DuckDB suite of benches/study_suite/duckdb_suite.py on the same
Parquet files `--runs` times, each in a fresh child process (time from connect to the last result
fetched as Arrow, the five shared views materialised as TEMP tables first, as bibflow does; peak
RSS from the child's resource.getrusage). Medians are reported.

Then it CHECKS that both agree: every result of the suite (19 report uses, among them
modality_growth counts, country_output papers_fractional, country_impact MNCS and
collaboration_impact) is compared with bibflow's Parquet export (REPORTDIR/data/ID.parquet), rows
matched on their text/integer columns, floats to 1e-6 relative. Disagreements are printed and the
script exits with status 1.

Prints Markdown tables for docs/benchmarks.md. Needs a release build (`cargo build --release
--workspace --locked`); the binary is $BIBFLOW or $CARGO_TARGET_DIR/release/bibflow. Installs
duckdb==2.0.1 and pyarrow with pip if they are missing (pandas is needed too).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "study_suite"))
DUCKDB_VERSION = "2.0.1"


def ensure_packages():
    try:
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
        import pandas  # noqa: F401
        if duckdb.__version__ != DUCKDB_VERSION:
            raise ImportError(duckdb.__version__)
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                        f"duckdb=={DUCKDB_VERSION}", "pyarrow", "pandas"], check=True)


def bibflow_binary():
    bib = os.environ.get("BIBFLOW") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "bibflow")
    if not os.path.exists(bib):
        sys.exit(f"no release binary at {bib}: run cargo build --release --workspace --locked")
    return bib


# ---------------------------------------------------------------------------------------------
# The DuckDB child: python3 study_suite.py --duckdb-child DATASET RESULT.json [EXPORT_DIR]


def duckdb_child(dataset, out_json, export_dir, memory_limit=None):
    import resource
    import duckdb
    import pyarrow.parquet as pq
    import duckdb_suite

    views, queries = duckdb_suite.build(ROOT)
    setup = duckdb_suite.setup_sql(dataset, ROOT)
    times = {}
    results = {}
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    for stmt in setup:
        con.execute(stmt)
    for name, sql in views:
        t = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS\n{sql}")
        times["view:" + name] = time.perf_counter() - t
    views_s = time.perf_counter() - t0
    for rid, sql in queries:
        t = time.perf_counter()
        results[rid] = con.sql(sql).to_arrow_table()
        times[rid] = time.perf_counter() - t
    total = time.perf_counter() - t0
    con.close()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if export_dir:
        os.makedirs(export_dir, exist_ok=True)
        for rid, table in results.items():
            pq.write_table(table, os.path.join(export_dir, rid + ".parquet"))
    with open(out_json, "w") as f:
        json.dump({"total": total, "views": views_s, "times": times, "rss_mib": rss_kib / 1024,
                   "rows": {k: v.num_rows for k, v in results.items()},
                   "duckdb": duckdb.__version__}, f)


# ---------------------------------------------------------------------------------------------


def run_child(cmd, capture_stdout=False, env=None):
    """Runs `cmd` as a child process measured with os.wait4: its wall time (s), CPU time (user +
    system, s), peak RSS (MiB), exit code, stderr and (if asked) stdout. Output goes through
    temporary files, so a child that writes much cannot block on a full pipe."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out if capture_stdout else subprocess.DEVNULL,
                             stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"returncode": p.returncode, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime,
                "rss_mib": ru.ru_maxrss / 1024,
                "stdout": out.read().decode(errors="replace") if capture_stdout else "",
                "stderr": err.read().decode(errors="replace")}


def parse_report_stderr(stderr):
    """The suite time, the views' time, the number of results and each result's and view's time
    (`view:NAME`) from `bibflow report`'s stderr; None if its `suite:` line is missing."""
    m = re.search(r"suite: ([\d.]+) s \(shared views ([\d.]+) s, (\d+) results", stderr)
    if not m:
        return None
    per = {}
    for line in stderr.splitlines():
        pm = re.match(r"\s+(\S+)\s+(\d+) rows\s+([\d.]+) s$", line)
        if pm:
            per[pm.group(1)] = float(pm.group(3))
        vm = re.match(r"\s+view (\S+)\s+([\d.]+) s( \(over the memory limit.*\))?$", line)
        if vm:
            per["view:" + vm.group(1)] = float(vm.group(2))
    return {"suite": float(m.group(1)), "views": float(m.group(2)), "results": int(m.group(3)),
            "times": per}


def run_bibflow(bib, dataset, report_dir, memory_limit=None):
    shutil.rmtree(report_dir, ignore_errors=True)
    limit = ["--memory-limit", memory_limit] if memory_limit else []
    r = run_child([bib, "report", "--dataset", dataset, "--out", report_dir] + limit)
    if r["returncode"] != 0:
        if memory_limit:
            err = next((l for l in r["stderr"].splitlines() if l.startswith("error:")),
                       r["stderr"])
            return {"failed": err, "wall": r["wall"], "rss_mib": r["rss_mib"]}
        sys.exit(f"bibflow report failed:\n{r['stderr']}")
    parsed = parse_report_stderr(r["stderr"])
    if not parsed:
        sys.exit(f"cannot read the suite time from bibflow's stderr:\n{r['stderr']}")
    return {**parsed, "wall": r["wall"], "cpu": r["cpu"], "rss_mib": r["rss_mib"]}


def run_duckdb(dataset, work, export_dir=None, memory_limit=None):
    out = os.path.join(work, "duckdb-run.json")
    r = run_child([sys.executable, os.path.abspath(__file__), "--duckdb-child", dataset, out,
                   export_dir or "", memory_limit or ""])
    if r["returncode"] != 0:
        sys.exit(f"the DuckDB suite failed:\n{r['stderr']}")
    with open(out) as f:
        res = json.load(f)
    res["wall"], res["cpu"] = r["wall"], r["cpu"]
    return res


def compare(rid, bib_path, duck_path, rtol=1e-6):
    """Differences between one result of both engines (empty list when they agree)."""
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(bib_path)
    b = pd.read_parquet(duck_path)
    if list(a.columns) != list(b.columns):
        return [f"columns differ: bibflow {list(a.columns)} DuckDB {list(b.columns)}"]
    if len(a) != len(b):
        return [f"rows differ: bibflow {len(a)} DuckDB {len(b)}"]
    floats = [c for c in a.columns if pd.api.types.is_float_dtype(a[c]) or
              pd.api.types.is_float_dtype(b[c])]
    keys = [c for c in a.columns if c not in floats]
    if keys:
        a = a.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)
        b = b.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)
    diffs = []
    for c in a.columns:
        if c in floats:
            x = a[c].astype(float).to_numpy()
            y = b[c].astype(float).to_numpy()
            ok = np.isclose(x, y, rtol=rtol, atol=1e-12, equal_nan=True)
        else:
            x = a[c].astype(object).where(a[c].notna(), None).to_numpy()
            y = b[c].astype(object).where(b[c].notna(), None).to_numpy()
            ok = np.array([(p is None and q is None) or (p is not None and q is not None and
                           (p == q or str(p) == str(q))) for p, q in zip(x, y)], dtype=bool)
        for i in np.flatnonzero(~ok)[:5]:
            key = {k: a[k][i] for k in keys[:3]}
            diffs.append(f"{c} at {key}: bibflow {x[i]!r} DuckDB {y[i]!r}")
        if (~ok).sum() > 5:
            diffs.append(f"{c}: {(~ok).sum()} rows differ in all")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[160_000, 1_000_000, 10_000_000])
    ap.add_argument("--work", default="/tmp/bibflow-bench")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--delete", action="store_true", help="delete each corpus when done with it")
    ap.add_argument("--memory-limit", help="bibflow's --memory-limit (e.g. 256MiB), and DuckDB's "
                    "memory_limit unless --duckdb-memory-limit is given")
    ap.add_argument("--duckdb-memory-limit", help="DuckDB's memory_limit (e.g. 128MiB)")
    args = ap.parse_args()
    duck_limit = args.duckdb_memory_limit or args.memory_limit
    ensure_packages()
    bib = bibflow_binary()
    os.makedirs(args.work, exist_ok=True)

    rows, per_query, failures, failed_sizes = [], {}, [], []
    for n in args.sizes:
        dataset = os.path.join(args.work, f"works-{n}")
        if not os.path.exists(os.path.join(dataset, "manifest.json")):
            shutil.rmtree(dataset, ignore_errors=True)
            t = time.perf_counter()
            subprocess.run([bib, "--quiet", "generate", "--works", str(n), "--seed", "42",
                            "--out", dataset], check=True)
            print(f"# generated {n:,} works in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        report_dir = os.path.join(args.work, f"report-{n}")
        export_dir = os.path.join(args.work, f"duckdb-{n}")
        bruns, druns = [], []
        for i in range(args.runs):
            bruns.append(run_bibflow(bib, dataset, report_dir, args.memory_limit))
            if "failed" in bruns[-1]:
                print(f"# {n:,} bibflow run {i + 1} FAILED under {args.memory_limit} after "
                      f"{bruns[-1]['wall']:.3f} s, RSS {bruns[-1]['rss_mib']:.0f} MiB: "
                      f"{bruns[-1]['failed']}", file=sys.stderr, flush=True)
            else:
                print(f"# {n:,} bibflow run {i + 1}: suite {bruns[-1]['suite']:.3f} s "
                      f"(views {bruns[-1]['views']:.3f} s), wall {bruns[-1]['wall']:.3f} s, "
                      f"RSS {bruns[-1]['rss_mib']:.0f} MiB", file=sys.stderr, flush=True)
            druns.append(run_duckdb(dataset, args.work, export_dir if i == 0 else None,
                                    duck_limit))
            print(f"# {n:,} DuckDB run {i + 1}: {druns[-1]['total']:.3f} s "
                  f"(views {druns[-1]['views']:.3f} s), RSS {druns[-1]['rss_mib']:.0f} MiB",
                  file=sys.stderr, flush=True)

        med = statistics.median
        if any("failed" in r for r in bruns):
            failed = [r for r in bruns if "failed" in r]
            failures.append((n, "bibflow report", [f"{len(failed)} of {len(bruns)} runs failed "
                                                   f"under {args.memory_limit}: "
                                                   f"{failed[0]['failed']}"]))
            failed_sizes.append(f"- {n:,} works: bibflow failed under {args.memory_limit} "
                                f"({len(failed)} of {len(bruns)} runs; peak RSS up to "
                                f"{max(r['rss_mib'] for r in failed):.0f} MiB): "
                                f"`{failed[0]['failed']}`. DuckDB under {duck_limit}: "
                                f"{med(r['total'] for r in druns):.3f} s, peak RSS "
                                f"{max(r['rss_mib'] for r in druns):.0f} MiB.")
            continue
        b_suite, d_total = med(r["suite"] for r in bruns), med(r["total"] for r in druns)
        rows.append((n, b_suite, med(r["views"] for r in bruns), med(r["wall"] for r in bruns),
                     max(r["rss_mib"] for r in bruns), d_total, med(r["views"] for r in druns),
                     max(r["rss_mib"] for r in druns)))
        names = list(druns[0]["times"])
        per_query[n] = {k: (med(r["times"].get(k, float("nan")) for r in bruns),
                            med(r["times"][k] for r in druns)) for k in names}

        # agreement
        checked = 0
        for rid in druns[0]["rows"]:
            bp = os.path.join(report_dir, "data", rid + ".parquet")
            dp = os.path.join(export_dir, rid + ".parquet")
            if not os.path.exists(bp):
                failures.append((n, rid, ["bibflow wrote no export of this id"]))
                continue
            d = compare(rid, bp, dp)
            checked += 1
            if d:
                failures.append((n, rid, d))
        print(f"# {n:,}: compared {checked} results, "
              f"{sum(1 for f in failures if f[0] == n)} disagree", file=sys.stderr, flush=True)
        if args.delete:
            shutil.rmtree(dataset, ignore_errors=True)

    limits = (f"; memory limits: bibflow {args.memory_limit}, DuckDB {duck_limit}"
              if args.memory_limit else "")
    print(f"\nSYNTHETIC corpora, seed 42, default scenario, `{os.uname().nodename}`, "
          f"{os.cpu_count()} cores; median of {args.runs} runs; DuckDB {DUCKDB_VERSION}{limits}.\n")
    for line in failed_sizes:
        print(line)
    if not rows:
        sys.exit(1)
    print("| works | bibflow suite (s) | of which views (s) | bibflow wall (s) | DuckDB (s) "
          "| of which views (s) | bibflow / DuckDB | bibflow peak RSS (MiB) | DuckDB peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, bs, bv, bw, brss, dt, dv, drss in rows:
        print(f"| {n:,} | {bs:.3f} | {bv:.3f} | {bw:.2f} | {dt:.3f} | {dv:.3f} | {bs / dt:.2f} "
              f"| {brss:.0f} | {drss:.0f} |")
    print("\nPer result (median s). bibflow computes the four independent views at the same time and "
          "runs up to 2-4 queries at a time (one per core), so its per-result times overlap; "
          "DuckDB's are sequential.\n")
    sizes = [r[0] for r in rows]
    print("| result | " + " | ".join(f"bibflow {n:,} | DuckDB {n:,}" for n in sizes) + " |")
    print("|---|" + "---|---|" * len(sizes))
    for k in per_query[sizes[0]]:
        cells = []
        for n in sizes:
            b, d = per_query[n][k]
            cells.append(("-" if b is None else f"{b:.3f}") + f" | {d:.3f}")
        print(f"| {k} | " + " | ".join(cells) + " |")

    if failures:
        print("\n!!!!!!!! DISAGREEMENTS between bibflow and DuckDB !!!!!!!!", file=sys.stderr)
        for n, rid, diffs in failures:
            print(f"!!! {n:,} works, {rid}:", file=sys.stderr)
            for d in diffs[:12]:
                print(f"!!!     {d}", file=sys.stderr)
        sys.exit(1)
    print(f"\nAgreement: all {len(per_query[sizes[0]]) - 5} results of each scale agree "
          f"(floats to 1e-6 relative).")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--duckdb-child":
        duckdb_child(sys.argv[2], sys.argv[3], (sys.argv[4:5] or [""])[0] or None,
                     (sys.argv[5:6] or [""])[0] or None)
    else:
        main()
