#!/usr/bin/env python3
"""OpenAlex entity ingest benchmark (issue 19): many author files, one thread against every core.

Usage: python3 benches/openalex_entities.py [--records 400000] [--files 8] [--runs 3]
                                            [--work DIR] [--json OUT.json]
       (DIR: /tmp/bibflow-openalex-entities)

The input is SYNTHETIC: the author records of tests/fixtures/openalex2026 (written by hand from
OpenAlex's documented Author object, not captured; see its SOURCES.md) copied in turn, each copy
with a new id (A6000000000 + k), into --files gzipped JSON Lines parts under
`data/jsonl/authors/updated_date=2026-06-01/` (no works). It measures, alternating, median of
--runs:

  zcat          `zcat` of every part to /dev/null: the decompression floor on one core
  threads-1     `bibflow ingest openalex DIR/data/jsonl --threads 1`
  threads-all   the same with --threads set to the machine's cores

Before a time is reported, both datasets' `authors` rows must equal --records (the manifest's
count) and the two manifests must agree but for their time stamp. Each stage is a child process
measured with os.wait4 (benches/study_suite.py's `run_child`). Prints Markdown.

Needs a release build (the binary is $BIBFLOW or $CARGO_TARGET_DIR/release/bibflow).
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import scale  # noqa: E402  (binary, machine, git)
from study_suite import run_child  # noqa: E402

FIRST_ID = 6_000_000_000
PLACEHOLDER = "https://openalex.org/A__BIBFLOW_ID__"


def templates():
    src = os.path.join(ROOT, "tests", "fixtures", "openalex2026", "data", "jsonl", "authors")
    out = []
    for dirpath, _, names in sorted(os.walk(src)):
        for name in sorted(names):
            with gzip.open(os.path.join(dirpath, name), "rt") as f:
                for line in f:
                    if line.strip():
                        rec = json.loads(line)
                        rec["id"] = PLACEHOLDER
                        if isinstance(rec.get("ids"), dict):
                            rec["ids"] = dict(rec["ids"], openalex=PLACEHOLDER)
                        out.append(json.dumps(rec).split(PLACEHOLDER))
    return out


def make_input(work, n, files):
    part_dir = os.path.join(work, "data", "jsonl", "authors", "updated_date=2026-06-01")
    meta = os.path.join(work, "input.json")
    desc = {"records": n, "files": files}
    paths = [os.path.join(part_dir, f"part_{i:04}.gz") for i in range(files)]
    if os.path.exists(meta) and json.load(open(meta)) == desc and all(map(os.path.exists, paths)):
        return paths
    shutil.rmtree(os.path.join(work, "data"), ignore_errors=True)
    os.makedirs(part_dir)
    tpl = templates()
    per = -(-n // files)
    for i, p in enumerate(paths):
        with gzip.open(p, "wt", compresslevel=6) as f:
            for k in range(i * per, min(n, (i + 1) * per)):
                f.write(f"https://openalex.org/A{FIRST_ID + k}".join(tpl[k % len(tpl)]) + "\n")
    json.dump(desc, open(meta, "w"))
    return paths


def manifest(ds):
    m = json.load(open(os.path.join(ds, "manifest.json")))
    m.pop("created", None)
    for entry in m.get("inputs", []):
        entry.pop("path", None)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=400_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/bibflow-openalex-entities")
    ap.add_argument("--json")
    args = ap.parse_args()
    bib = scale.binary()
    cores = os.cpu_count() or 1
    os.makedirs(args.work, exist_ok=True)
    paths = make_input(args.work, args.records, args.files)
    snapshot = os.path.join(args.work, "data", "jsonl")
    stages = {
        "zcat": lambda out: ["sh", "-c", "zcat " + " ".join(paths) + " > /dev/null"],
        "threads-1": lambda out: [bib, "--quiet", "ingest", "openalex", snapshot, "--out", out,
                                  "--overwrite", "--threads", "1"],
        f"threads-{cores}": lambda out: [bib, "--quiet", "ingest", "openalex", snapshot, "--out",
                                         out, "--overwrite", "--threads", str(cores)],
    }
    res = {k: [] for k in stages}
    for run in range(args.runs):
        manifests = []
        for name, cmd in stages.items():
            out = os.path.join(args.work, f"ds-{name}")
            r = run_child(cmd(out))
            if r["returncode"] != 0:
                sys.exit(f"{name} failed: {r['stderr']}")
            res[name].append(r)
            if name != "zcat":
                m = manifest(out)
                rows = m["tables"]["authors"]["rows"]
                if rows != args.records:
                    sys.exit(f"{name}: {rows} authors rows, expected {args.records}")
                manifests.append(m)
        if manifests[0] != manifests[1]:
            sys.exit("the two datasets' manifests differ")
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]['wall']:.1f} s" for k, v in res.items()),
              file=sys.stderr)
    gz = sum(os.path.getsize(p) for p in paths)
    zcat = statistics.median(r["wall"] for r in res["zcat"])
    print(f"SYNTHETIC author records (copies of the hand-written fixture records with new ids): "
          f"{args.records:,} records in {args.files} files, {gz / 2**20:.1f} MiB gzipped; "
          f"{scale.machine_text(scale.machine())}; commit {scale.git('rev-parse', '--short', 'HEAD')}; "
          f"median of {args.runs}\n")
    print("| stage | wall (s) | CPU (s) | peak RSS (MiB) | x zcat |")
    print("|---|---|---|---|---|")
    for name, runs in res.items():
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        rss = max(r["rss_mib"] for r in runs)
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {wall / zcat:.2f} |")
    if args.json:
        json.dump({"args": vars(args), "results": res}, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
