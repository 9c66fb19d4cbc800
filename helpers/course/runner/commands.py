"""The ``run`` and ``list`` commands: execute the course notebooks with papermill and summarise the results.

Command line (see ``python -m helpers --help``; the parser is :mod:`helpers.course.cli`'s)::

    python -m helpers list                                   # notebooks, their parameters and defaults
    python -m helpers run                                    # every notebooks/NN_*.ipynb, in order
    python -m helpers run 03 05_mlp -p EPOCHS 1 -p SEED=7    # chosen notebooks, overridden parameters
    python -m helpers run 05 --grid ACTIVATION=relu,tanh --grid EPOCHS=1,3   # 4 executions
    python -m helpers run --params-file params.yaml --output runs/smoke --overwrite
    python -m helpers run 05 --preset tutorial               # the tutorial's own settings (helpers.course.presets)

Each execution writes into the output folder (default ``runs/<YYYYmmdd-HHMMSS>`` under the current
directory, which must not exist yet or be empty unless ``--overwrite``):

- ``<executed-stem>.ipynb``          the executed copy (``<stem>`` or ``<stem>__NAME=value__...`` for grids)
- ``<executed-stem>.handoff.jsonl``  what the notebook handed back: metrics (``helpers.report.record_metrics``),
                                     training histories, the values its checks measured, data sources
- ``<executed-stem>_files/``         files the notebook wrote (removed again when it stays empty)
- ``<executed-stem>.run.json``       its key (for --resume), status and reproducibility card (versions, device,
                                     seed, parameters, data sources with sha256; also in the notebook's metadata)
- ``summary.csv`` and ``summary.md`` one row per execution: status, wall time, parameters, metrics, data sources

The runner-notebook contract (``helpers.handoff``): before executing a notebook the runner writes its request (the
``_files/`` folder, whether a missed threshold is reported) into the handoff file and names that file in
``DLFB_HANDOFF_FILE`` in ``os.environ``; the papermill kernel inherits it and appends what it hands back.

Parameters file format (YAML)::

    EPOCHS: 1                 # a top-level name applies to each selected notebook that has that parameter
    SEED: 0                   # (a name no selected notebook has is an error that says where it exists)
    05_mlp:                   # a key naming a notebook stem holds parameters for that notebook only
      ACTIVATION: tanh

Presets (``--preset NAME``, listed by ``python -m helpers list``) are named parameter sets of
:mod:`helpers.course.presets`, thresholds included; a preset may also define a grid. Every selected notebook
must have the preset.

Precedence, lowest first: preset, file top level, file notebook section, ``-p``; ``--grid`` names may not also
be given with ``-p``. A parameter of ``-p``, ``--grid`` or a file's notebook section must exist in the
``parameters`` cell of each notebook it applies to, and its value must be one that cell's line declares: of its
type, inside its range (``[at least 1]``, ``[0 to below 1]``; no nan or inf), one of its choices (``["relu", "tanh"
or "sigmoid"]``, e.g. 05's ACTIVATION), None only where it ends in ``or None`` (see :mod:`helpers.parameters`; the
notebook's setup cell checks the same).

Limits, each a usage error before anything runs: a params file is a regular file of at most 100 kB, without YAML
anchors, aliases or tags, nested at most 8 deep, integers of at most 20 digits; a batch runs at most 1,000
executions unless ``--max-executions N`` raises the cap; the output folder may not be (or lie inside) a selected
notebook's folder. ``-p NAME VALUE`` refuses a VALUE that is an option of the runner (``-p PHOTO --overwrite``
forgot the value); ``-p NAME=--overwrite`` or ``-p NAME "'--overwrite'"`` sets that text.

Exit status: 0 all executions succeeded, 1 at least one failed, 2 invalid command line (nothing ran).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from helpers.course import presets
from helpers.course.run_record import Status
from helpers.course.runner import dask_batch
from helpers.course.runner.executors import ProcessPoolExecutor, SequentialExecutor, run_batch
from helpers.course.runner.planning import (DEFAULT_KERNEL, DEFAULT_MAX_EXECUTIONS, UsageError, check_kernel,
                                            check_output_folder, cut, discover_notebooks, format_value,
                                            notebook_parameters, plan_executions, prepare_output_dir)
from helpers.course.runner.results import earlier_executions, write_summary


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the ``list`` and ``run`` sub-commands (see :mod:`helpers.course.cli`)."""
    sub.add_parser("list", parents=[common], help="print the notebooks with their parameters and defaults",
                   description="Print every notebook with the parameters of its 'parameters' cell and their defaults."
                   ).set_defaults(handler=command_list)
    run_help = __doc__.split("\n\n", 1)[1].replace("``", "").replace("::", ":")
    run = sub.add_parser("run", parents=[common], help="execute notebooks and write a summary",
                         description=run_help, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                     help="stem (03_keras_basics), number (03 or 3) or path; default: all notebooks")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter (also: -p NAME VALUE); value parsed as YAML: 3, 0.5, true, text")
    run.add_argument("--params-file", type=Path, metavar="FILE.yaml",
                     help="YAML mapping NAME: value for every notebook, plus optional <stem>: {NAME: value} sections")
    run.add_argument("--preset", metavar="NAME",
                     help="run each notebook with its preset NAME (e.g. tutorial; see 'python -m helpers list')")
    run.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                     help="run every combination of the grid values (repeatable: cartesian product)")
    run.add_argument("--output", metavar="DIR", help="output folder (default: a new runs/<YYYYmmdd-HHMMSS>)")
    run.add_argument("--overwrite", action="store_true", help="allow writing into a non-empty output folder")
    run.add_argument("--jobs", type=int, default=1, metavar="N",
                     help="run N executions at a time, each pinned to its share of the CPU cores (default: 1)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="run on Dask distributed: 'local' (a LocalCluster of --jobs workers) or tcp://HOST:8786")
    run.add_argument("--resume", action="store_true",
                     help="in a non-empty --output folder, skip executions that finished ok there with the same "
                          "notebook, parameters and package versions; run failed, interrupted or changed ones")
    run.add_argument("--kernel", default=DEFAULT_KERNEL, help="Jupyter kernel name (default: %(default)s)")
    run.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                     help="stop a cell that runs longer than this (reported as 'timed out'); default: no limit")
    run.add_argument("--max-executions", type=positive_count, default=DEFAULT_MAX_EXECUTIONS, metavar="N",
                     help="refuse a batch of more than N executions, counted before any grid is expanded "
                          "(default: %(default)s)")
    run.set_defaults(handler=command_run)


def command_list(args: argparse.Namespace) -> int:
    """Print each notebook with its parameters, defaults and comments, then its presets."""
    for notebook in discover_notebooks(Path(args.notebooks_dir)):
        print(notebook.stem)
        params = notebook_parameters(notebook)
        texts = [f"{p.name}: {p.declaration.type} = {p.default}" if p.declaration and p.declaration.annotated
                 else f"{p.name} = {p.default}" for p in params]
        width = max(map(len, texts), default=0)
        for p, text in zip(params, texts):
            print(f"    {text:<{width}}  # {p.help}" if p.help else f"    {text}")
        if not params:
            print("    (no parameters cell)")
        for name, preset in presets.presets_for(notebook.stem).items():
            settings = [f"{k}={format_value(v)}" for k, v in preset.parameters.items()]
            settings += [f"{k}={','.join(map(format_value, v))}" for k, v in preset.grid.items()]
            print(f"  preset {name}: {preset.description}")
            if settings:
                print("      " + " ".join(settings))
            print(f"      python -m helpers run {notebook.stem[:2]} --preset {name}")
            if not preset.grid and preset.parameters:
                print(f"      {presets.papermill_command(notebook.stem, name)}")
    return 0


def positive_seconds(text: str) -> float:
    """argparse type of ``--timeout``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def positive_count(text: str) -> int:
    """argparse type of ``--max-executions``: a whole number of at least 1."""
    try:
        value = int(text) if len(text) <= 20 else 0
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {cut(repr(text), 60)}")
    return value


def command_run(args: argparse.Namespace) -> int:
    """Validate, execute every planned notebook, print and save the summary; 1 if any failed."""
    executions = plan_executions(args)
    check_output_folder(args.output, executions)
    check_kernel(args.kernel)
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if args.resume and args.output is None:
        raise UsageError("--resume needs --output: the folder of the run to resume")
    client = None
    if args.scheduler:  # connect before anything is written: an unreachable scheduler is a usage error
        client = dask_batch.connect(args.scheduler, args.jobs)
    output_dir = prepare_output_dir(args.output, args.overwrite or args.resume)
    print(f"Running {len(executions)} execution(s) into {output_dir}", flush=True)
    if client is not None:
        executor = dask_batch.DaskExecutor(client, output_dir, args.kernel, args.timeout)
    elif args.jobs > 1:
        executor = ProcessPoolExecutor(output_dir, args.kernel, args.timeout, args.jobs)
    else:
        executor = SequentialExecutor(output_dir, args.kernel, args.timeout)
    try:
        run_batch(executions, output_dir, executor, args.resume)
    finally:
        for e in executions:
            if e.status == Status.PENDING:
                e.status = Status.SKIPPED
        # Rebuilt from what is on disk: a resumed folder's summary also lists what earlier calls ran there.
        earlier = earlier_executions(output_dir, executions) if args.resume else []
        table = write_summary(executions + earlier, output_dir, args.kernel)
        print(table)
        print(f"\nSummary: {output_dir / 'summary.md'} and summary.csv", flush=True)
    return 1 if any(e.status != Status.OK for e in executions) else 0
