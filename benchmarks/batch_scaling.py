"""How a batch scales: the same grid run sequentially, with --jobs 2, and on a Dask LocalCluster of 2 workers.

    python benchmarks/batch_scaling.py                      # 6 points of 05 --preset depth-activation-dropout
    python benchmarks/batch_scaling.py --pinned             # every kernel pinned to one core (a worker per machine)
    python benchmarks/batch_scaling.py --notebook 08 --grid NOISE_FACTOR=0.25,0.5,0.75,1.0 --preset noise

Prints each mode's wall time and its ratio to ``--jobs 1``, and the per-execution overhead (kernel start,
imports, papermill), measured on a notebook that does nothing, which bounds how small a useful grid point can be.
Each mode writes into its own folder under ``--output`` (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GRID = ["HIDDEN_LAYERS=1,2,3", "ACTIVATION=relu,sigmoid"]


def run(label: str, args: list[str], output: Path, env: dict) -> float:
    """Run ``python -m helpers run ARGS --output OUTPUT/label``; return its wall time in seconds."""
    folder = output / label
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "helpers", "run", *args, "--output", str(folder)], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    rows = list(csv.DictReader(open(folder / "summary.csv"))) if (folder / "summary.csv").exists() else []
    statuses = ", ".join(sorted({r["status"] for r in rows})) or f"no summary (exit {done.returncode})"
    print(f"{label:<28} {seconds:7.1f} s   {len(rows)} executions: {statuses}", flush=True)
    if done.returncode not in (0, 1):
        print(done.stderr[-2000:], file=sys.stderr)
    return seconds


def overhead(output: Path, env: dict) -> float:
    """Wall time of one execution of an empty notebook (kernel start, imports, papermill, summary)."""
    import nbformat

    folder = output / "empty_notebook"
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("SEED = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import helpers")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01_empty.ipynb")
    return run("overhead (empty notebook)", ["--notebooks-dir", str(folder)], output, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", default="05")
    parser.add_argument("--preset", default="depth-activation-dropout")
    parser.add_argument("--grid", action="append", default=None, help=f"default: {' '.join(DEFAULT_GRID)}")
    parser.add_argument("--pinned", action="store_true",
                        help="pin the sequential run to one core too, so each mode gives every kernel one core")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    output = args.output or Path(tempfile.mkdtemp(prefix="dlfb-bench-"))
    env = dict(os.environ)
    grid = [x for g in (args.grid or DEFAULT_GRID) for x in ("--grid", g)]
    batch = [args.notebook, "--preset", args.preset, *grid]
    print(f"batch: python -m helpers run {' '.join(batch)}; {os.cpu_count()} cores; output {output}")
    single = overhead(output, env)
    if args.pinned:
        cores = sorted(os.sched_getaffinity(0))
        sequential = run("--jobs 1 (pinned, 1 core)", [*batch], output,
                         {**env, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}) \
            if not hasattr(os, "sched_setaffinity") else _pinned_run(batch, output, env, cores[0])
    else:
        sequential = run("--jobs 1", batch, output, env)
    parallel = run("--jobs 2", [*batch, "--jobs", "2"], output, env)
    dask = run("--scheduler local --jobs 2", [*batch, "--scheduler", "local", "--jobs", "2"], output, env)
    print(f"\nratios to --jobs 1: --jobs 2 {parallel / sequential:.2f}, Dask LocalCluster(2) {dask / sequential:.2f}; "
          f"Dask vs --jobs 2 {dask / parallel:.2f}; per-execution overhead {single:.1f} s")


def _pinned_run(batch: list[str], output: Path, env: dict, core: int) -> float:
    """The sequential run with the runner (and so its kernels) pinned to one core, one thread each."""
    os.sched_setaffinity(0, {core})
    try:
        return run("--jobs 1 (pinned, 1 core)", batch, output,
                   {**env, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"})
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


if __name__ == "__main__":
    main()
