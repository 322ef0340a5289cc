#!/usr/bin/env python3
"""One timed run per query of the UDF bench cases, for cases too slow for criterion at 10M papers.

criterion takes at least 10 samples per query; at 10M papers the plain forms of some cases take
minutes per run (country_shares_full/plain: about 112 s), so a full `cargo bench --bench udfs` at
10M does not fit in a working session. This script runs every variant of the chosen cases of
benches/udfs/cases.sql once in DataFusion (`bibflow sql` over the bench corpus: bibflow's own
session, all functions registered, process start included) and once in DuckDB (plain variants,
after one warm-up run of a cheap query over the same files), checks that every variant of a case
gives the same count(*) and sum(v) (relative 1e-9), and prints a Markdown table. One run each:
read the ratios, not the digits. The corpus is SYNTHETIC (benches/udfs/data.rs); run the criterion
bench once at the same row count first, which writes it.

    export CARGO_TARGET_DIR=$HOME/.cache/bibflow-target
    BIBFLOW=<release bibflow> python3 benches/udfs_oneshot.py --rows 10000000 --cases collab_type,h_index
"""
import argparse, os, subprocess, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb  # noqa: E402
from udfs_duckdb import close, for_bibflow, linked_corpus, parse_cases, timed  # noqa: E402

HERE = Path(__file__).resolve().parent


def bibflow_run(bib, data, sql, timeout):
    sql = for_bibflow(sql)
    t = time.perf_counter()
    r = subprocess.run([bib, "-q", "sql", str(data), timed(sql), "--format", "csv"],
                       capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"bibflow failed:\n{r.stderr}")
    n, s = r.stdout.strip().splitlines()[-1].split(",")
    return wall, int(n), (float(s) if s else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--cases", required=True, help="comma-separated case names")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per DataFusion query")
    args = ap.parse_args()
    bib = os.environ.get("BIBFLOW") or sys.exit("set BIBFLOW to a release bibflow binary")
    data, linked = linked_corpus(args.rows, "udfs-oneshot-")
    wanted = args.cases.split(",")
    cases = {c["name"]: c for c in parse_cases((HERE / "udfs" / "cases.sql").read_text())}
    con = duckdb.connect()
    con.execute(f"CREATE VIEW works AS SELECT * FROM read_parquet('{data}/works/*.parquet')")
    con.execute(f"CREATE VIEW countries AS SELECT * FROM read_parquet('{data}/countries/*.parquet')")
    con.execute("SELECT count(*) FROM works").fetchall()
    print(f"SYNTHETIC corpus, {args.rows:,} papers; one run per query; DuckDB {duckdb.__version__}.\n")
    print("| function (case) | plain variant | UDF, DataFusion (s) | plain, DataFusion (s) | "
          "plain, DuckDB (s) | plain DF / UDF | DuckDB / UDF | target met |")
    print("|---|---|---|---|---|---|---|---|")
    bad = []
    for name in wanted:
        case = cases[name]
        (_, udf_sql), *plains = case["variants"]
        udf_t, n0, s0 = bibflow_run(bib, linked, udf_sql, args.timeout)
        for variant, sql in plains:
            df_t, n1, s1 = bibflow_run(bib, linked, sql, args.timeout)
            t = time.perf_counter()
            n2, s2 = con.execute(timed(sql)).fetchone()
            dk_t = time.perf_counter() - t
            for who, n, s in (("DataFusion", n1, s1), ("DuckDB", n2, s2)):
                if n != n0 or not close(s, s0):
                    bad.append(f"{name}/{variant} in {who}: {n}, {s} against the UDF's {n0}, {s0}")
            met = "yes" if udf_t <= df_t and udf_t <= dk_t else "no"
            print(f"| {name} | {variant} | {udf_t:.2f} | {df_t:.2f} | {dk_t:.2f} | "
                  f"{df_t / udf_t:.2f} | {dk_t / udf_t:.2f} | {met} |", flush=True)
    if bad:
        print("\nDISAGREEMENTS:\n" + "\n".join(bad))
        sys.exit(1)
    print("\nAgreement: every variant gives the UDF's count(*) and sum(v) (relative 1e-9) in both engines.")


if __name__ == "__main__":
    main()
