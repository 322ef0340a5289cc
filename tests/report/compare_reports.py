#!/usr/bin/env python3
"""Compares the Parquet exports of two bibflow reports (or any two folders of Parquet files), as a
notebook would read them with pyarrow: the same files, the same columns and types, the same rows
(in any order), numbers equal to 1e-9 relative. Prints one line per difference and a summary;
exits 1 on any difference. Usage: compare_reports.py DIR_A DIR_B"""

import math
import sys
from pathlib import Path

import pyarrow.parquet as pq


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def key(row):
    """A sort key that ignores the last digits of floats (which differ from run to run)."""
    return repr([round(v, 6) if isinstance(v, float) and not math.isnan(v) else v for v in row.values()])


def main(a: Path, b: Path) -> int:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*.parquet"))
    files_b = sorted(p.relative_to(b) for p in b.rglob("*.parquet"))
    if not files_a:
        print(f"no Parquet files under {a}")
        return 1
    bad = 0
    if files_a != files_b:
        print(f"different files: only in {a}: {sorted(set(files_a) - set(files_b))}; "
              f"only in {b}: {sorted(set(files_b) - set(files_a))}")
        bad += 1
    for rel in sorted(set(files_a) & set(files_b)):
        ta, tb = pq.read_table(a / rel), pq.read_table(b / rel)
        if ta.schema != tb.schema:
            print(f"{rel}: schema {ta.schema} != {tb.schema}")
            bad += 1
            continue
        if ta.num_rows != tb.num_rows:
            print(f"{rel}: {ta.num_rows} rows != {tb.num_rows}")
            bad += 1
            continue
        ra = sorted(ta.to_pylist(), key=key)
        rb = sorted(tb.to_pylist(), key=key)
        diffs = [(x, y) for x, y in zip(ra, rb) if not same(x, y)]
        if diffs:
            print(f"{rel}: {len(diffs)} rows differ, first: {diffs[0][0]} != {diffs[0][1]}")
            bad += 1
    print(f"{len(files_a)} Parquet files compared, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
