#!/usr/bin/env python3
"""Reads every Parquet export of a bibflow report with pyarrow (as a notebook would) and checks it
against the CSV export of the same result: same columns in the same order, same number of rows,
and the same values (numbers to 1e-9 relative). Prints one JSON line per file; exits 1 on any
mismatch. Usage: check_exports.py REPORT_DIR"""

import json
import math
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq


def same(a, b):
    if pd.isna(a) and pd.isna(b):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a) == str(b)


def main(report: Path) -> int:
    files = sorted((report / "data").glob("*.parquet"))
    if not files:
        print(f"no Parquet exports in {report / 'data'}", file=sys.stderr)
        return 1
    bad = 0
    for f in files:
        table = pq.read_table(f)
        df = table.to_pandas()
        csv = pd.read_csv(f.with_suffix(".csv"), keep_default_na=True)
        problems = []
        if list(df.columns) != list(csv.columns):
            problems.append(f"columns {list(df.columns)} != CSV {list(csv.columns)}")
        if len(df) != len(csv):
            problems.append(f"{len(df)} rows != CSV {len(csv)}")
        if not problems:
            for col in df.columns:
                for i, (a, b) in enumerate(zip(df[col], csv[col])):
                    if not same(a, b):
                        problems.append(f"{col} row {i}: {a!r} != CSV {b!r}")
                        break
        print(json.dumps({
            "file": f.name,
            "rows": table.num_rows,
            "columns": table.schema.names,
            "types": [str(t) for t in table.schema.types],
            "problems": problems,
        }))
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
