"""A batch's comparison: learning curves overlaid, metrics against the varied parameters, slowest cells.

After a run, :func:`write_report` adds to the output folder

- ``curves_<model>.png``: the validation curves (loss, and accuracy where recorded) of every execution that
  trained a model of that name, overlaid (the notebooks' :class:`helpers.training.EpochLine` hands each
  training's history back in the execution's ``<stem>.handoff.jsonl``, see :mod:`helpers.handoff`);
- ``<metric>_vs_<PARAMETER>.png``: each numeric metric against each parameter the batch varied;
- ``report.md``: the summary table, the figures, and each execution's slowest cells (papermill's per-cell
  durations), which show where a notebook spends its time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from helpers import handoff  # the runner-notebook contract (pure Python: the runner must not import Keras)

MAX_CURVE_FIGURES = 12


def histories(output_dir: Path, stem: str) -> dict[str, dict[str, list[float]]]:
    """The training histories an execution handed back: ``{model name: {metric: [per-epoch values]}}``."""
    return handoff.read(handoff.handoff_path(output_dir, stem)).histories


def slowest_cells(executed: Path, n: int = 3) -> list[tuple[float, str]]:
    """The ``n`` slowest code cells of an executed notebook: ``(seconds, "In [k]: first line")``."""
    try:
        cells = json.loads(Path(executed).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return []
    timed = []
    for cell in cells:
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if cell.get("cell_type") != "code" or duration is None:
            continue
        source = "".join(cell.get("source", ""))
        first = next((line for line in source.splitlines() if line.strip() and not line.startswith("#")), "")
        timed.append((float(duration), f"In [{cell.get('execution_count')}]: {first.strip()[:70]}"))
    return sorted(timed, reverse=True)[:n]


def varied_parameters(executions) -> list[str]:
    """Parameter names whose value differs between executions of the same notebook."""
    varied = []
    by_notebook: dict[str, list] = {}
    for e in executions:
        by_notebook.setdefault(e.notebook.stem, []).append(e)
    for group in by_notebook.values():
        for name in dict.fromkeys(n for e in group for n in e.parameters):
            values = {json.dumps(e.parameters.get(name), sort_keys=True, default=str) for e in group}
            if len(values) > 1 and name not in varied:
                varied.append(name)
    return varied


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (the runner draws figures for files, never a window)."""
    import matplotlib  # heavy: loaded only when a batch report draws figures

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    """Lay out ``fig``, write it to ``path`` (PNG, 80 dpi), close it; return ``path``."""
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "model"


def label(execution) -> str:
    """Short legend label: the notebook number and the grid values (or the notebook stem)."""
    values = " ".join(f"{k}={v}" for k, v in execution.grid.items())
    return f"{execution.notebook.stem[:2]} {values}".strip() if values else execution.notebook.stem


def plot_curves(output_dir: Path, executions) -> list[Path]:
    """One figure per model name: every execution's validation loss (and accuracy) per epoch, overlaid."""
    plt = _pyplot()
    per_model: dict[str, list[tuple[str, dict]]] = {}
    for e in executions:
        for model, history in histories(output_dir, e.stem).items():
            per_model.setdefault(model, []).append((label(e), history))
    paths = []
    for model, runs in list(per_model.items())[:MAX_CURVE_FIGURES]:
        metrics = [m for m in ("val_loss", "val_accuracy") if any(m in h for _, h in runs)]
        metrics = metrics or [m for m in ("loss", "accuracy") if any(m in h for _, h in runs)]
        if not metrics:
            continue
        fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.6), squeeze=False)
        for ax, metric in zip(axes[0], metrics):
            for name, history in runs:
                if metric in history:
                    ax.plot(range(1, len(history[metric]) + 1), history[metric], marker=".", label=name)
            ax.set_xlabel("epoch")
            ax.set_title(f"{model}: {metric}")
            ax.legend(fontsize=7)
        paths.append(_save(plt, fig, Path(output_dir) / f"curves_{_safe(model)}.png"))
    return paths


def plot_metrics_vs_parameters(output_dir: Path, executions) -> list[Path]:
    """For each varied parameter with orderable values and each numeric metric: metric against parameter."""
    plt = _pyplot()
    paths = []
    finished = [e for e in executions if e.metrics]
    for name in varied_parameters(finished):
        metrics = dict.fromkeys(m for e in finished for m, v in e.metrics.items()
                                if isinstance(v, (int, float)) and not isinstance(v, bool))
        for metric in metrics:
            points = [(e.parameters.get(name), e.metrics[metric], e) for e in finished
                      if metric in e.metrics and name in e.parameters]
            if len({json.dumps(p[0], default=str) for p in points}) < 2:
                continue
            fig, ax = plt.subplots(figsize=(5, 3.4))
            numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x, _, _ in points)
            xs = [x if numeric else str(x) for x, _, _ in points]
            ax.plot(xs, [y for _, y, _ in points], "o")
            ax.set_xlabel(name)
            ax.set_ylabel(metric)
            ax.set_title(f"{metric} vs {name}")
            paths.append(_save(plt, fig, Path(output_dir) / f"{_safe(metric)}_vs_{_safe(name)}.png"))
    return paths


def write_report(output_dir: Path, executions, summary_markdown: str) -> Path:
    """Write ``report.md``: the summary, the comparison figures, and each execution's slowest cells."""
    output_dir = Path(output_dir)
    figures = plot_curves(output_dir, executions) + plot_metrics_vs_parameters(output_dir, executions)
    lines = ["# Batch report", "", summary_markdown.split("\n", 1)[-1].strip(), ""]
    if figures:
        lines += ["## Figures", ""] + [f"![{p.stem}]({p.name})" for p in figures] + [""]
    lines += ["## Slowest cells", "", "| execution | seconds | cell |", "|---|---|---|"]
    for e in executions:
        for seconds, cell in slowest_cells(output_dir / f"{e.stem}.ipynb"):
            lines.append(f"| {e.stem} | {seconds:.1f} | `{cell.replace('|', '/')}` |")
    path = output_dir / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

