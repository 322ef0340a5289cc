#!/usr/bin/env python3
"""Generator benchmark: `bibflow generate --format parquet` at several corpus sizes.

Usage: python3 benches/generate_scale.py [N ...]   (default: 1000000 10000000)
Needs a release build; the binary is $BIBFLOW or $CARGO_TARGET_DIR/release/bibflow.
Prints a markdown table (wall time, works/s, peak RSS, output size) for docs/benchmarks.md.
The corpora are SYNTHETIC.
"""
import os, shutil, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sizes = [int(a) for a in sys.argv[1:]] or [1_000_000, 10_000_000]
bib = os.environ.get("BIBFLOW") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target")), "release", "bibflow")
if not os.path.exists(bib):
    sys.exit(f"no release binary at {bib}: run cargo build --release --locked")

def du(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)

print(f"SYNTHETIC corpora, seed 1, default scenario, `{os.uname().nodename}`, {os.cpu_count()} cores.\n")
print("| works | wall (s) | works/s | peak RSS (MiB) | Parquet (MB) |")
print("|---|---|---|---|---|")
for n in sizes:
    tmp = tempfile.mkdtemp(prefix="bibflow-gen-")
    out = os.path.join(tmp, "corpus")
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", bib, "--quiet", "generate", "--works", str(n),
                        "--seed", "1", "--out", out], stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(r.stderr)
    rss = int(r.stderr.strip().splitlines()[-1]) / 1024
    print(f"| {n:,} | {wall:.1f} | {n / wall:,.0f} | {rss:.0f} | {du(out) / 1e6:,.0f} |", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
