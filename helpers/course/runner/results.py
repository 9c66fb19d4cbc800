"""A batch's results: the summary table (summary.csv, summary.md), then the comparison report.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
from pathlib import Path
from typing import Any

from helpers.course import batch_report, run_record
from helpers.course.runner.execution import fill_from_record
from helpers.course.runner.planning import Execution, format_value


FIXED_COLUMNS = ("notebook", "parameters", "status", "wall_time_s", "error", "resumed", "seed", "device", "versions",
                 "data")


def metric_column(name: str) -> str:
    """Column name for a metric; prefixed with ``metric_`` when it would clash with a fixed column."""
    return f"metric_{name}" if name in FIXED_COLUMNS else name


def summary_rows(executions: list[Execution]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of the CSV summary: notebook, parameters, status, wall time, one column per metric, error."""
    metric_names = list(dict.fromkeys(name for e in executions for name in e.metrics))
    columns = ["notebook", "parameters", "status", "wall_time_s", *map(metric_column, metric_names), "error",
               "resumed", "seed", "device", "versions", "data"]
    rows = []
    for e in executions:
        row = {
            "notebook": e.notebook.stem,
            "parameters": " ".join([f"preset={e.preset}"] * (e.preset is not None)
                                   + [f"{k}={format_value(v)}" for k, v in e.parameters.items()]),
            "status": e.status,
            "wall_time_s": "" if e.wall_time is None else round(e.wall_time, 1),
            "error": e.error,
            "resumed": e.resumed,
            "seed": e.card.get("seed", ""),
            "device": e.card.get("device", ""),
            "versions": " ".join(f"{k}={v}" for k, v in e.card.get("versions", {}).items()),
            "data": run_record.data_sources_text(e.card),
        }
        row.update({metric_column(name): e.metrics.get(name, "") for name in metric_names})
        rows.append(row)
    return columns, rows


def compact_rows(executions: list[Execution]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of the printed / markdown summary: all of a notebook's metrics in one column.

    Notebooks record different metrics, so one column per metric would make a wide, mostly empty table.
    """
    columns = ["notebook", "parameters", "status", "wall_time_s", "metrics", "error", "data"]
    _, rows = summary_rows(executions)
    for row, e in zip(rows, executions):
        row["metrics"] = " ".join(f"{k}={format_value(v)}" for k, v in e.metrics.items())
        row["status"] = f"{e.status} (resumed)" if e.resumed else e.status
    return columns, rows


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Write the summary as CSV (metric values unrounded; lists/dicts as JSON)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()})


def markdown_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """Render rows as a GitHub-flavoured markdown table (values compact, ``|`` escaped)."""
    def cell(value: Any) -> str:
        return format_value(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def earlier_executions(output_dir: Path, planned: list[Execution]) -> list[Execution]:
    """The executions recorded in ``output_dir`` (their ``.run.json``) by earlier runs into the same folder
    and not planned now, so a summary rebuilt after ``--resume`` covers the whole folder, not this call only."""
    planned_stems = {e.stem for e in planned}
    earlier = []
    for path in sorted(Path(output_dir).glob(f"*{run_record.RECORD_SUFFIX}")):
        stem = path.name[: -len(run_record.RECORD_SUFFIX)]
        record = run_record.read_record(path)
        if stem in planned_stems or not record or "notebook" not in record:
            continue
        execution = Execution(Path(record["notebook"] + ".ipynb"), record.get("parameters") or {},
                              grid=record.get("grid") or {}, preset=record.get("preset"))
        fill_from_record(execution, record)
        execution.resumed = True
        earlier.append(execution)
    return earlier


def status_counts(executions: list[Execution]) -> str:
    """``"3 ok, 1 below expectation, 2 failed"``: how many executions ended in each status, in the order met."""
    counts: dict[str, int] = {}
    for e in executions:
        counts[e.status] = counts.get(e.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def write_summary(executions: list[Execution], output_dir: Path, kernel: str) -> str:
    """Write summary.csv and summary.md into ``output_dir``; return the markdown table."""
    write_csv(output_dir / "summary.csv", *summary_rows(executions))
    table = markdown_table(*compact_rows(executions))
    versions = ", ".join(f"{k} {v}" for k, v in run_record.package_versions().items())
    header = (f"# Run summary\n\n{len(executions)} execution(s): {status_counts(executions)}; kernel `{kernel}`; "
              f"finished {_dt.datetime.now():%Y-%m-%d %H:%M:%S}.\n\nDevice: {run_record.device()}. "
              f"Versions: {versions}. Each execution's parameters, seed, versions and data sources are in its "
              "`.run.json` and in its executed notebook's metadata (`dlfb`).\n\n")
    sources = run_record.data_sources_lines([e.card for e in executions])
    if sources:
        table += "\n\nData sources (sha256 of every file read):\n\n" + "\n".join(sources)
    (output_dir / "summary.md").write_text(header + table + "\n", encoding="utf-8")
    batch_report.write_report(output_dir, executions, header + table)
    return table
