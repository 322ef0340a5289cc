#!/usr/bin/env python3
"""UDF bench cases timed in rounds that interleave DataFusion and DuckDB, for ratios on a noisy machine.

This project's machines are shared: between two runs a few minutes apart the same query has taken
36 ms and 70 ms. criterion (benches/udfs.rs) and DuckDB (benches/udfs_duckdb.py) run one after the
other, minutes apart, so their ratio carries that drift. Here every round times, back to back, the
UDF variant and each plain variant in DataFusion (`bibflow sql --repeat R`: one process, R runs,
its median; bibflow's own session with every function registered) and each plain variant in
DuckDB (R runs in this process after one warm-up, their median), and the ratios are taken within
the round. The table gives, per case and plain variant, the median over rounds of each ratio and
its range. Every variant's count(*) and sum(v) must equal the UDF's (relative 1e-9).

The corpus is SYNTHETIC (benches/udfs/data.rs); run the criterion bench once at the same row count
first, which writes it. BIBFLOW may be the portable release binary or one built for this CPU
(`RUSTFLAGS="-C target-cpu=native"`, README "Development"); say which beside the table. With
`--baseline BIN` each round also times the UDF with a second bibflow binary, for a build against
build comparison in the same rounds.

    export CARGO_TARGET_DIR=$HOME/.cache/bibflow-target
    BIBFLOW=$CARGO_TARGET_DIR/release/bibflow python3 benches/udfs_interleaved.py \\
        --rows 10000000 --rounds 7 --repeat 5 --cases window_complete,is_citable
"""
import argparse, os, re, statistics, subprocess, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb  # noqa: E402
from udfs_duckdb import close, for_bibflow, linked_corpus, parse_cases, timed  # noqa: E402

HERE = Path(__file__).resolve().parent
MEDIAN = re.compile(r"^median of \d+ runs: ([0-9.]+) s", re.M)


def bibflow_median(bib, data, sql, repeat):
    """Median of `repeat` runs in one `bibflow sql` process, and the result's (n, sum)."""
    sql = for_bibflow(sql)
    r = subprocess.run([bib, "-q", "sql", str(data), timed(sql), "--format", "csv",
                        "--repeat", str(repeat)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bibflow failed:\n{r.stderr}")
    m = MEDIAN.search(r.stderr)
    if not m:
        sys.exit(f"no timing in bibflow's stderr:\n{r.stderr}")
    n, s = r.stdout.strip().splitlines()[-1].split(",")
    return float(m.group(1)), int(n), (float(s) if s else None)


def duckdb_median(con, sql, repeat):
    con.execute(timed(sql)).fetchone()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        n, s = con.execute(timed(sql)).fetchone()
        times.append(time.perf_counter() - t)
    return statistics.median(times), n, s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--cases", required=True, help="comma-separated case names")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=5, help="runs per query per round and engine")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    ap.add_argument("--baseline", metavar="BIN",
                    help="a second bibflow binary (e.g. the portable build when BIBFLOW is the native "
                         "one): its UDF time is taken in the same rounds and compared with BIBFLOW's")
    args = ap.parse_args()
    if args.repeat < 2:
        # `bibflow sql --repeat 1` is a plain run and prints no timing.
        ap.error("--repeat must be at least 2")
    bib = os.environ.get("BIBFLOW") or sys.exit("set BIBFLOW to a release bibflow binary")
    data, linked = linked_corpus(args.rows, "udfs-interleaved-")
    cases = {c["name"]: c for c in parse_cases((HERE / "udfs" / "cases.sql").read_text())}
    unknown = [c for c in args.cases.split(",") if c not in cases]
    if unknown:
        sys.exit(f"unknown cases {unknown}; known: {', '.join(cases)}")
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"CREATE VIEW works AS SELECT * FROM read_parquet('{data}/works/*.parquet')")
    con.execute(f"CREATE VIEW countries AS SELECT * FROM read_parquet('{data}/countries/*.parquet')")

    rows, bad = [], []
    for name in args.cases.split(","):
        (_, udf_sql), *plains = cases[name]["variants"]
        per = {v: {"udf": [], "df": [], "dk": [], "base": []} for v, _ in plains}
        for r in range(args.rounds):
            for variant, sql in plains:
                udf_t, n0, s0 = bibflow_median(bib, linked, udf_sql, args.repeat)
                df_t, n1, s1 = bibflow_median(bib, linked, sql, args.repeat)
                dk_t, n2, s2 = duckdb_median(con, sql, args.repeat)
                checks = [("DataFusion", n1, s1), ("DuckDB", n2, s2)]
                if args.baseline:
                    base_t, n3, s3 = bibflow_median(args.baseline, linked, udf_sql, args.repeat)
                    checks.append(("the baseline binary", n3, s3))
                    per[variant]["base"].append(base_t)
                for who, n, s in checks:
                    if n != n0 or not close(s, s0):
                        bad.append(f"{name}/{variant} in {who}: {n}, {s} against the UDF's {n0}, {s0}")
                p = per[variant]
                p["udf"].append(udf_t); p["df"].append(df_t); p["dk"].append(dk_t)
                print(f"round {r + 1}/{args.rounds} {name}/{variant}: UDF {udf_t:.4f} s, "
                      f"plain DataFusion {df_t:.4f} s, DuckDB {dk_t:.4f} s", file=sys.stderr, flush=True)
        for variant, p in per.items():
            rdf = [d / u for d, u in zip(p["df"], p["udf"])]
            rdk = [d / u for d, u in zip(p["dk"], p["udf"])]
            rows.append((name, variant, p, rdf, rdk))

    print(f"SYNTHETIC corpus, {args.rows:,} papers; {args.rounds} rounds, each the median of "
          f"{args.repeat} runs per query and engine; DuckDB {duckdb.__version__}, {args.threads} threads.\n")
    print("| function (case) | plain variant | UDF, DataFusion (s) | plain, DataFusion (s) | "
          "plain, DuckDB (s) | plain DF / UDF (range) | DuckDB / UDF (range) | rounds UDF faster than DuckDB | target met |")
    print("|---|---|---|---|---|---|---|---|---|")
    med = statistics.median
    for name, variant, p, rdf, rdk in rows:
        wins = sum(1 for x in rdk if x >= 1.0)
        met = "yes" if med(rdf) >= 1.0 and med(rdk) >= 1.0 else "no"
        print(f"| {name} | {variant} | {med(p['udf']):.4f} | {med(p['df']):.4f} | {med(p['dk']):.4f} | "
              f"{med(rdf):.2f} ({min(rdf):.2f}-{max(rdf):.2f}) | {med(rdk):.2f} ({min(rdk):.2f}-{max(rdk):.2f}) | "
              f"{wins} of {len(rdk)} | {met} |")
    if args.baseline:
        print(f"\nThe UDF in the same rounds with BIBFLOW={bib} and --baseline {args.baseline}:\n")
        print("| function (case) | plain variant's round | UDF, BIBFLOW (s) | UDF, baseline (s) | "
              "baseline / BIBFLOW (range) | rounds BIBFLOW faster |")
        print("|---|---|---|---|---|---|")
        for name, variant, p, _, _ in rows:
            rb = [b / u for b, u in zip(p["base"], p["udf"])]
            print(f"| {name} | {variant} | {med(p['udf']):.4f} | {med(p['base']):.4f} | "
                  f"{med(rb):.2f} ({min(rb):.2f}-{max(rb):.2f}) | {sum(1 for x in rb if x >= 1.0)} of {len(rb)} |")
    if bad:
        print("\nDISAGREEMENTS:\n" + "\n".join(bad))
        sys.exit(1)
    print("\nAgreement: every variant gives the UDF's count(*) and sum(v) (relative 1e-9) in both engines.")


if __name__ == "__main__":
    main()
