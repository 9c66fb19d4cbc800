"""How a batch scales: one grid run sequentially and on 2 workers, pinned and unpinned, and on Dask.

    python benchmarks/batch_scaling.py          # 6 points of 05 --preset depth-activation-dropout (about 11 min)
    python benchmarks/batch_scaling.py --notebook 05 --grid HIDDEN_LAYERS=1,2 -p EPOCHS=1   # a quick try-out

Modes, each a separate ``python -m helpers run`` of the same grid into its own folder under ``--output``:

- ``overhead``: one execution of a notebook that only imports helpers (kernel start, imports, papermill,
  summary): it bounds how small a useful grid point can be;
- ``pinned --jobs 1``: the runner and its kernels pinned to one core, one thread (a worker per machine);
- ``--jobs 2``: two workers, each pinned to its own core (what ``--jobs 2`` does on 2 cores);
- ``unpinned --jobs 1``: sequential, every kernel free to use all cores;
- ``Dask LocalCluster(2)``: ``--scheduler local --jobs 2``, each worker pinned to its own core.

Targets (issue 13): ``--jobs 2`` <= 0.55 x pinned ``--jobs 1`` (the scaling a second machine gives);
``--jobs 2`` no slower than unpinned ``--jobs 1``; Dask within 10 % of ``--jobs 2``. The script prints one
table at the end; run it on an otherwise idle machine (other work on the cores changes every figure).
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
DEFAULT_PARAMS = ["DROPOUT_RATE=0.5"]  # the preset's grid also varies DROPOUT_RATE: fixed here, 6 points
ONE_THREAD = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


def run(label: str, args: list[str], output: Path, env: dict, core: int | None = None) -> dict:
    """Run ``python -m helpers run ARGS --output OUTPUT/<folder>`` (pinned to ``core`` when given);
    return its wall time, the executions' summed wall time and their statuses."""
    folder = output / "".join(ch if ch.isalnum() else "_" for ch in label)
    command = [sys.executable, "-m", "helpers", "run", *args, "--output", str(folder)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          preexec_fn=(lambda: os.sched_setaffinity(0, {core})) if core is not None else None)
    seconds = time.perf_counter() - start
    rows = list(csv.DictReader(open(folder / "summary.csv"))) if (folder / "summary.csv").exists() else []
    statuses = ", ".join(sorted({r["status"] for r in rows})) or f"no summary (exit {done.returncode})"
    if done.returncode not in (0, 1):
        print(done.stderr[-2000:], file=sys.stderr)
    executions = sum(float(r["wall_time_s"] or 0) for r in rows)
    print(f"  {label:<26} {seconds:7.1f} s  ({len(rows)} executions: {statuses})", flush=True)
    return {"label": label, "seconds": seconds, "executions": len(rows), "execution_seconds": executions,
            "statuses": statuses}


def overhead(output: Path, env: dict) -> dict:
    """One execution of a notebook that only imports helpers: kernel start, imports, papermill, summary."""
    import nbformat

    folder = output / "empty_notebook"
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("SEED = 0", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import helpers\nhelpers.setup()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "01_empty.ipynb")
    return run("overhead (empty notebook)", ["--notebooks-dir", str(folder)], output, env)


def table(results: dict[str, dict], load: tuple[float, float]) -> str:
    """The one table: each mode's wall time, its ratio to pinned --jobs 1 and to unpinned --jobs 1."""
    pinned, unpinned, jobs2 = (results[k]["seconds"] for k in ("pinned", "unpinned", "jobs2"))
    lines = [f"{'mode':<34} {'wall s':>8} {'x pinned jobs 1':>16} {'x unpinned jobs 1':>18}   executions"]
    for key, r in results.items():
        ratio = "" if key == "overhead" else f"{r['seconds'] / pinned:.2f}"
        ratio2 = "" if key == "overhead" else f"{r['seconds'] / unpinned:.2f}"
        lines.append(f"{r['label']:<34} {r['seconds']:8.1f} {ratio:>16} {ratio2:>18}   {r['executions']} "
                     f"({r['statuses']})")
    dask = results["dask"]["seconds"]
    per_run = results["overhead"]["seconds"]
    lines += ["",
              f"targets: --jobs 2 / pinned --jobs 1 = {jobs2 / pinned:.2f} (<= 0.55: "
              f"{'met' if jobs2 / pinned <= 0.55 else 'NOT met'}); --jobs 2 / unpinned --jobs 1 = {jobs2 / unpinned:.2f} "
              f"(<= 1.00: {'met' if jobs2 <= unpinned else 'NOT met'}); Dask / --jobs 2 = {dask / jobs2:.2f} "
              f"(<= 1.10: {'met' if dask <= 1.10 * jobs2 else 'NOT met'})",
              f"per-execution overhead (kernel start, imports, papermill, summary): {per_run:.1f} s; "
              f"load average before / after: {load[0]:.2f} / {load[1]:.2f}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", default="05")
    parser.add_argument("--preset", default="depth-activation-dropout")
    parser.add_argument("--grid", action="append", default=None, help=f"default: {' '.join(DEFAULT_GRID)}")
    parser.add_argument("-p", "--param", action="append", default=None, help=f"default: {' '.join(DEFAULT_PARAMS)}")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        sys.exit("needs Linux and at least 2 cores (pinning to one core each)")
    output = args.output or Path(tempfile.mkdtemp(prefix="dlfb-bench-"))
    env = dict(os.environ)
    batch = [args.notebook, "--preset", args.preset]
    batch += [x for g in (args.grid or DEFAULT_GRID) for x in ("--grid", g)]
    batch += [x for p in (args.param or DEFAULT_PARAMS) for x in ("-p", p)]
    core = min(os.sched_getaffinity(0))
    load_before = os.getloadavg()[0]
    print(f"batch: python -m helpers run {' '.join(batch)}; {len(os.sched_getaffinity(0))} cores; output {output}")
    results = {
        "overhead": overhead(output, env),
        "pinned": run("pinned --jobs 1 (1 core)", batch, output, {**env, **ONE_THREAD}, core=core),
        "jobs2": run("--jobs 2 (a core each)", [*batch, "--jobs", "2"], output, env),
        "unpinned": run("unpinned --jobs 1 (all cores)", batch, output, env),
        "dask": run("Dask LocalCluster(2), a core each", [*batch, "--scheduler", "local", "--jobs", "2"], output, env),
    }
    print()
    print(table(results, (load_before, os.getloadavg()[0])))


if __name__ == "__main__":
    main()
