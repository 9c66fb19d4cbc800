"""helpers.course.runner.executors: the one batch loop every mode shares, with a stand-in Executor (no kernel).

The real modes run notebooks in tests/test_course_runner.py (sequential, --jobs 2, Dask, and Ctrl-C in each).
"""

import copy
import csv
import io
import json

import pytest

from helpers.course import run_record
from helpers.course.run_record import Status
from helpers.course.runner import Execution
from helpers.course.runner.executors import Executor, run_batch
from helpers.course.runner.results import summary_rows


class StandIn(Executor):
    """Hands back the outcomes it is given, in order; optionally a Ctrl-C after the first ``interrupt_after``."""

    lost = "stand-in lost it"

    def __init__(self, outcomes, interrupt_after=None, after_stop=()):
        self.outcomes, self.interrupt_after, self.after_stop = outcomes, interrupt_after, after_stop
        self.started, self.stopped, self.closed = [], False, 0

    def results(self, todo, started):
        for n, execution in enumerate(todo):
            if n == self.interrupt_after:
                raise KeyboardInterrupt
            started(execution)
            self.started.append(execution.stem)
            yield execution, self.outcomes[execution.stem](execution)

    def stop(self, note):
        self.stopped = True
        note("stopping the stand-in")
        yield from self.after_stop

    def close(self):
        self.closed += 1


def finished(status, error="", **metrics):
    """An outcome: a copy of the execution as a worker would send it back."""
    def outcome(execution):
        done = copy.deepcopy(execution)
        done.status, done.error, done.wall_time, done.metrics = status, error, 1.25, metrics
        done.card = {"seed": "not a parameter"}
        return done
    return outcome


@pytest.fixture
def batch(tmp_path):
    notebooks = []
    for name in ("01_a", "02_b", "03_c"):
        path = tmp_path / f"{name}.ipynb"
        path.write_text(json.dumps({"cells": [], "name": name}))
        notebooks.append(Execution(path, {}))
    out = tmp_path / "out"
    out.mkdir()
    return notebooks, out


def test_outcomes_are_copied_back_and_failures_printed_once(batch, capsys):
    executions, out = batch
    executor = StandIn({"01_a": finished(Status.OK, score=3), "02_b": finished(Status.FAILED, "cell In [2]: ValueError"),
                        "03_c": lambda e: OSError("worker gone")})
    run_batch(executions, out, executor)
    assert [e.status for e in executions] == ["ok", "failed", "failed"]
    assert executions[0].metrics == {"score": 3} and executions[0].wall_time == 1.25
    assert executions[0].card == {"seed": "not a parameter"}
    assert executions[2].error == "stand-in lost it: OSError: worker gone"
    err = capsys.readouterr().err
    assert "FAILED 02_b: cell In [2]: ValueError" in err and "FAILED 03_c: stand-in lost it" in err
    assert "01_a:" not in err  # an ok execution is not printed
    assert executor.closed == 1 and not executor.stopped


def test_resume_runs_only_what_did_not_finish(batch):
    executions, out = batch
    run_record.write_record(run_record.record_path(out, "01_a"), {
        "key": executions[0].key, "status": "ok", "wall_time_s": 9.0, "error": "", "metrics": {"score": 1}, "card": {}})
    run_record.write_record(run_record.record_path(out, "02_b"), {"key": executions[1].key, "status": "running"})
    executor = StandIn({"02_b": finished(Status.OK), "03_c": finished(Status.OK)})
    run_batch(executions, out, executor, resume=True)
    assert executor.started == ["02_b", "03_c"]  # a record left 'running' was interrupted: run again
    assert executions[0].resumed and executions[0].status == Status.OK and executions[0].metrics == {"score": 1}


def test_ctrl_c_stops_the_executor_settles_what_comes_back_and_goes_on(batch, capsys):
    executions, out = batch
    late = copy.deepcopy(executions[1])
    late.status, late.error = Status.INTERRUPTED, "interrupted in cell In [3]; partial notebook kept"
    executor = StandIn({"01_a": finished(Status.OK)}, interrupt_after=1, after_stop=[(executions[1], late)])
    with pytest.raises(KeyboardInterrupt):
        run_batch(executions, out, executor)
    assert executor.stopped and executor.closed == 1
    assert [e.status for e in executions] == ["ok", "interrupted", "pending"]  # the command calls pending 'skipped'
    err = capsys.readouterr().err
    assert "stopping the stand-in" in err and "INTERRUPTED 02_b: interrupted in cell In [3]" in err


def test_statuses_are_the_eight_plain_strings_in_records_and_summaries(batch):
    assert [s.value for s in Status] == ["pending", "running", "ok", "below expectation", "failed", "timed out",
                                         "interrupted", "skipped"]
    assert f"{Status.TIMED_OUT}" == str(Status.TIMED_OUT) == "timed out" and Status.OK == "ok"
    assert json.dumps({"status": Status.BELOW_EXPECTATION}) == '{"status": "below expectation"}'
    assert Status.of("running") is Status.INTERRUPTED and Status.of("ok") is Status.OK
    executions, _ = batch
    executions[0].status = Status.BELOW_EXPECTATION
    columns, rows = summary_rows(executions[:1])
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writerows(rows)
    assert ",below expectation," in text.getvalue()
