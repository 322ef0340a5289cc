#!/usr/bin/env python3
"""Scale benchmark (issue 20, first version): every stage of bibflow at several corpus sizes.

Usage: python3 benches/scale.py [N ...] [--runs 3] [--work DIR] [--memory-limit 2GiB]
                                [--json OUT.json]
       (default N: 100000 1000000 10000000; 10^8 only when asked; DIR: /tmp/bibflow-scale)

For each N, on SYNTHETIC corpora (seed 42) generated once into DIR:

  generate            `bibflow generate --works N` (Parquet dataset)
  generate-openalex   `bibflow generate --format openalex-jsonl` (the ingest input, gzipped)
  zcat-openalex       `zcat` of every part of that snapshot to /dev/null: the decompression floor
  ingest-openalex     `bibflow ingest openalex` of that snapshot (all tables, one pass)
  duckdb-openalex     DuckDB `read_json` of the same parts into `works` Parquet (works alone)
  generate-pubmed     `bibflow generate --format pubmed-xml`
  zcat-pubmed         `zcat` of the PubMed files: the floor
  ingest-pubmed       `bibflow ingest pubmed` of them
  report              `bibflow report` over the Parquet dataset (every saved query)

Each stage is a child process; its wall time, CPU time (user + system, from wait4), peak RSS
(ru_maxrss; a process smaller than this Python interpreter, such as zcat, shows the interpreter's
size, about 37 MiB, as its floor) and bytes read and written (sizes of its input and output files;
the DuckDB stage includes starting Python and importing duckdb) are recorded, the
median of `--runs` runs (generate stages run once: they make the inputs). Before a peer's time is
reported its result is checked against bibflow's: DuckDB's `works` row count must equal the works
bibflow ingested (both from the same files). The study suite against DuckDB, with all 19 results
compared, is benches/study_suite.py (one copy of DuckDB's SQL, benches/study_suite/duckdb_suite.py).

Writes a JSON result file (default DIR/scale.json) and prints a Markdown table per N.
Not yet: per-query timings (the report's stderr has them), pubmed_parser as a peer (see
benches/pubmed_ingest.py), regenerating docs/benchmarks.md, 10^8 end to end.

Needs a release build (`cargo build --release --workspace --locked`); the binary is $BIBFLOW or
$CARGO_TARGET_DIR/release/bibflow. DuckDB: `pip install duckdb`.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def binary():
    b = os.environ.get("BIBFLOW") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "bibflow")
    if not os.path.exists(b):
        sys.exit(f"no release binary at {b}: run cargo build --release --workspace --locked")
    return b


def size(paths):
    total = 0
    for p in paths:
        if os.path.isfile(p):
            total += os.path.getsize(p)
        else:
            for d, _, fs in os.walk(p):
                total += sum(os.path.getsize(os.path.join(d, f)) for f in fs)
    return total


def measure(cmd, inputs, outputs, stdout=subprocess.DEVNULL, env=None):
    """Runs `cmd`; returns wall, cpu, peak RSS (MiB), bytes in and out. Fails loudly."""
    for o in outputs:
        if os.path.isdir(o):
            shutil.rmtree(o)
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode(errors="replace")
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "peak_rss_mib": ru.ru_maxrss / 1024,
        "bytes_read": size(inputs),
        "bytes_written": size(outputs),
        "stderr": err,
    }


def median_of(runs, fn):
    results = [fn() for _ in range(runs)]
    keys = ["wall_s", "cpu_s", "peak_rss_mib", "bytes_read", "bytes_written"]
    out = {k: statistics.median(r[k] for r in results) for k in keys}
    out["runs"] = runs
    out["walls"] = [r["wall_s"] for r in results]
    out["stderr"] = results[-1]["stderr"]
    return out


def duckdb_works(parts, out):
    """DuckDB read_json of the parts into one works Parquet file; prints its row count."""
    code = (
        "import duckdb, sys, json\n"
        "parts, out = json.loads(sys.argv[1]), sys.argv[2]\n"
        "con = duckdb.connect()\n"
        "con.execute('SET enable_progress_bar = false')\n"
        "con.execute(f\"COPY (SELECT * FROM read_json({parts!r}, format='newline_delimited', "
        "union_by_name=true, maximum_object_size=268435456)) TO '{out}' (FORMAT parquet)\")\n"
        "print(con.execute(f\"SELECT count(*) FROM '{out}'\").fetchone()[0])\n"
    )
    return [sys.executable, "-c", code, json.dumps(parts), out]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="*", type=int, default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/bibflow-scale")
    ap.add_argument("--memory-limit", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    try:
        import duckdb  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--user", "duckdb"],
                       check=True)
    bib = binary()
    limit = ["--memory-limit", args.memory_limit] if args.memory_limit else []
    os.makedirs(args.work, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    result = {"commit": commit, "machine": os.uname().nodename, "cores": os.cpu_count(),
              "memory_limit": args.memory_limit, "scales": {}}
    for n in args.n:
        w = os.path.join(args.work, f"n{n}")
        os.makedirs(w, exist_ok=True)
        ds, oa, pm = (os.path.join(w, x) for x in ("dataset", "openalex", "pubmed"))
        stages = {}

        def once(name, cmd, inputs, outputs):
            stages[name] = measure(cmd, inputs, outputs)
            stages[name]["runs"] = 1
            print(f"# {n:,} {name}: {stages[name]['wall_s']:.2f} s", file=sys.stderr)

        def timed(name, cmd, inputs, outputs, stdout=subprocess.DEVNULL):
            stages[name] = median_of(args.runs, lambda: measure(cmd, inputs, outputs, stdout))
            print(f"# {n:,} {name}: {stages[name]['walls']}", file=sys.stderr)

        seed = ["--seed", "42", "--works", str(n)]
        once("generate", [bib, "--quiet", "generate", *seed, "--out", ds], [], [ds])
        once("generate-openalex",
             [bib, "--quiet", "generate", *seed, "--format", "openalex-jsonl", "--out", oa],
             [], [oa])
        parts = sorted(glob.glob(os.path.join(oa, "**", "*.gz"), recursive=True))
        timed("zcat-openalex", ["zcat", *parts], parts, [])
        oa_out = os.path.join(w, "ingested-openalex")
        timed("ingest-openalex", [bib, "ingest", "openalex", oa, "--out", oa_out, "--overwrite"],
              parts, [oa_out])
        ingested = json.load(open(os.path.join(oa_out, "manifest.json")))["tables"]
        bib_works = next(t["rows"] for t in ingested if t["name"] == "works") \
            if isinstance(ingested, list) else ingested["works"]["rows"]
        duck_out = os.path.join(w, "duckdb-works.parquet")
        r = subprocess.run(duckdb_works(parts, duck_out), capture_output=True, text=True)
        if r.returncode != 0 or int((r.stdout.split() or ["-1"])[-1]) != bib_works:
            got = (r.stdout.split() or ["?"])[-1]
            sys.exit(f"DuckDB read {got} works, bibflow {bib_works}: not equal, no times reported"
                     f"\n{r.stderr[-2000:]}")
        timed("duckdb-openalex", duckdb_works(parts, duck_out), parts, [duck_out])
        once("generate-pubmed",
             [bib, "--quiet", "generate", *seed, "--format", "pubmed-xml", "--out", pm], [], [pm])
        xml = sorted(glob.glob(os.path.join(pm, "**", "*.xml.gz"), recursive=True))
        timed("zcat-pubmed", ["zcat", *xml], xml, [])
        pm_out = os.path.join(w, "ingested-pubmed")
        timed("ingest-pubmed", [bib, "ingest", "pubmed", pm, "--out", pm_out, "--overwrite"],
              xml, [pm_out])
        rep = os.path.join(w, "report")
        timed("report", [bib, "report", "--dataset", ds, "--out", rep, *limit], [ds], [rep])
        for s in stages.values():
            s.pop("stderr", None)
        result["scales"][str(n)] = {"works": n, "openalex_works_ingested": bib_works,
                                    "stages": stages}
        print(f"\nSYNTHETIC corpus of {n:,} works (seed 42), commit {commit}, "
              f"{os.cpu_count()} cores, median of {args.runs} runs (generate: 1)\n")
        print("| stage | wall (s) | CPU (s) | peak RSS (MiB) | read (MB) | written (MB) |")
        print("|---|---|---|---|---|---|")
        for name, s in stages.items():
            print(f"| {name} | {s['wall_s']:.2f} | {s['cpu_s']:.2f} | {s['peak_rss_mib']:.0f} | "
                  f"{s['bytes_read'] / 1e6:.1f} | {s['bytes_written'] / 1e6:.1f} |")
        zo, io_ = stages["zcat-openalex"]["wall_s"], stages["ingest-openalex"]["wall_s"]
        print(f"\ningest-openalex / zcat floor: {io_ / zo:.2f}; ingest-openalex (all tables) / "
              f"DuckDB read_json (works alone): {io_ / stages['duckdb-openalex']['wall_s']:.2f}; "
              f"ingest-pubmed / zcat floor: "
              f"{stages['ingest-pubmed']['wall_s'] / stages['zcat-pubmed']['wall_s']:.2f}")
    out = args.json or os.path.join(args.work, "scale.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"\nresults: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
