#!/usr/bin/env python3
"""Runs the code cells of a Jupyter notebook in order, in one namespace, as Jupyter would (without
needing Jupyter). Usage: run_notebook.py NOTEBOOK (BIBFLOW_REPORT set to a report folder)."""

import json
import sys

nb = json.load(open(sys.argv[1]))
ns = {"__name__": "__main__"}
for i, cell in enumerate(nb["cells"]):
    if cell["cell_type"] != "code":
        continue
    src = "".join(cell["source"])
    try:
        exec(compile(src, f"{sys.argv[1]}:cell{i}", "exec"), ns)
    except Exception as e:  # noqa: BLE001 - report which cell failed
        print(f"cell {i} failed: {e!r}\n{src}", file=sys.stderr)
        sys.exit(1)
print(f"ran {sum(c['cell_type'] == 'code' for c in nb['cells'])} code cells")
